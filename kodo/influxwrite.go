package kodo

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// influxWriteError words a write error as influxd does where clients match
// on it: "unable to parse ..." for a body with no good line, and
// "partial write: <reason> dropped=N" when some points were refused.
func influxWriteError(err error) error {
	e := asError(err)
	switch e.Code {
	case kodoapi.ErrInvalidLine:
		if !strings.HasPrefix(e.Message, "unable to parse") {
			return &Error{Code: e.Code, Message: "unable to parse points: " + e.Message, cause: e}
		}
	case kodoapi.ErrPartialWrite, kodoapi.ErrFieldTypeConflict:
		var pw *tsengine.PartialWriteError
		if errors.As(e, &pw) {
			return &Error{Code: e.Code, Message: pw.Error(), cause: e}
		}
		dropped := 0
		if le, ok := e.Content.(kodoapi.PartialWrite); ok {
			dropped = le.Rejected
		}
		return &Error{Code: e.Code, Message: fmt.Sprintf("partial write: %s dropped=%d", e.Message, dropped), cause: e}
	}
	return e
}
