package kodo

import (
	"slices"

	iql "github.com/influxdata/influxql"

	"github.com/kodo-project/kodo/storage/meta"
)

// protectRPs refuses a DROP RETENTION POLICY of a policy the database's
// record names (its default, its CQ RP, its RP list): Kodo writes, CQs
// and get_rp rely on them, and without one every later write to it would
// fail. Policies the tenant created itself may be dropped.
func protectRPs(db meta.Database, q *iql.Query) error {
	for i, st := range q.Statements {
		drop, ok := st.(*iql.DropRetentionPolicyStatement)
		if !ok {
			continue
		}
		if drop.Name == db.DefaultRP || drop.Name == db.CQRP || slices.Contains(db.RPs, drop.Name) {
			return Errorf(ErrForbidden,
				"statement %d: retention policy %q is one of this database's configured policies (default %q, CQ %q, list %v) and cannot be dropped; change the list with POST /v1/modify/dbrp",
				i+1, drop.Name, db.DefaultRP, db.CQRP, db.RPs)
		}
	}
	return nil
}
