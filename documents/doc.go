// Package documents is the domain logic behind Kodo's document API:
// /v1/write/object (JSON), /v1/write/keyevent and /v1/write/logging
// (line protocol), /v1/cache/logging/set (log pipelines) and document
// searches. The HTTP handlers in package kodo are thin wrappers.
//
// Mapping of bodies to docs.Document:
//   - object: {"__name", "__tags": {"__class", ...}, "__content", ...}
//     -> Name, Class (removed from Tags), Tags, Content (non-strings as
//     JSON text), other keys -> Fields; Time is the write time.
//   - keyevent line: measurement -> Name, tags -> Tags, field __content
//     (else message) -> Content, other fields -> Fields, timestamp -> Time.
//   - logging line: the same with message (else __content) as Content;
//     Source is the ?source= parameter, or the measurement without one.
//
// A body with any bad item or line is refused whole with a *ParseError
// naming it (HTTP 400); nothing is stored. Write returns nil only once the
// store accepted the batch; store errors wrapping docs.ErrUnavailable mean
// HTTP 503 with Retry-After.
//
// Log pipelines: when the workspace has a pipeline for a line's source,
// the lines of that source are POSTed (canonical line protocol, ns
// timestamps, text/plain) to its URL with PipelineTimeout, and the line
// protocol it answers is stored instead (an empty 2xx answer drops them).
// On a timeout, a non-2xx status or an answer that is not line protocol,
// the original lines are stored, the failure is logged and counted
// (PipelineStats).
package documents
