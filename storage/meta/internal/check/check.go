package check

import (
	"fmt"
	"slices"
	"time"

	"github.com/kodo-project/kodo/storage/meta"
)

// WorkspaceKey and DatabaseKey name records in *meta.Error keys.
func WorkspaceKey(uuid string) string { return fmt.Sprintf("workspace %q", uuid) }

// DatabaseKey names a database in *meta.Error keys.
func DatabaseKey(uuid string) string { return fmt.Sprintf("database %q", uuid) }

// DatakitIDs validates DatakitOnline's arguments and returns the ids sorted
// and deduplicated: a fixed lock order keeps concurrent upserts free of
// deadlocks on PostgreSQL.
func DatakitIDs(op, workspaceUUID string, ids []string, t time.Time) ([]string, error) {
	if workspaceUUID == "" {
		return nil, meta.Invalid(op, WorkspaceKey(workspaceUUID), "empty workspace UUID")
	}
	if t.IsZero() {
		return nil, meta.Invalid(op, WorkspaceKey(workspaceUUID), "zero time")
	}
	out := slices.Clone(ids)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > 0 && out[0] == "" {
		return nil, meta.Invalid(op, WorkspaceKey(workspaceUUID), "empty datakit UUID")
	}
	return out, nil
}

// MeasurementKeys validates SetMeasurementRPs' arguments and returns the
// measurements sorted (same lock-order reason as DatakitIDs).
func MeasurementKeys(op, dbUUID string, rpByMeasurement map[string]string) ([]string, error) {
	if dbUUID == "" {
		return nil, meta.Invalid(op, DatabaseKey(dbUUID), "empty database UUID")
	}
	keys := make([]string, 0, len(rpByMeasurement))
	for m, rp := range rpByMeasurement {
		if m == "" || rp == "" {
			return nil, meta.Invalid(op, DatabaseKey(dbUUID), fmt.Sprintf("empty measurement or RP in pair %q -> %q", m, rp))
		}
		keys = append(keys, m)
	}
	slices.Sort(keys)
	return keys, nil
}

// Dropping validates AddDropping's arguments.
func Dropping(op, dbUUID, measurement string) error {
	if dbUUID == "" || measurement == "" {
		return meta.Invalid(op, DropKey(dbUUID, measurement), "empty database UUID or measurement")
	}
	return nil
}

// DropKey names a dropping record in *meta.Error keys.
func DropKey(dbUUID, measurement string) string {
	return fmt.Sprintf("dropping measurement %q of database %q", measurement, dbUUID)
}
