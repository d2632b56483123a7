package docs

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Kind is the family of a document; each kind lives in its own index.
type Kind string

// The three kinds the /v1 write API accepts.
const (
	KindObject   Kind = "object"
	KindKeyEvent Kind = "keyevent"
	KindLogging  Kind = "logging"
)

// Kinds lists every valid Kind.
var Kinds = []Kind{KindObject, KindKeyEvent, KindLogging}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	switch k {
	case KindObject, KindKeyEvent, KindLogging:
		return true
	}
	return false
}

// ParseKind parses a kind name as used in URLs ("object", "keyevent",
// "logging"); "log" and "logs" are accepted for logging.
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "object", "objects":
		return KindObject, nil
	case "keyevent", "keyevents":
		return KindKeyEvent, nil
	case "logging", "log", "logs":
		return KindLogging, nil
	}
	return "", fmt.Errorf("docs: unknown kind %q (want object, keyevent or logging)", s)
}

// Document is one stored object, key event or log line.
type Document struct {
	Kind    Kind
	Name    string // object __name; measurement of a key event or log line
	Class   string // object __class
	Source  string // log source
	Time    int64  // nanoseconds since the Unix epoch
	Tags    map[string]string
	Fields  map[string]any // scalar values: string, int64, uint64, float64, bool
	Content string         // the full-text searchable body
}

// Store keeps documents per workspace and kind and searches them.
// Implementations are safe for concurrent use.
type Store interface {
	// Write stores docs (all of the given kind) for a workspace. It returns
	// nil only once every document is durably accepted; a failure that a
	// retry may fix wraps ErrUnavailable. Writing the same document twice
	// stores it once, and an object replaces the object of the same class
	// and name, so retries are safe.
	Write(ctx context.Context, workspaceUUID string, kind Kind, docs []Document) error
	// Search answers a SearchRequest.
	Search(ctx context.Context, req SearchRequest) (SearchResult, error)
	// DeleteWorkspace removes every document of a workspace, durably;
	// removing none is not an error.
	DeleteWorkspace(ctx context.Context, workspaceUUID string) error
	// Close releases the store.
	Close() error
}

// ErrUnavailable is wrapped by errors that mean the backend could not be
// reached or refused the work for now (Elasticsearch down, bulk rejected
// under load, context deadline); the HTTP layer answers 503 with
// Retry-After. Nothing was acknowledged.
var ErrUnavailable = errors.New("docs: store unavailable")

// ErrInvalid is wrapped by errors caused by the caller's input (a bad
// request, a document the backend refuses); the HTTP layer answers 400.
var ErrInvalid = errors.New("docs: invalid input")

// Builtin filter keys. A Filter on one of these compares the Document
// attribute of that name instead of a tag or field.
const (
	KeyName   = "__name"
	KeyClass  = "__class"
	KeySource = "__source"
)

// Pipeline sends the logs of one workspace and source through a function
// at URL before they are stored.
type Pipeline struct {
	WorkspaceUUID string `json:"workspace_uuid"`
	Source        string `json:"source"`
	URL           string `json:"url"`
}
