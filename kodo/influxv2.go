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
func (s *service) handleInfluxV2Write(w http.ResponseWriter, r *http.Request) {
	setInfluxHeaders(w)
	q := r.URL.Query()
	prec := q.Get("precision")
	switch prec {
	case "ns":
		prec = "n"
	case "us":
		prec = "u"
	case "ms", "s", "":
	default:
		s.influxError(w, r, Errorf(kodoapi.ErrBadRequest, "invalid precision %q (use ns, us, ms or s)", prec))
		return
	}
	db, rp, err := bucketDBRP(q.Get("bucket"))
	if err != nil {
		s.influxError(w, r, err)
		return
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
	s.handleInfluxWrite(w, r2)
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
func (s *service) handleInfluxHealth(w http.ResponseWriter, r *http.Request) {
	setInfluxHeaders(w)
	b, _ := json.Marshal(map[string]any{
		"name": "influxdb", "message": "ready for queries and writes", "status": "pass",
		"checks": []string{}, "version": influxVersion,
	})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
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
func (s *service) handleInfluxV2Buckets(w http.ResponseWriter, r *http.Request) {
	setInfluxHeaders(w)
	db, err := s.influxAuth(r)
	if err != nil {
		s.influxError(w, r, err)
		return
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
	writeJSON(w, http.StatusOK, map[string]any{"links": map[string]string{"self": "/api/v2/buckets"}, "buckets": out})
}

// handleInfluxV2Query refuses Flux clearly, as influxd 1.8 does with Flux
// disabled, naming what works instead.
func (s *service) handleInfluxV2Query(w http.ResponseWriter, r *http.Request) {
	setInfluxHeaders(w)
	s.influxError(w, r, Errorf(kodoapi.ErrForbidden, "Flux queries are not supported: query with InfluxQL on /query (the InfluxDB 1.x API); of the v2 API, /api/v2/write, /api/v2/buckets and /health are served"))
}
