// Package warm is temporary: it pins dependencies until the real packages import them.
package warm

import (
	_ "github.com/google/uuid"
	_ "github.com/influxdata/influxdb/coordinator"
	_ "github.com/influxdata/influxdb/query"
	_ "github.com/influxdata/influxdb/services/continuous_querier"
	_ "github.com/influxdata/influxdb/services/meta"
	_ "github.com/influxdata/influxdb/services/retention"
	_ "github.com/influxdata/influxdb/tsdb"
	_ "github.com/influxdata/influxdb/tsdb/engine"
	_ "github.com/influxdata/influxdb/tsdb/index"
	_ "github.com/influxdata/influxql"
	_ "github.com/influxdata/line-protocol/v2/lineprotocol"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"
)
