package clickhouse

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClusterReplicates runs the -clickhouse-cluster path against two
// ClickHouse 18.16 replicas and ZooKeeper (.ci/clickhouse-cluster.sh):
// tables are made ON CLUSTER as ReplicatedReplacingMergeTree, rows written
// through one replica are read through the other, a point written twice
// (on either replica) counts once, and a drop reaches both.
func TestClusterReplicates(t *testing.T) {
	dsns := strings.Split(os.Getenv("KODO_TEST_CLICKHOUSE_CLUSTER_DSNS"), ",")
	if len(dsns) != 2 {
		t.Skip("KODO_TEST_CLICKHOUSE_CLUSTER_DSNS (two replicas) is not set; start them with `.ci/clickhouse-cluster.sh start`")
	}
	ctx := context.Background()
	open := func(dsn string) *Store {
		s, err := Open(ctx, dsn, Options{Cluster: "kodo"})
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}
	r1, r2 := open(dsns[0]), open(dsns[1])
	db := uniqueDB(t, rawConn(t, dsns[0]))
	t.Cleanup(func() {
		_ = rawConn(t, dsns[0]).Exec(ctx, "DROP DATABASE IF EXISTS "+QuoteIdent(db)+" ON CLUSTER kodo")
	})
	body := "cpu,host=a v=1 1000\ncpu,host=b v=2 1000\n"
	require.NoError(t, r1.WritePoints(ctx, db, batchOf(t, body)))
	require.NoError(t, r1.WritePoints(ctx, db, batchOf(t, body)))                    // a retry
	require.NoError(t, r2.WritePoints(ctx, db, batchOf(t, body)))                    // a redelivery to the other replica
	require.NoError(t, r2.WritePoints(ctx, db, batchOf(t, "cpu,host=c v=3 2000\n"))) // a new point there

	count := func(s *Store) int64 {
		res, err := s.Read(ctx, db, ReadRequest{Command: "SELECT count() FROM cpu"})
		if err != nil {
			return -1
		}
		n, _ := res.Series[0].Values[0][0].(uint64)
		return int64(n)
	}
	for i, s := range []*Store{r1, r2} {
		assert.Eventually(t, func() bool { return count(s) == 3 }, 30*time.Second, 50*time.Millisecond, "replica %d counts each point once", i+1)
	}
	tables, err := r2.Tables(ctx, db, TypeTable)
	require.NoError(t, err)
	assert.Equal(t, []Table{{"cpu", "ReplicatedReplacingMergeTree"}}, tables)

	require.NoError(t, r1.DropTable(ctx, db, "cpu"))
	assert.Eventually(t, func() bool { return count(r2) == -1 }, 30*time.Second, 50*time.Millisecond, "the drop reached the other replica")
}
