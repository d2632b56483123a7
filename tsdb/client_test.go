package tsdb

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/tsdb/tsdbapi"
	"github.com/kodo-project/kodo/tsdb/tsdbclient"
)

// TestClientRoundTrip drives every Client method against a real server
// (httptest) running the Service on the embedded engine.
func TestClientRoundTrip(t *testing.T) {
	eng := openEngine(t)
	f := newFixture(t, eng, nil)
	srv := httptest.NewServer(f.svc.Handler())
	t.Cleanup(srv.Close)
	c, err := tsdbclient.NewClient(srv.URL, testAK, testSK, nil)
	require.NoError(t, err)
	ctx := context.Background()

	require.NoError(t, c.CreateRepo(ctx, "metrics", tsdbapi.CreateRepoInput{Region: "nb", Metadata: map[string]string{"team": "ops"}}))
	repo, err := c.GetRepo(ctx, "metrics")
	require.NoError(t, err)
	assert.Equal(t, "metrics", repo.Name)
	assert.Equal(t, map[string]string{"team": "ops"}, repo.Metadata)
	assert.Equal(t, "false", repo.Deleting)
	_, err = time.Parse(time.RFC3339Nano, repo.CreateTime)
	assert.NoError(t, err)

	repos, err := c.ListRepos(ctx)
	require.NoError(t, err)
	require.Len(t, repos, 1)

	require.NoError(t, c.UpdateRepoMetadata(ctx, "metrics", map[string]string{"team": "db"}))
	repo, _ = c.GetRepo(ctx, "metrics")
	assert.Equal(t, map[string]string{"team": "db"}, repo.Metadata)
	require.NoError(t, c.DeleteRepoMetadata(ctx, "metrics"))
	repo, _ = c.GetRepo(ctx, "metrics")
	assert.Empty(t, repo.Metadata)

	require.NoError(t, c.CreateSeries(ctx, "metrics", "cpu", tsdbapi.CreateSeriesInput{Retention: "7d", Metadata: map[string]string{"unit": "%"}}))
	se, err := c.GetSeries(ctx, "metrics", "cpu")
	require.NoError(t, err)
	assert.Equal(t, tsdbapi.SeriesInfo{Name: "cpu", Retention: "7d", Metadata: map[string]string{"unit": "%"}, CreateTime: se.CreateTime, Type: "1", Deleting: "false"}, se)
	list, err := c.ListSeries(ctx, "metrics", false)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Nil(t, list[0].Metadata)
	list, err = c.ListSeries(ctx, "metrics", true)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"unit": "%"}, list[0].Metadata)
	require.NoError(t, c.UpdateSeriesMetadata(ctx, "metrics", "cpu", map[string]string{"unit": "ratio"}))
	se, _ = c.GetSeries(ctx, "metrics", "cpu")
	assert.Equal(t, map[string]string{"unit": "ratio"}, se.Metadata)
	require.NoError(t, c.DeleteSeriesMetadata(ctx, "metrics", "cpu"))
	se, _ = c.GetSeries(ctx, "metrics", "cpu")
	assert.Empty(t, se.Metadata)

	now := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	res, err := c.WritePoints(ctx, "metrics", []byte("cpu,host=a usage=0.5 "+itoa(now.UnixNano())+"\n"))
	require.NoError(t, err)
	assert.Zero(t, res.Dropped)

	ret, err := c.Query(ctx, "metrics", "SELECT usage FROM cpu", tsdbclient.QueryOptions{})
	require.NoError(t, err)
	require.Len(t, ret.Results, 1)
	require.Len(t, ret.Results[0].Series, 1)
	assert.Equal(t, []any{now.UTC().Format(time.RFC3339Nano), 0.5}, ret.Results[0].Series[0].Values[0])
	// The same instant written as +08 wall time.
	wall := now.UTC().Add(8 * time.Hour).Format(time.RFC3339Nano)
	ret, err = c.Query(ctx, "metrics", "SELECT usage FROM cpu WHERE time = '"+wall+"'", tsdbclient.QueryOptions{Timezone: "+08"})
	require.NoError(t, err)
	require.Len(t, ret.Results[0].Series, 1)

	require.NoError(t, c.CreateView(ctx, "metrics", "peak", tsdbapi.CreateViewInput{SQL: "SELECT max(usage) FROM cpu", Retention: "30d", Metadata: map[string]string{"k": "v"}}))
	v, err := c.GetView(ctx, "metrics", "peak")
	require.NoError(t, err)
	assert.Equal(t, "30d", v.Retention)
	views, err := c.ListViews(ctx, "metrics")
	require.NoError(t, err)
	require.Len(t, views, 1)
	require.NoError(t, c.DeleteView(ctx, "metrics", "peak"))

	// Typed errors carry the code.
	_, err = c.GetSeries(ctx, "metrics", "nope")
	var apiErr *tsdbapi.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 404, apiErr.Status)
	assert.Equal(t, "E6303", apiErr.Code)
	assert.Contains(t, apiErr.Message, "Series does not exist")
	assert.True(t, errors.Is(err, &tsdbapi.Error{Code: "E6303"}))
	assert.False(t, errors.Is(err, &tsdbapi.Error{Code: "E6302"}))
	assert.Equal(t, "E6303", tsdbapi.CodeOf(err))

	_, err = c.WritePoints(ctx, "metrics", []byte("mem v=1\n"))
	assert.Equal(t, "E6303", tsdbapi.CodeOf(err))

	require.NoError(t, c.DeleteSeries(ctx, "metrics", "cpu"))
	require.NoError(t, c.DeleteRepo(ctx, "metrics"))
	f.waitIdle()
	_, err = c.GetRepo(ctx, "metrics")
	assert.Equal(t, "E6004", tsdbapi.CodeOf(err))

	// A wrong secret is a 401 without a code.
	bad, err := tsdbclient.NewClient(srv.URL, testAK, "wrong", nil)
	require.NoError(t, err)
	_, err = bad.ListRepos(ctx)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, &tsdbapi.Error{Status: 401, Message: "bad token"}, apiErr)
}
