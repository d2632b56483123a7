package lineproto

import (
	"fmt"
	"time"
)

// Precision is the unit of the timestamps in a line-protocol body, as
// chosen by the writer with InfluxDB's `precision=` parameter.
type Precision uint8

// The precisions InfluxDB 1.x accepts. The zero value is Nanosecond so a
// zero ParseOptions reads nanosecond timestamps, like influxd.
const (
	Nanosecond Precision = iota
	Microsecond
	Millisecond
	Second
	Minute
	Hour
)

// multipliers holds the nanoseconds per unit, indexed by Precision.
var multipliers = [...]int64{
	Nanosecond:  1,
	Microsecond: int64(time.Microsecond),
	Millisecond: int64(time.Millisecond),
	Second:      int64(time.Second),
	Minute:      int64(time.Minute),
	Hour:        int64(time.Hour),
}

var precisionNames = [...]string{
	Nanosecond:  "ns",
	Microsecond: "us",
	Millisecond: "ms",
	Second:      "s",
	Minute:      "m",
	Hour:        "h",
}

// ParsePrecision parses the value of a `precision=` parameter or an
// X-Precision header. The empty string means nanoseconds.
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "", "n", "ns":
		return Nanosecond, nil
	case "u", "us", "µ", "µs", "μ", "μs": // micro sign and Greek mu both occur in the wild
		return Microsecond, nil
	case "ms":
		return Millisecond, nil
	case "s":
		return Second, nil
	case "m":
		return Minute, nil
	case "h":
		return Hour, nil
	}
	return Nanosecond, fmt.Errorf("lineproto: unknown precision %q (want one of n, ns, u, us, ms, s, m, h)", s)
}

// String returns the canonical short name: ns, us, ms, s, m or h.
func (p Precision) String() string {
	if int(p) < len(precisionNames) {
		return precisionNames[p]
	}
	return fmt.Sprintf("Precision(%d)", uint8(p))
}

// Duration returns the length of one unit, e.g. time.Second for Second.
// An unknown precision counts as Nanosecond.
func (p Precision) Duration() time.Duration {
	return time.Duration(p.multiplier())
}

func (p Precision) multiplier() int64 {
	if int(p) < len(multipliers) {
		return multipliers[p]
	}
	return 1
}

// Valid reports whether p is one of the defined precisions.
func (p Precision) Valid() bool { return int(p) < len(multipliers) }

// InfluxDB 1.x keeps MinInt64 and MinInt64+1 as sentinels and MaxInt64 as
// "no time", so timestamps must lie in [MinTime, MaxTime].
const (
	MinTime int64 = -1<<63 + 2
	MaxTime int64 = 1<<63 - 2
)

// toNanos converts ts units of p to nanoseconds, reporting false on
// overflow or when the result is outside [MinTime, MaxTime].
func (p Precision) toNanos(ts int64) (int64, bool) {
	m := p.multiplier()
	if ts > MaxTime/m || ts < MinTime/m {
		return 0, false
	}
	return ts * m, true
}
