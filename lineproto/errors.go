package lineproto

import (
	"fmt"
	"strings"
)

// DecodeError locates one problem in a line-protocol body. Line and Column
// are 1-based; Column counts bytes.
type DecodeError struct {
	Line, Column int
	Msg          string
	// Limit names the Limits field that was exceeded ("MaxLineBytes",
	// "MaxTags", "MaxFields", "MaxPoints"), or is empty for a syntax or
	// value error. An HTTP layer may answer 413 when it is set.
	Limit string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// MaxReportedErrors is how many line errors a PartialError lists; the
// rest are only counted in Rejected.
const MaxReportedErrors = 100

// PartialError is returned by Parse when some lines were rejected. The
// accepted points are in the Batch; InfluxDB answers such a write with 400
// naming the bad lines while keeping the good points.
type PartialError struct {
	Errors   []DecodeError // the first MaxReportedErrors rejected lines, in order
	Total    int           // lines that held a point (blank and comment lines excluded)
	Rejected int           // lines rejected, >= len(Errors)
}

func (e *PartialError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d of %d lines rejected", e.Rejected, e.Total)
	const shown = 3
	for i := 0; i < len(e.Errors) && i < shown; i++ {
		sb.WriteString("; ")
		sb.WriteString(e.Errors[i].Error())
	}
	if e.Rejected > shown {
		fmt.Fprintf(&sb, "; and %d more", e.Rejected-shown)
	}
	return sb.String()
}

// AllRejected reports whether no line of the body was accepted.
func (e *PartialError) AllRejected() bool { return e.Rejected == e.Total }
