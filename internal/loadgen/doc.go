// Package loadgen is the engine of the kodo-bench load tool: it drives
// realistic agent traffic against a Kodo gateway or a stock InfluxDB 1.x
// server on loopback and reports what the server sustained.
//
// A run has four phases, and only the third one is timed:
//
//  1. Generate: a Generator renders line-protocol bodies (Shape: series,
//     tags, fields, lines per body) with distinct, recent timestamps and
//     gzips them into a Pool, so the client spends no CPU on encoding
//     while the clock runs. A body is sent at most once per workspace;
//     different workspaces reuse the same bytes (their databases differ,
//     so nothing is overwritten) which keeps generation cheap.
//  2. Setup: the Target creates one workspace (Kodo) or database
//     (InfluxDB) per simulated tenant.
//  3. Load: Concurrency workers take request numbers from one counter;
//     the Mix turns a number into an operation (write, query, or a future
//     one such as rewrite through the Rewriter hook). The run ends by
//     itself: at Duration, after Requests, or when the Pool is used up.
//     Requests in flight at the deadline finish and are counted, so the
//     acknowledged totals are exact.
//  4. Verify: count(*) per database is compared with the points the
//     server acknowledged; fewer points found than acknowledged is loss.
//
// Targets are reached only on loopback (CheckLoopback and LoopbackClient
// refuse anything else, at parse time and again at dial time), because the
// tool is meant to measure a server on the same machine, never to load a
// remote one by mistake.
//
// The Report carries points/s, bytes/s (raw and gzipped as sent), latency
// percentiles per operation, errors by status and error code, the
// server's peak RSS (sampled VmRSS and the kernel's VmHWM), and the
// verification, and renders as text, JSON or a BENCHMARKS.md table row.
package loadgen
