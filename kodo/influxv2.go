package kodo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kodo-project/kodo/kodo/kodoapi"
)

// InfluxDB 1.8's forward-compatibility API (the subset influxd 1.8 serves,
// plus a bucket listing): /api/v2/write with bucket=db/rp, /health, and
// /api/v2/buckets for v2 client libraries that look their bucket up. The
// credential is the workspace token, as "Authorization: Token <token>" or
// influxd 1.8's "Token <user>:<token>"; org= is ignored, as influxd does.
// Flux (/api/v2/query) is not served.

// handleInfluxV2Write maps bucket and precision to /write's db, rp and
// precision and serves it as /write, limits included.
func (s *service) handleInfluxV2Write(r *http.Request) (any, error) {
	q := r.URL.Query()
	prec := q.Get("precision")
	switch prec {
	case "ns":
		prec = "n"
	case "us":
		prec = "u"
	case "ms", "s", "":
	default:
		return nil, Errorf(kodoapi.ErrBadRequest, "invalid precision %q (use ns, us, ms or s)", prec)
	}
	db, rp, err := bucketDBRP(q.Get("bucket"))
	if err != nil {
		return nil, err
	}
	v1 := url.Values{"db": {db}, "precision": {prec}}
	if rp != "" {
		v1.Set("rp", rp)
	}
	if p := q.Get("p"); p != "" {
		v1.Set("p", p)
	}
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = v1.Encode()
	return s.handleInfluxWrite(r2)
}

// bucketDBRP splits a v2 bucket as influxd 1.8 does: "db" or "db/rp".
func bucketDBRP(bucket string) (db, rp string, err error) {
	if bucket == "" {
		return "", "", Errorf(kodoapi.ErrNotFound, "bucket name is missing: use bucket=<database> or bucket=<database>/<retention policy>")
	}
	db, rp, _ = strings.Cut(bucket, "/")
	if db == "" {
		return "", "", Errorf(kodoapi.ErrNotFound, "bucket name %q is in db/rp form but has an empty database", bucket)
	}
	return db, rp, nil
}

// handleInfluxHealth answers as influxd 1.8's /health.
func (s *service) handleInfluxHealth(r *http.Request) (any, error) {
	b, _ := json.Marshal(influxHealth{Name: "influxdb", Message: "ready for queries and writes", Status: "pass",
		Checks: []string{}, Version: influxVersion})
	return influxRaw{contentType: "application/json; charset=utf-8", body: b}, nil
}

// influxHealth is influxd 1.8's /health answer.
type influxHealth struct {
	Checks  []string `json:"checks"`
	Message string   `json:"message"`
	Name    string   `json:"name"`
	Status  string   `json:"status"`
	Version string   `json:"version"`
}

// v2Buckets is /api/v2/buckets' answer.
type v2Buckets struct {
	Buckets []v2Bucket        `json:"buckets"`
	Links   map[string]string `json:"links"`
}

// v2Bucket is a bucket in the InfluxDB v2 API's shape.
type v2Bucket struct {
	ID             string            `json:"id"`
	OrgID          string            `json:"orgID"`
	Type           string            `json:"type"`
	Name           string            `json:"name"`
	RetentionRules []v2Retention     `json:"retentionRules"`
	CreatedAt      time.Time         `json:"createdAt"`
	UpdatedAt      time.Time         `json:"updatedAt"`
	Links          map[string]string `json:"links"`
	Labels         []struct{}        `json:"labels"`
}

type v2Retention struct {
	Type         string `json:"type"`
	EverySeconds int64  `json:"everySeconds"`
}

// v2ID is a stable 16-hex-digit id (the v2 API's id form) for a name.
func v2ID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:8])
}

// handleInfluxV2Buckets lists the token's database as one bucket per
// retention policy ("db/rp"), plus "db" for the default RP, as the
// buckets influxd 1.8's /api/v2/write accepts. name= filters.
func (s *service) handleInfluxV2Buckets(r *http.Request) (any, error) {
	db, err := s.influxAuth(r)
	if err != nil {
		return nil, err
	}
	durations := s.rpDurations(r.Context(), db)
	orgID := v2ID("org:" + db.WorkspaceUUID)
	bucket := func(name, rp string) v2Bucket {
		b := v2Bucket{ID: v2ID(db.UUID + "/" + name), OrgID: orgID, Type: "user", Name: name,
			RetentionRules: []v2Retention{}, CreatedAt: db.CreatedAt, UpdatedAt: db.CreatedAt, Labels: []struct{}{},
			Links: map[string]string{"self": "/api/v2/buckets/" + v2ID(db.UUID+"/"+name)}}
		if d := durations[rp]; d > 0 {
			b.RetentionRules = append(b.RetentionRules, v2Retention{Type: "expire", EverySeconds: int64(d / time.Second)})
		}
		return b
	}
	all := []v2Bucket{bucket(db.Name, db.DefaultRP)}
	for _, rp := range db.RPs {
		all = append(all, bucket(db.Name+"/"+rp, rp))
	}
	want := r.URL.Query().Get("name")
	out := all[:0]
	for _, b := range all {
		if want == "" || b.Name == want {
			out = append(out, b)
		}
	}
	return v2Buckets{Links: map[string]string{"self": "/api/v2/buckets"}, Buckets: out}, nil
}

// handleInfluxV2Query refuses Flux clearly, as influxd 1.8 does with Flux
// disabled, naming what works instead.
func (s *service) handleInfluxV2Query(r *http.Request) (any, error) {
	return nil, Errorf(kodoapi.ErrForbidden, "Flux queries are not supported: query with InfluxQL on /query (the InfluxDB 1.x API); of the v2 API, /api/v2/write, /api/v2/buckets and /health are served")
}
