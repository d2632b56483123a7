// Command kodo runs the Kodo gateway. Every flag has a KODO_* environment
// twin (-influx-url -> KODO_INFLUX_URL, comma-separated when repeated).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kodo-project/kodo/kodo"
)

func main() {
	c, err := parseFlags(os.Args[1:], os.LookupEnv, os.Stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "kodo:", err)
		}
		os.Exit(2)
	}
	o := c.opts
	shutdownTimeout := &c.shutdownTimeout
	level := c.level

	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		fmt.Fprintf(os.Stderr, "kodo: -log-level %q: want debug, info, warn or error\n", level)
		os.Exit(2)
	}
	o.Logger = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lv}))
	raiseFileLimit(o.Logger)
	applyGC(c, o.Logger)
	if c.pprofListen != "" {
		if err := startPprof(c.pprofListen, o.Logger); err != nil {
			fmt.Fprintln(os.Stderr, "kodo:", err)
			os.Exit(2)
		}
	}

	srv, err := kodo.New(o)
	if err != nil {
		o.Logger.Error("cannot start", "err", err)
		os.Exit(1)
	}
	if err := srv.Start(); err != nil {
		o.Logger.Error("cannot listen", "err", err)
		_ = srv.Shutdown(context.Background())
		os.Exit(1)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	got := <-sig
	o.Logger.Info("shutting down", "signal", got.String())
	ctx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	// Shutdown returns within its bound; should anything still block, the
	// process ends anyway shortly after it.
	time.AfterFunc(*shutdownTimeout+2*time.Second, func() {
		o.Logger.Error("shutdown overran its bound; exiting")
		os.Exit(1)
	})
	if err := srv.Shutdown(ctx); err != nil {
		o.Logger.Error("shutdown", "err", err)
		if !errors.Is(err, kodo.ErrShutdownAbandoned) {
			os.Exit(1)
		} // abandoned within the bound: data is safe (WAL), exit normally
	}
}
