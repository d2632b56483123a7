package tsdb

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kodo-project/kodo/storage/meta/sqlite"
	"github.com/kodo-project/kodo/tsdb/tsdbapi"
)

// TestSQLiteStoreAndResume runs the service on the real SQLite meta store
// and checks that a deletion cut short by Close resumes at the next start.
func TestSQLiteStoreAndResume(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "meta.db")
	st, err := sqlite.Open(ctx, path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	eng := openEngine(t)

	svc, err := NewService(Config{Store: st, Engine: eng, Logger: testLogger(t)})
	require.NoError(t, err)
	require.NoError(t, svc.EnsureKeyPair(ctx, testAK, testSK))
	f := &fixture{svc: svc, eng: eng, clock: &clock{}, h: svc.Handler()}
	mustOK(t, f.call("POST", "/v4/repos/keep", `{"region":"nb","metadata":{"a":"b"}}`))
	mustOK(t, f.call("POST", "/v4/repos/keep/series/cpu", `{"retention":"3d"}`))
	mustOK(t, f.call("POST", "/v4/repos/keep/points", []byte("cpu v=1\n")))
	mustOK(t, f.call("POST", "/v4/repos/gone", `{"region":"nb"}`))
	mustErr(t, f.call("POST", "/v4/repos/keep", `{"region":"nb"}`), tsdbapi.CodeRepoExists)
	require.NoError(t, svc.Close())

	// A deletion recorded but not carried out (the process died first).
	r, err := st.PandoraRepo(ctx, testAK, "gone")
	require.NoError(t, err)
	r.Deleting = true
	require.NoError(t, st.UpdatePandoraRepo(ctx, r))

	svc2, err := NewService(Config{Store: st, Engine: eng, Logger: testLogger(t)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc2.Close() })
	svc2.Wait()
	_, err = st.PandoraRepo(ctx, testAK, "gone")
	assert.ErrorIs(t, err, ErrNotFound, "the resumed deletion removed the record")

	f2 := &fixture{svc: svc2, eng: eng, clock: &clock{}, h: svc2.Handler()}
	ret := queryRet(t, f2.call("GET", "/v4/repos/keep/query?q=SELECT+count(v)+FROM+cpu", nil))
	assert.Equal(t, float64(1), ret.Results[0].Series[0].Values[0][1])
	var info tsdbapi.RepoInfo
	a := f2.call("GET", "/v4/repos/keep", nil)
	mustOK(t, a)
	require.NoError(t, jsonUnmarshal(a.Body, &info))
	assert.Equal(t, map[string]string{"a": "b"}, info.Metadata)
}

// TestSeriesLimitUnderConcurrentCreation: racing creations of distinct
// series never take a repo past MaxSeriesPerRepo (E6308 for the rest).
func TestSeriesLimitUnderConcurrentCreation(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "meta.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	eng := openEngine(t)
	const limit, n = 10, 24
	svc, err := NewService(Config{Store: st, Engine: eng, Logger: testLogger(t), MaxSeriesPerRepo: limit})
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })
	require.NoError(t, svc.EnsureKeyPair(ctx, testAK, testSK))
	f := &fixture{svc: svc, eng: eng, clock: &clock{}, h: svc.Handler()}
	mustOK(t, f.call("POST", "/v4/repos/r", `{"region":"nb"}`))
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = f.call("POST", fmt.Sprintf("/v4/repos/r/series/s%d", i), `{"retention":"1d"}`)
		}()
	}
	wg.Wait()
	created := 0
	for _, a := range answers {
		if a.Status == 200 {
			created++
			continue
		}
		mustErr(t, a, tsdbapi.CodeSeriesLimit)
	}
	assert.Equal(t, limit, created)
	list, err := st.PandoraSeriesList(ctx, testAK, "r")
	require.NoError(t, err)
	assert.Len(t, list, limit)
}
