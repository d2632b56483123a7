package tsengine

import (
	"fmt"
	"time"
)

// EpochError reports a QueryOptions.Epoch no engine understands.
type EpochError struct{ Epoch string }

func (e *EpochError) Error() string {
	return fmt.Sprintf("unknown epoch %q: use ns, u, ms, s, m, h or empty for RFC3339 strings", e.Epoch)
}

// EpochUnit returns the duration one unit of epoch stands for ("ns" -> 1ns,
// "h" -> 1h) and 0 for "" (RFC3339 strings). InfluxDB's spellings "n" and
// "µ" are accepted too.
func EpochUnit(epoch string) (time.Duration, error) {
	switch epoch {
	case "":
		return 0, nil
	case "ns", "n":
		return time.Nanosecond, nil
	case "u", "µ", "us":
		return time.Microsecond, nil
	case "ms":
		return time.Millisecond, nil
	case "s":
		return time.Second, nil
	case "m":
		return time.Minute, nil
	case "h":
		return time.Hour, nil
	}
	return 0, &EpochError{Epoch: epoch}
}
