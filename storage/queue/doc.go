// Package queue carries what the time-series engine accepted to the
// external sinks (ClickHouse, a document store) through NSQ, so that a
// slow or dead sink never blocks ingest and consumers scale apart from
// gateways:
//
//	agents -> gateway -> engine (acknowledged after fsync)
//	                 \-> nsqd (topic per sink) -> consumers -> sinks
//
// A Message is one request's worth of accepted points for one database,
// or a delete (a measurement, a database); Encode and Decode give it one
// binary shape on the wire. Publisher publishes to an nsqd and returns
// once nsqd has the message on its disk queue; Consumer applies messages
// to a Sink, retrying (with back-off) until the sink takes them, so a
// sink outage delays the copy but loses nothing. Sinks must be
// idempotent: NSQ delivers at least once.
//
// Daemon runs nsqd in-process (github.com/nsqio/nsq/nsqd) with its queue
// under a data directory, for a gateway that has an external sink but no
// nsqd of its own; DaemonOptions says what its settings guarantee.
package queue
