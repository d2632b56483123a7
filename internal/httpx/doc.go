// Package httpx holds the HTTP plumbing shared by the /v1 and /v4 services:
// trace ids, CORS, access logs, panic recovery and request bodies read under
// size limits (including a cap on gzip-decompressed size).
package httpx
