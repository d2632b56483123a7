package meta

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Error describes a failed Store operation. Kind is one of ErrNotFound,
// ErrConflict or ErrInvalid (nil for a backend failure such as a lost
// connection), so callers map it to an HTTP status with errors.Is; Err keeps
// the cause (a driver error or the validation detail) for the log.
type Error struct {
	Op   string // the Store method, e.g. "CreateWorkspace"
	Key  string // the record concerned, e.g. `workspace "wksp_…"`; may be ""
	Kind error  // ErrNotFound, ErrConflict, ErrInvalid or nil
	Err  error  // the cause; may be nil
}

// Error renders "meta: Op Key: kind: cause", leaving out empty parts.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("meta: ")
	b.WriteString(e.Op)
	if e.Key != "" {
		b.WriteString(" ")
		b.WriteString(e.Key)
	}
	if e.Kind != nil {
		b.WriteString(": ")
		b.WriteString(e.Kind.Error())
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap exposes both the kind and the cause to errors.Is / errors.As.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// invalid builds the ErrInvalid error of a validation step.
func invalid(op, key, format string, args ...any) error {
	return &Error{Op: op, Key: key, Kind: ErrInvalid, Err: fmt.Errorf(format, args...)}
}

// required returns the ErrInvalid error "empty <name>" for the first empty
// value of the (value, name) pairs, or nil: the check every record's
// Validate starts with.
func required(op, key string, pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i] == "" {
			return invalid(op, key, "empty %s", pairs[i+1])
		}
	}
	return nil
}

// Validate reports an ErrInvalid *Error when a required field is empty.
// The stores call it before touching the backend, so a bad request never
// turns into a half-written record or an opaque constraint error.
func (w Workspace) Validate(op string) error {
	return required(op, fmt.Sprintf("workspace %q", w.UUID), w.UUID, "workspace UUID", w.Token, "token")
}

// Validate reports an ErrInvalid *Error when a required field is empty or
// RPs holds an empty or repeated name. DefaultRP and CQRP are not checked
// against RPs: the API lets cqrp name "autogen" or be empty.
func (d Database) Validate(op string) error {
	key := fmt.Sprintf("database %q", d.UUID)
	if err := required(op, key, d.UUID, "database UUID", d.WorkspaceUUID, "workspace UUID",
		d.Name, "database name", d.InstanceUUID, "instance UUID"); err != nil {
		return err
	}
	if err := d.Limits.Validate(op, key); err != nil {
		return err
	}
	return validateRPs(op, key, d.RPs)
}

// Validate refuses limits below -1 (none) or past the int32 columns.
func (l DatabaseLimits) Validate(op, key string) error {
	for _, v := range []int{l.MaxSeries, l.MaxValuesPerTag} {
		if v < -1 || v > math.MaxInt32 {
			return invalid(op, key, "limit %d is outside -1 (none), 0 (default) .. %d", v, math.MaxInt32)
		}
	}
	return nil
}

// ValidateUpdate checks what UpdateDatabase uses: the UUID and the RP list.
func (d Database) ValidateUpdate(op string) error {
	if d.UUID == "" {
		return invalid(op, `database ""`, "empty database UUID")
	}
	return validateRPs(op, fmt.Sprintf("database %q", d.UUID), d.RPs)
}

func validateRPs(op, key string, rps []string) error {
	seen := make(map[string]bool, len(rps))
	for i, rp := range rps {
		if rp == "" {
			return invalid(op, key, "empty retention policy name at RPs[%d]", i)
		}
		if seen[rp] {
			return invalid(op, key, "retention policy %q listed twice in RPs", rp)
		}
		seen[rp] = true
	}
	return nil
}

// Validate reports an ErrInvalid *Error when UUID is empty.
func (in Instance) Validate(op string) error {
	if in.UUID == "" {
		return invalid(op, fmt.Sprintf("instance URL %q", in.URL), "empty instance UUID")
	}
	return nil
}

// Validate reports an ErrInvalid *Error when a key is empty or both keys are
// equal (KeyPairByID could not tell which one was meant).
func (kp KeyPair) Validate(op string) error {
	key := fmt.Sprintf("access key %q", kp.AccessKey)
	if err := required(op, key, kp.AccessKey, "access key", kp.SecretKey, "secret key"); err != nil {
		return err
	}
	if kp.AccessKey == kp.SecretKey {
		return invalid(op, key, "access key and secret key are equal")
	}
	return required(op, key, kp.WorkspaceUUID, "workspace UUID")
}

// Validate reports an ErrInvalid *Error when a required field is empty.
func (cq ContinuousQuery) Validate(op string) error {
	if cq.DBUUID == "" {
		return invalid(op, fmt.Sprintf("continuous query %q", cq.UUID), "empty database UUID")
	}
	return cq.ValidateUpdate(op)
}

// ValidateUpdate checks what UpdateCQ uses (everything but DBUUID, which
// an update cannot change).
func (cq ContinuousQuery) ValidateUpdate(op string) error {
	return required(op, fmt.Sprintf("continuous query %q", cq.UUID), cq.UUID, "continuous query UUID",
		cq.WorkspaceUUID, "workspace UUID", cq.Measurement, "measurement", cq.AggrFunc, "aggregate function")
}

// Invalid returns an ErrInvalid *Error for a bad argument of op; the
// backends use it for the arguments that are not records.
func Invalid(op, key, reason string) error {
	return &Error{Op: op, Key: key, Kind: ErrInvalid, Err: errors.New(reason)}
}
