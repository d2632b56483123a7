package tsdbapi

import "encoding/json"

// CreateRepoInput is the body of POST /v4/repos/<repo>.
type CreateRepoInput struct {
	Region   string            `json:"region"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// CreateSeriesInput is the body of POST /v4/repos/<repo>/series/<series>;
// Retention is "1d" to "30d".
type CreateSeriesInput struct {
	Retention string            `json:"retention"`
	Metadata  map[string]string `json:"metadata,omitempty"`
}

// CreateViewInput is the body of POST /v4/repos/<repo>/views/<view>: a
// SELECT over the repo's series, named bare.
type CreateViewInput struct {
	SQL       string            `json:"sql"`
	Retention string            `json:"retention"`
	Metadata  map[string]string `json:"metadata,omitempty"`
}

// MetadataInput is the body of POST .../meta; it replaces the whole map.
type MetadataInput struct {
	Metadata map[string]string `json:"metadata"`
}

// QueryInput is the JSON body of POST /v4/repos/<repo>/query (the SQL may
// also come as ?q= or as a text/plain body).
type QueryInput struct {
	SQL string `json:"sql"`
}

// RepoInfo is the JSON form of a repo. Times are RFC 3339 in UTC.
type RepoInfo struct {
	Name       string            `json:"name"`
	Region     string            `json:"region"`
	Metadata   map[string]string `json:"metadata"`
	CreateTime string            `json:"createTime"`
	Deleting   string            `json:"deleting"` // "true" or "false"
}

// SeriesInfo is the JSON form of a series. Metadata is shown only when
// asked (showMeta=true) or for a single series.
type SeriesInfo struct {
	Name       string            `json:"name"`
	Retention  string            `json:"retention"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	CreateTime string            `json:"createTime"`
	Type       string            `json:"type"`
	Deleting   string            `json:"deleting"`
}

// MarshalJSON writes "metadata" whenever it is set, even empty, so
// showMeta=true always shows the member.
func (si SeriesInfo) MarshalJSON() ([]byte, error) {
	type plain SeriesInfo
	out := struct {
		plain
		Metadata *map[string]string `json:"metadata,omitempty"`
	}{plain: plain(si)}
	if si.Metadata != nil {
		out.Metadata = &si.Metadata
	}
	return json.Marshal(out)
}

// ViewInfo is the JSON form of a view.
type ViewInfo struct {
	Name       string            `json:"name"`
	SQL        string            `json:"sql"`
	Retention  string            `json:"retention"`
	Metadata   map[string]string `json:"metadata"`
	CreateTime string            `json:"createTime"`
}

// WriteResult is the answer to a points write: {} when every point was
// stored. Earlier versions answered points older than their series'
// retention with 200 and Dropped set, which the official SDK reads as
// success; they are now refused with 400 E6000, so Dropped and Reason
// stay empty (kept so that clients built against them still decode).
type WriteResult struct {
	Dropped int    `json:"dropped,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// QueryRet is the answer to a query, as the spec shapes it.
type QueryRet struct {
	Results []QueryResult `json:"results,omitempty"`
}

// QueryResult answers one statement.
type QueryResult struct {
	Series []Serie `json:"series,omitempty"`
}

// Serie is one tag set of a statement's answer. Times are RFC 3339 strings.
type Serie struct {
	Name    string            `json:"name,omitempty"`
	Tags    map[string]string `json:"tags,omitempty"`
	Columns []string          `json:"columns,omitempty"`
	Values  [][]any           `json:"values,omitempty"`
}

// KeyPair is the answer of the key pair endpoint the embedding server
// mounts (kodo: POST /v1/tsdb/keypair/create).
type KeyPair struct {
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}
