// Package embedded runs the InfluxDB 1.8.10 storage and query engine
// in-process: the meta store, the TSM/WAL data store (tsi1 index by
// default), the coordinator's statement executor, the continuous query
// service and the retention service. Nothing has to be installed; all data
// lives under one directory (meta/, data/, wal/), locked while open.
//
// Durability: WritePoints returns after the points are in their shard's
// WAL and the WAL is fsynced (InfluxDB waits for the fsync of every WAL
// write; Options.WALFsyncDelay only groups concurrent writes into one
// fsync). TestCrashKeepsAcknowledgedPoints SIGKILLs a writer and checks
// that every acknowledged point is there after reopening.
//
// Writes: a batch parsed once by lineproto reaches the storage engine as
// points that read its parsed values (batchpoint.go), and a shard known
// to hold every series and field of a write takes it without its own
// per-point validation, which Kodo's database-wide checks make redundant
// (trusted.go). The storage engine's cache, WAL and fsync are InfluxDB's.
//
// Query results follow the representation documented in package tsengine
// (json.Number for numbers), the same as the remote engine's.
package embedded
