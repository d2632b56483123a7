package kodoapi

// DocumentKind is the kind of document a /v1/write/<kind> call stores.
type DocumentKind string

// The three kinds the /v1 write API accepts: objects (a JSON array), key
// events and logging lines (line protocol).
const (
	KindObject   DocumentKind = "object"
	KindKeyEvent DocumentKind = "keyevent"
	KindLogging  DocumentKind = "logging"
)

// SearchRequest is the body of /v1/read/docs. Exactly one of DBUUID and
// WorkspaceUUID names the workspace. TimeRange is [start, end) in
// milliseconds since the epoch (either may be 0 for open). Filters are
// tag, field or builtin (__name, __class, __source) equalities. Sort is
// "time_desc" (default) or "time_asc".
type SearchRequest struct {
	DBUUID        string            `json:"db_uuid,omitempty"`
	WorkspaceUUID string            `json:"workspace_uuid,omitempty"`
	Kind          string            `json:"kind"`
	Query         string            `json:"query,omitempty"`
	Filters       map[string]string `json:"filters,omitempty"`
	TimeRange     []int64           `json:"time_range,omitempty"`
	Limit         int               `json:"limit,omitempty"`
	Offset        int               `json:"offset,omitempty"`
	Sort          string            `json:"sort,omitempty"`
}

// SearchResult is the content of a /v1/read/docs answer.
type SearchResult struct {
	Total int64      `json:"total"`
	Docs  []Document `json:"docs"`
}

// Document is one stored document: the field names of the object write
// API, time in nanoseconds.
type Document struct {
	Name    string            `json:"__name"`
	Class   string            `json:"__class,omitempty"`
	Source  string            `json:"__source,omitempty"`
	Time    int64             `json:"time"`
	Tags    map[string]string `json:"__tags,omitempty"`
	Fields  map[string]any    `json:"fields,omitempty"`
	Content string            `json:"__content"`
}

// PipelineRequest is the body of /v1/cache/logging/set (URL required) and
// /v1/cache/logging/delete (URL ignored).
type PipelineRequest struct {
	WorkspaceUUID string `json:"workspace_uuid"`
	Source        string `json:"source"`
	URL           string `json:"url,omitempty"`
}
