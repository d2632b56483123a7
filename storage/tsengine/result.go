package tsengine

// HasEmptyResult reports whether a statement answered neither series nor
// error. The engines then check that the database exists, because InfluxDB
// answers SHOW MEASUREMENTS and the like on a missing database with nothing.
func HasEmptyResult(res []Result) bool {
	for _, r := range res {
		if len(r.Series) == 0 && r.Err == "" {
			return true
		}
	}
	return len(res) == 0
}
