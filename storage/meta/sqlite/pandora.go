package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kodo-project/kodo/storage/meta"
)

func encodeMetadata(md map[string]string) string {
	if md == nil {
		md = map[string]string{}
	}
	b, _ := json.Marshal(md) // a map of strings always marshals
	return string(b)
}

func decodeMetadata(s string) (map[string]string, error) {
	md := map[string]string{}
	if err := json.Unmarshal([]byte(s), &md); err != nil {
		return nil, fmt.Errorf("column metadata: %w", err)
	}
	if md == nil { // the JSON was null
		md = map[string]string{}
	}
	return md, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// AddPandoraKeyPair stores a Pandora key pair; a known access key is ErrConflict.
func (s *Store) AddPandoraKeyPair(ctx context.Context, kp meta.PandoraKeyPair) error {
	const op = "AddPandoraKeyPair"
	if err := kp.Validate(op); err != nil {
		return err
	}
	_, err := s.wdb.ExecContext(ctx, `INSERT INTO pandora_key_pairs (access_key, secret_key, created_at) VALUES (?, ?, ?)`,
		kp.AccessKey, kp.SecretKey, nanos(createdAt(kp.CreatedAt)))
	return wrap(op, fmt.Sprintf("pandora access key %q", kp.AccessKey), err, "")
}

// PandoraKeyPair finds the pair of an access key.
func (s *Store) PandoraKeyPair(ctx context.Context, accessKey string) (meta.PandoraKeyPair, error) {
	var kp meta.PandoraKeyPair
	var at int64
	err := s.rdb.QueryRowContext(ctx, `SELECT access_key, secret_key, created_at FROM pandora_key_pairs WHERE access_key = ?`, accessKey).
		Scan(&kp.AccessKey, &kp.SecretKey, &at)
	if err != nil {
		return meta.PandoraKeyPair{}, wrap("PandoraKeyPair", fmt.Sprintf("pandora access key %q", accessKey), err, "")
	}
	kp.CreatedAt = fromNanos(at)
	return kp, nil
}

const pandoraRepoCols = `access_key, name, region, metadata, created_at, deleting`

func scanPandoraRepo(r scanner) (meta.PandoraRepo, error) {
	var p meta.PandoraRepo
	var md string
	var at int64
	var del int
	if err := r.Scan(&p.AccessKey, &p.Name, &p.Region, &md, &at, &del); err != nil {
		return meta.PandoraRepo{}, err
	}
	var err error
	if p.Metadata, err = decodeMetadata(md); err != nil {
		return meta.PandoraRepo{}, err
	}
	p.CreatedAt, p.Deleting = fromNanos(at), del != 0
	return p, nil
}

// CreatePandoraRepo stores a repo; an unknown access key is ErrNotFound
// and a taken name ErrConflict.
func (s *Store) CreatePandoraRepo(ctx context.Context, r meta.PandoraRepo) error {
	const op = "CreatePandoraRepo"
	if err := r.Validate(op); err != nil {
		return err
	}
	_, err := s.wdb.ExecContext(ctx, `INSERT INTO pandora_repos (`+pandoraRepoCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		r.AccessKey, r.Name, r.Region, encodeMetadata(r.Metadata), nanos(createdAt(r.CreatedAt)), boolInt(r.Deleting))
	return wrap(op, meta.PandoraRepoKey(r.AccessKey, r.Name), err, fmt.Sprintf("pandora access key %q", r.AccessKey))
}

// PandoraRepo finds a repo of an access key.
func (s *Store) PandoraRepo(ctx context.Context, ak, name string) (meta.PandoraRepo, error) {
	r, err := scanPandoraRepo(s.rdb.QueryRowContext(ctx, `SELECT `+pandoraRepoCols+` FROM pandora_repos WHERE access_key = ? AND name = ?`, ak, name))
	return r, wrap("PandoraRepo", meta.PandoraRepoKey(ak, name), err, "")
}

// queryList runs q on the read pool and scans each row.
func queryList[T any](ctx context.Context, s *Store, op, key string, scan func(scanner) (T, error), q string, args ...any) ([]T, error) {
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap(op, key, err, "")
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, wrap(op, key, err, "")
		}
		out = append(out, v)
	}
	return out, wrap(op, key, rows.Err(), "")
}

