package kodo

import (
	"errors"
	"strings"
	"syscall"

	"github.com/kodo-project/kodo/kodo/kodoapi"
)

// faultAPIError names a machine fault behind an error no layer mapped (the
// metadata or document store ran out of disk or file descriptors), so the
// client gets 507/503 with Retry-After and a cause, not "internal error".
func faultAPIError(err error) *Error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || strings.Contains(msg, "no space left on device"):
		return &Error{Code: kodoapi.ErrInsufficientStorage, RetryAfter: 30, cause: err,
			Message: "the server's disk is full; nothing of this request was stored; retry once space is freed"}
	case errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || strings.Contains(msg, "too many open files"):
		return &Error{Code: kodoapi.ErrUnavailable, RetryAfter: 30, cause: err,
			Message: "the server has reached its open-file limit (EMFILE); retry later, or ask the operator to raise the limit or delete unused workspaces"}
	}
	return nil
}
