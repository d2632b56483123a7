package kodoapi

// Envelope is the body of every /v1 answer. The gateway writes
// Envelope[any]; the client reads Envelope[json.RawMessage] and decodes
// Content into the shape the call expects. Code is the HTTP status;
// ErrorCode is "" on success and "kodo.<code>" on failure.
type Envelope[T any] struct {
	Code      int    `json:"code"`
	Content   T      `json:"content"`
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
}

// PartialWrite is the content of a kodo.partialWrite or
// kodo.invalidLineProtocol answer: how many points were stored and, for
// each refused line, why.
type PartialWrite struct {
	Accepted int      `json:"accepted"`
	Rejected int      `json:"rejected"`
	Errors   []string `json:"errors"`
}

// Ping is the answer of /v1/ping: the gateway's version and, per engine
// instance UUID, "ok" or the error that instance answered. Status is "ok"
// or "degraded" (some engine is unreachable; the others still serve).
type Ping struct {
	Engines map[string]string `json:"engines"`
	Status  string            `json:"status"`
	Version string            `json:"version"`
}

// Version is the version of the gateway and client built from this
// module; /v1/ping and /ping report it.
const Version = "0.1.0"
