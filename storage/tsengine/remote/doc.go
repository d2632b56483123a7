// Package remote implements tsengine.Engine on an InfluxDB 1.x instance
// over its HTTP API (/write, /query, /ping), for deployments where one
// machine is not enough and databases are placed on several instances.
//
// Writes are gzipped InfluxDB 1.x line protocol with nanosecond
// timestamps, acknowledged when influxd answers 204 (after its WAL
// fsync). Answers are mapped onto tsengine's errors: "partial write"
// -> *tsengine.PartialWriteError, a missing database ->
// tsengine.ErrDatabaseNotFound, connection failures and 5xx ->
// tsengine.ErrUnavailable. Query answers are decoded with UseNumber so
// numbers are json.Number, exactly as the embedded engine returns them.
//
// The tests against a real influxd run when KODO_TEST_INFLUX_URL is set;
// .ci/influxd.sh starts one.
package remote
