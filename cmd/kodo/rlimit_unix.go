//go:build unix

package main

import (
	"log/slog"
	"syscall"
)

// raiseFileLimit lifts the soft RLIMIT_NOFILE to the hard limit: every
// shard and index of the embedded engine holds descriptors, and running
// out of them fails every tenant at once. (The Go runtime already does
// this on Linux since 1.19; doing it here makes it explicit on every unix
// and logs the ceiling an operator has to plan with.)
func raiseFileLimit(log *slog.Logger) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("cannot read the open file limit", "err", err)
		return
	}
	before := lim.Cur
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			log.Warn("cannot raise the open file limit", "soft", before, "hard", lim.Max, "err", err)
			return
		}
	}
	log.Info("open file limit", "soft_before", before, "soft", lim.Cur, "hard", lim.Max)
}
