package embedded

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/storage/docs"
)

func TestPipelinesDurable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p, err := OpenPipelines(dir)
	require.NoError(t, err)
	require.NoError(t, p.SetPipeline(ctx, docs.Pipeline{WorkspaceUUID: "w", Source: "nginx", URL: "http://a"}))
	require.NoError(t, p.SetPipeline(ctx, docs.Pipeline{WorkspaceUUID: "w", Source: "nginx", URL: "http://b"}))
	require.NoError(t, p.SetPipeline(ctx, docs.Pipeline{WorkspaceUUID: "w", Source: "redis", URL: "http://c"}))
	assert.ErrorIs(t, p.SetPipeline(ctx, docs.Pipeline{WorkspaceUUID: "w", URL: "http://c"}), docs.ErrInvalid)
	require.NoError(t, p.Close())

	p, err = OpenPipelines(dir)
	require.NoError(t, err)
	defer p.Close()
	got, ok, err := p.Pipeline(ctx, "w", "nginx")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, docs.Pipeline{WorkspaceUUID: "w", Source: "nginx", URL: "http://b"}, got)
	_, ok, err = p.Pipeline(ctx, "w", "mysql")
	require.NoError(t, err)
	assert.False(t, ok)
	require.NoError(t, p.SetPipeline(ctx, docs.Pipeline{WorkspaceUUID: "w", Source: "redis"}))
	_, ok, err = p.Pipeline(ctx, "w", "redis")
	require.NoError(t, err)
	assert.False(t, ok, "an empty url removes the pipeline")
}

// TestReopenKeepsDocuments checks that acknowledged writes survive a
// close and reopen, and that new ids do not collide with old ones.
func TestReopenKeepsDocuments(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	require.NoError(t, err)
	lines, _ := benchLines(10, 0)
	require.NoError(t, s.Write(ctx, "w", docs.KindLogging, lines))
	require.NoError(t, s.Close())
	s, err = Open(dir, Options{})
	require.NoError(t, err)
	defer s.Close()
	more, _ := benchLines(10, 1)
	require.NoError(t, s.Write(ctx, "w", docs.KindLogging, more))
	res, err := s.Search(ctx, docs.SearchRequest{WorkspaceUUID: "w", Kind: docs.KindLogging, Query: "id"})
	require.NoError(t, err)
	assert.EqualValues(t, 20, res.Total)
}