// PandoraRepos lists the repos of an access key by name.
func (s *Store) PandoraRepos(ctx context.Context, ak string) ([]meta.PandoraRepo, error) {
	return queryList(ctx, s, "PandoraRepos", fmt.Sprintf("pandora access key %q", ak), scanPandoraRepo,
		`SELECT `+pandoraRepoCols+` FROM pandora_repos WHERE access_key = ? ORDER BY name`, ak)
}

// UpdatePandoraRepo rewrites Metadata and Deleting.
func (s *Store) UpdatePandoraRepo(ctx context.Context, r meta.PandoraRepo) error {
	return s.exec(ctx, "UpdatePandoraRepo", meta.PandoraRepoKey(r.AccessKey, r.Name), "",
		`UPDATE pandora_repos SET metadata = ?, deleting = ? WHERE access_key = ? AND name = ?`,
		encodeMetadata(r.Metadata), boolInt(r.Deleting), r.AccessKey, r.Name)
}

// DeletePandoraRepo removes a repo with its series and views.
func (s *Store) DeletePandoraRepo(ctx context.Context, ak, name string) error {
	return s.exec(ctx, "DeletePandoraRepo", meta.PandoraRepoKey(ak, name), "",
		`DELETE FROM pandora_repos WHERE access_key = ? AND name = ?`, ak, name)
}

const pandoraSeriesCols = `access_key, repo, name, retention, metadata, type, created_at, deleting`

func scanPandoraSeries(r scanner) (meta.PandoraSeries, error) {
	var p meta.PandoraSeries
	var md string
	var at int64
	var del int
	if err := r.Scan(&p.AccessKey, &p.Repo, &p.Name, &p.Retention, &md, &p.Type, &at, &del); err != nil {
		return meta.PandoraSeries{}, err
	}
	var err error
	if p.Metadata, err = decodeMetadata(md); err != nil {
		return meta.PandoraSeries{}, err
	}
	p.CreatedAt, p.Deleting = fromNanos(at), del != 0
	return p, nil
}

// CreatePandoraSeries stores a series; a missing repo is ErrNotFound, a
// full one (maxPerRepo > 0) ErrLimit. The count is a condition of the
// INSERT itself, and SQLite runs one write at a time, so it is atomic.
func (s *Store) CreatePandoraSeries(ctx context.Context, p meta.PandoraSeries, maxPerRepo int) error {
	const op = "CreatePandoraSeries"
	if err := p.Validate(op); err != nil {
		return err
	}
	key := meta.PandoraSeriesKey(p.AccessKey, p.Repo, p.Name)
	if maxPerRepo <= 0 {
		maxPerRepo = -1
	}
	res, err := s.wdb.ExecContext(ctx, `INSERT INTO pandora_series (`+pandoraSeriesCols+`) SELECT ?, ?, ?, ?, ?, ?, ?, ?
		WHERE ? < 0 OR (SELECT count(*) FROM pandora_series WHERE access_key = ? AND repo = ?) < ?`,
		p.AccessKey, p.Repo, p.Name, p.Retention, encodeMetadata(p.Metadata), p.Type, nanos(createdAt(p.CreatedAt)), boolInt(p.Deleting),
		maxPerRepo, p.AccessKey, p.Repo, maxPerRepo)
	if err != nil {
		return wrap(op, key, err, meta.PandoraRepoKey(p.AccessKey, p.Repo))
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap(op, key, err, "")
	} else if n == 0 {
		return &meta.Error{Op: op, Key: meta.PandoraRepoKey(p.AccessKey, p.Repo), Kind: meta.ErrLimit,
			Err: fmt.Errorf("the repo holds %d series, the most allowed", maxPerRepo)}
	}
	return nil
}

// PandoraSeries finds a series.
func (s *Store) PandoraSeries(ctx context.Context, ak, repo, name string) (meta.PandoraSeries, error) {
	p, err := scanPandoraSeries(s.rdb.QueryRowContext(ctx, `SELECT `+pandoraSeriesCols+` FROM pandora_series
		WHERE access_key = ? AND repo = ? AND name = ?`, ak, repo, name))
	return p, wrap("PandoraSeries", meta.PandoraSeriesKey(ak, repo, name), err, "")
}

// PandoraSeriesList lists the series of a repo by name.
func (s *Store) PandoraSeriesList(ctx context.Context, ak, repo string) ([]meta.PandoraSeries, error) {
	return queryList(ctx, s, "PandoraSeriesList", meta.PandoraRepoKey(ak, repo), scanPandoraSeries,
		`SELECT `+pandoraSeriesCols+` FROM pandora_series WHERE access_key = ? AND repo = ? ORDER BY name`, ak, repo)
}

