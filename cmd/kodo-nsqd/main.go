// Command kodo-nsqd runs nsqd (github.com/nsqio/nsq/nsqd, v1.3.0) as a
// process of its own with the settings Kodo relies on (queue.DaemonOptions:
// every message on disk before the publish is answered). Gateways publish
// to it with -nsqd-address and indexers consume from it, so sinks scale
// apart from gateways. It builds from the Go module proxy with the rest
// of Kodo: `go build ./cmd/kodo-nsqd`.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/nsqio/nsq/nsqd"

	"github.com/kodo-project/kodo/storage/queue"
)

func main() {
	fs := flag.NewFlagSet("kodo-nsqd", flag.ExitOnError)
	tcp := fs.String("tcp-address", "127.0.0.1:4150", "TCP address for publishers and consumers")
	httpAddr := fs.String("http-address", "127.0.0.1:4151", "HTTP address (stats, ping)")
	data := fs.String("data-path", "./nsqd-data", "directory of the disk queues")
	lookupd := fs.String("lookupd-tcp-address", "", "nsqlookupd TCP address to register with (optional)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if err := os.MkdirAll(*data, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "kodo-nsqd:", err)
		os.Exit(1)
	}
	opts := queue.DaemonOptions(*data, *tcp, *httpAddr)
	if *lookupd != "" {
		opts.NSQLookupdTCPAddresses = []string{*lookupd}
	}
	n, err := nsqd.New(opts)
	if err == nil {
		err = n.LoadMetadata()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kodo-nsqd:", err)
		os.Exit(1)
	}
	done := make(chan error, 1)
	go func() { done <- n.Main() }()
	fmt.Fprintf(os.Stderr, "kodo-nsqd: listening on %s (data %s)\n", n.RealTCPAddr(), *data)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-sig:
	case err := <-done:
		fmt.Fprintln(os.Stderr, "kodo-nsqd:", err)
	}
	n.Exit() // writes in-flight and queued messages to disk
}
