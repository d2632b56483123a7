package main

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"time"
)

// startPprof serves net/http/pprof on addr, a loopback address only:
// profiles show request contents and goroutine stacks, so they are never
// exposed beside the API. Off unless -pprof-listen is given.
func startPprof(addr string, log *slog.Logger) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-pprof-listen %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return errors.New("-pprof-listen must be a loopback address (127.0.0.1:PORT)")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("-pprof-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("pprof listening", "addr", ln.Addr().String())
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("pprof server stopped", "err", err)
		}
	}()
	return nil
}

// defaultGCPercent is the GC target when neither -gc-percent nor GOGC
// says otherwise. Under a steady write load about a quarter of the CPU
// went to the collector at Go's 100, mostly marking the engine's cache,
// which lives until its snapshot; 200 halves the collections for a heap
// up to three times the live one (RSS under the write benchmark:
// ~0.7 GiB -> ~1 GiB), and the memory limit below bounds that.
const defaultGCPercent = 200

// gcSettings decides the GC target and the soft memory limit: a flag (or
// its KODO_* twin) wins, then Go's own GOGC / GOMEMLIMIT, then the
// defaults: defaultGCPercent, and half the machine's memory (the cgroup
// limit when lower), which leaves the rest to the page cache the engine
// reads its files through and to other processes. Past the limit the
// collector works harder instead of the heap growing. set reports
// whether each value is to be applied (false: the runtime's, from the
// environment, stands); limit < 0 means no limit.
func gcSettings(c config, env func(string) (string, bool), machine int64) (percent int, limit int64, setPercent, setLimit bool) {
	switch {
	case c.gcPercentSet:
		percent, setPercent = c.gcPercent, true
	case hasEnv(env, "GOGC"):
	default:
		percent, setPercent = defaultGCPercent, true
	}
	switch {
	case c.memoryLimitSet && c.memoryLimit != 0:
		limit, setLimit = c.memoryLimit, true
	case c.memoryLimitSet || !hasEnv(env, "GOMEMLIMIT"):
		// 0 (explicitly or by default): derived from the machine.
		if machine > 0 {
			limit, setLimit = machine/2, true
		}
	}
	return percent, limit, setPercent, setLimit
}

func hasEnv(env func(string) (string, bool), k string) bool {
	v, ok := env(k)
	return ok && v != ""
}

// applyGC sets what gcSettings decided and logs the outcome.
func applyGC(c config, log *slog.Logger) {
	percent, limit, setPercent, setLimit := gcSettings(c, os.LookupEnv, machineMemory())
	if setPercent {
		debug.SetGCPercent(percent)
	}
	if setLimit {
		if limit < 0 {
			limit = math.MaxInt64
		}
		debug.SetMemoryLimit(limit)
	}
	percent = debug.SetGCPercent(-1) // read back the effective values
	debug.SetGCPercent(percent)
	limit = debug.SetMemoryLimit(-1)
	if limit == math.MaxInt64 {
		log.Info("garbage collector", "gc_percent", percent, "memory_limit", "none")
		return
	}
	log.Info("garbage collector", "gc_percent", percent, "memory_limit_bytes", limit)
}
