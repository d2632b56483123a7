package tsengine

import (
	"errors"
	"fmt"
	"time"
)

// MinRetentionDuration is the shortest finite retention InfluxDB 1.x
// accepts; both engines refuse shorter ones up front with a clear error
// instead of InfluxDB's terse "retention policy duration must be at least 1h0m0s".
const MinRetentionDuration = time.Hour

// ErrInvalidRetentionPolicy is wrapped by every *RetentionPolicyError.
var ErrInvalidRetentionPolicy = errors.New("invalid retention policy")

// ErrRetentionPolicyNotFound is returned when a write names a retention
// policy that does not exist in the database.
var ErrRetentionPolicyNotFound = errors.New("retention policy not found")

// RetentionPolicyError says which retention policy of a CreateDatabase call
// is unacceptable and why.
type RetentionPolicyError struct {
	Database string
	Name     string
	Reason   string
}

func (e *RetentionPolicyError) Error() string {
	return fmt.Sprintf("retention policy %q on database %q: %s", e.Name, e.Database, e.Reason)
}

// Unwrap lets errors.Is(err, ErrInvalidRetentionPolicy) match.
func (e *RetentionPolicyError) Unwrap() error { return ErrInvalidRetentionPolicy }

// ValidateRetentionPolicies checks the arguments of CreateDatabase the same
// way for every engine: a non-empty database name, non-empty unique RP
// names, durations of 0 (forever) or at least MinRetentionDuration, and at
// most one default.
func ValidateRetentionPolicies(db string, rps []RetentionPolicy) error {
	if db == "" {
		return errors.New("tsengine: database name is empty")
	}
	seen := make(map[string]bool, len(rps))
	defaults := 0
	for _, rp := range rps {
		switch {
		case rp.Name == "":
			return &RetentionPolicyError{Database: db, Reason: "name is empty"}
		case seen[rp.Name]:
			return &RetentionPolicyError{Database: db, Name: rp.Name, Reason: "listed twice"}
		case rp.Duration < 0:
			return &RetentionPolicyError{Database: db, Name: rp.Name, Reason: fmt.Sprintf("duration %s is negative; use 0 to keep data forever", rp.Duration)}
		case rp.Duration > 0 && rp.Duration < MinRetentionDuration:
			return &RetentionPolicyError{Database: db, Name: rp.Name, Reason: fmt.Sprintf("duration %s is below the minimum of %s (0 keeps data forever)", rp.Duration, MinRetentionDuration)}
		}
		seen[rp.Name] = true
		if rp.Default {
			defaults++
		}
	}
	if defaults > 1 {
		return &RetentionPolicyError{Database: db, Reason: fmt.Sprintf("%d policies are marked default; at most one may be", defaults)}
	}
	return nil
}

// ShardGroupDuration is the shard group duration both engines give a
// retention policy of duration d. It follows InfluxDB's own defaults (1h
// below 2 days, 1 day up to 6 months, 7 days beyond and for forever) and is
// set explicitly so that shortening an existing policy never fails on
// InfluxDB's "duration must be greater than the shard duration" rule.
func ShardGroupDuration(d time.Duration) time.Duration {
	const day = 24 * time.Hour
	switch {
	case d == 0 || d >= 180*day:
		return 7 * day
	case d >= 2*day:
		return day
	default:
		return time.Hour
	}
}