// UpdatePandoraSeries rewrites Metadata and Deleting.
func (s *Store) UpdatePandoraSeries(ctx context.Context, p meta.PandoraSeries) error {
	return s.exec(ctx, "UpdatePandoraSeries", meta.PandoraSeriesKey(p.AccessKey, p.Repo, p.Name), "",
		`UPDATE pandora_series SET metadata = ?, deleting = ? WHERE access_key = ? AND repo = ? AND name = ?`,
		encodeMetadata(p.Metadata), boolInt(p.Deleting), p.AccessKey, p.Repo, p.Name)
}

// DeletePandoraSeries removes a series record.
func (s *Store) DeletePandoraSeries(ctx context.Context, ak, repo, name string) error {
	return s.exec(ctx, "DeletePandoraSeries", meta.PandoraSeriesKey(ak, repo, name), "",
		`DELETE FROM pandora_series WHERE access_key = ? AND repo = ? AND name = ?`, ak, repo, name)
}

const pandoraViewCols = `access_key, repo, name, sql, retention, metadata, created_at`

func scanPandoraView(r scanner) (meta.PandoraView, error) {
	var v meta.PandoraView
	var md string
	var at int64
	if err := r.Scan(&v.AccessKey, &v.Repo, &v.Name, &v.SQL, &v.Retention, &md, &at); err != nil {
		return meta.PandoraView{}, err
	}
	var err error
	if v.Metadata, err = decodeMetadata(md); err != nil {
		return meta.PandoraView{}, err
	}
	v.CreatedAt = fromNanos(at)
	return v, nil
}

// CreatePandoraView stores a view; a missing repo is ErrNotFound.
func (s *Store) CreatePandoraView(ctx context.Context, v meta.PandoraView) error {
	const op = "CreatePandoraView"
	if err := v.Validate(op); err != nil {
		return err
	}
	_, err := s.wdb.ExecContext(ctx, `INSERT INTO pandora_views (`+pandoraViewCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		v.AccessKey, v.Repo, v.Name, v.SQL, v.Retention, encodeMetadata(v.Metadata), nanos(createdAt(v.CreatedAt)))
	return wrap(op, meta.PandoraViewKey(v.AccessKey, v.Repo, v.Name), err, meta.PandoraRepoKey(v.AccessKey, v.Repo))
}

// PandoraView finds a view.
func (s *Store) PandoraView(ctx context.Context, ak, repo, name string) (meta.PandoraView, error) {
	v, err := scanPandoraView(s.rdb.QueryRowContext(ctx, `SELECT `+pandoraViewCols+` FROM pandora_views
		WHERE access_key = ? AND repo = ? AND name = ?`, ak, repo, name))
	return v, wrap("PandoraView", meta.PandoraViewKey(ak, repo, name), err, "")
}

// PandoraViews lists the views of a repo by name.
func (s *Store) PandoraViews(ctx context.Context, ak, repo string) ([]meta.PandoraView, error) {
	return queryList(ctx, s, "PandoraViews", meta.PandoraRepoKey(ak, repo), scanPandoraView,
		`SELECT `+pandoraViewCols+` FROM pandora_views WHERE access_key = ? AND repo = ? ORDER BY name`, ak, repo)
}

// DeletePandoraView removes a view.
func (s *Store) DeletePandoraView(ctx context.Context, ak, repo, name string) error {
	return s.exec(ctx, "DeletePandoraView", meta.PandoraViewKey(ak, repo, name), "",
		`DELETE FROM pandora_views WHERE access_key = ? AND repo = ? AND name = ?`, ak, repo, name)
}

// PandoraDeleting lists the repos and series marked deleting.
func (s *Store) PandoraDeleting(ctx context.Context) ([]meta.PandoraRepo, []meta.PandoraSeries, error) {
	repos, err := queryList(ctx, s, "PandoraDeleting", "", scanPandoraRepo,
		`SELECT `+pandoraRepoCols+` FROM pandora_repos WHERE deleting = 1 ORDER BY access_key, name`)
	if err != nil {
		return nil, nil, err
	}
	series, err := queryList(ctx, s, "PandoraDeleting", "", scanPandoraSeries,
		`SELECT `+pandoraSeriesCols+` FROM pandora_series WHERE deleting = 1 ORDER BY access_key, repo, name`)
	if err != nil {
		return nil, nil, err
	}
	return repos, series, nil
}
