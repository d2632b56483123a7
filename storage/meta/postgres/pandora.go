package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

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
	if md == nil {
		md = map[string]string{}
	}
	return md, nil
}

func akKey(ak string) string { return fmt.Sprintf("pandora access key %q", ak) }

// AddPandoraKeyPair stores a Pandora key pair; a known access key is ErrConflict.
func (s *Store) AddPandoraKeyPair(ctx context.Context, kp meta.PandoraKeyPair) error {
	const op = "AddPandoraKeyPair"
	if err := kp.Validate(op); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO pandora_key_pairs (access_key, secret_key, created_at) VALUES ($1, $2, $3)`,
		kp.AccessKey, kp.SecretKey, createdAt(kp.CreatedAt))
	return wrap(op, akKey(kp.AccessKey), err, "")
}

// PandoraKeyPair finds the pair of an access key.
func (s *Store) PandoraKeyPair(ctx context.Context, accessKey string) (meta.PandoraKeyPair, error) {
	var kp meta.PandoraKeyPair
	err := s.pool.QueryRow(ctx, `SELECT access_key, secret_key, created_at FROM pandora_key_pairs WHERE access_key = $1`, accessKey).
		Scan(&kp.AccessKey, &kp.SecretKey, &kp.CreatedAt)
	if err != nil {
		return meta.PandoraKeyPair{}, wrap("PandoraKeyPair", akKey(accessKey), err, "")
	}
	kp.CreatedAt = kp.CreatedAt.UTC()
	return kp, nil
}

const pandoraRepoCols = `access_key, name, region, metadata, created_at, deleting`

func scanPandoraRepo(r pgx.Row) (meta.PandoraRepo, error) {
	var p meta.PandoraRepo
	var md string
	if err := r.Scan(&p.AccessKey, &p.Name, &p.Region, &md, &p.CreatedAt, &p.Deleting); err != nil {
		return meta.PandoraRepo{}, err
	}
	var err error
	if p.Metadata, err = decodeMetadata(md); err != nil {
		return meta.PandoraRepo{}, err
	}
	p.CreatedAt = p.CreatedAt.UTC()
	return p, nil
}

// CreatePandoraRepo stores a repo; an unknown access key is ErrNotFound
// and a taken name ErrConflict.
func (s *Store) CreatePandoraRepo(ctx context.Context, r meta.PandoraRepo) error {
	const op = "CreatePandoraRepo"
	if err := r.Validate(op); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO pandora_repos (`+pandoraRepoCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		r.AccessKey, r.Name, r.Region, encodeMetadata(r.Metadata), createdAt(r.CreatedAt), r.Deleting)
	return wrap(op, meta.PandoraRepoKey(r.AccessKey, r.Name), err, akKey(r.AccessKey))
}

// PandoraRepo finds a repo of an access key.
func (s *Store) PandoraRepo(ctx context.Context, ak, name string) (meta.PandoraRepo, error) {
	r, err := scanPandoraRepo(s.pool.QueryRow(ctx, `SELECT `+pandoraRepoCols+` FROM pandora_repos WHERE access_key = $1 AND name = $2`, ak, name))
	return r, wrap("PandoraRepo", meta.PandoraRepoKey(ak, name), err, "")
}

// PandoraRepos lists the repos of an access key by name.
func (s *Store) PandoraRepos(ctx context.Context, ak string) ([]meta.PandoraRepo, error) {
	return list(ctx, s, "PandoraRepos", akKey(ak),
		`SELECT `+pandoraRepoCols+` FROM pandora_repos WHERE access_key = $1 ORDER BY name`, scanPandoraRepo, ak)
}

// UpdatePandoraRepo rewrites Metadata and Deleting.
func (s *Store) UpdatePandoraRepo(ctx context.Context, r meta.PandoraRepo) error {
	return s.exec(ctx, "UpdatePandoraRepo", meta.PandoraRepoKey(r.AccessKey, r.Name),
		`UPDATE pandora_repos SET metadata = $1, deleting = $2 WHERE access_key = $3 AND name = $4`,
		encodeMetadata(r.Metadata), r.Deleting, r.AccessKey, r.Name)
}

// DeletePandoraRepo removes a repo with its series and views.
func (s *Store) DeletePandoraRepo(ctx context.Context, ak, name string) error {
	return s.exec(ctx, "DeletePandoraRepo", meta.PandoraRepoKey(ak, name),
		`DELETE FROM pandora_repos WHERE access_key = $1 AND name = $2`, ak, name)
}

const pandoraSeriesCols = `access_key, repo, name, retention, metadata, type, created_at, deleting`

func scanPandoraSeries(r pgx.Row) (meta.PandoraSeries, error) {
	var p meta.PandoraSeries
	var md string
	var typ int32
	if err := r.Scan(&p.AccessKey, &p.Repo, &p.Name, &p.Retention, &md, &typ, &p.CreatedAt, &p.Deleting); err != nil {
		return meta.PandoraSeries{}, err
	}
	var err error
	if p.Metadata, err = decodeMetadata(md); err != nil {
		return meta.PandoraSeries{}, err
	}
	p.Type, p.CreatedAt = int(typ), p.CreatedAt.UTC()
	return p, nil
}

// CreatePandoraSeries stores a series; a missing repo is ErrNotFound, a
// full one (maxPerRepo > 0) ErrLimit. With a limit, the repo's row is
// locked (FOR UPDATE) for the count and the insert, so concurrent
// creations from any number of gateways take turns and cannot overshoot.
func (s *Store) CreatePandoraSeries(ctx context.Context, p meta.PandoraSeries, maxPerRepo int) error {
	const op = "CreatePandoraSeries"
	if err := p.Validate(op); err != nil {
		return err
	}
	key, repoKey := meta.PandoraSeriesKey(p.AccessKey, p.Repo, p.Name), meta.PandoraRepoKey(p.AccessKey, p.Repo)
	insert := `INSERT INTO pandora_series (` + pandoraSeriesCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	args := []any{p.AccessKey, p.Repo, p.Name, p.Retention, encodeMetadata(p.Metadata), int32(p.Type), createdAt(p.CreatedAt), p.Deleting}
	if maxPerRepo <= 0 {
		_, err := s.pool.Exec(ctx, insert, args...)
		return wrap(op, key, err, repoKey)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap(op, key, err, "")
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var one int
	if err := tx.QueryRow(ctx, `SELECT 1 FROM pandora_repos WHERE access_key = $1 AND name = $2 FOR UPDATE`, p.AccessKey, p.Repo).Scan(&one); err != nil {
		return wrap(op, repoKey, err, "")
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM pandora_series WHERE access_key = $1 AND repo = $2`, p.AccessKey, p.Repo).Scan(&n); err != nil {
		return wrap(op, key, err, "")
	}
	if n >= maxPerRepo {
		return &meta.Error{Op: op, Key: repoKey, Kind: meta.ErrLimit, Err: fmt.Errorf("the repo holds %d series, the most allowed", n)}
	}
	if _, err := tx.Exec(ctx, insert, args...); err != nil {
		return wrap(op, key, err, repoKey)
	}
	return wrap(op, key, tx.Commit(ctx), "")
}

// PandoraSeries finds a series.
func (s *Store) PandoraSeries(ctx context.Context, ak, repo, name string) (meta.PandoraSeries, error) {
	p, err := scanPandoraSeries(s.pool.QueryRow(ctx, `SELECT `+pandoraSeriesCols+` FROM pandora_series
		WHERE access_key = $1 AND repo = $2 AND name = $3`, ak, repo, name))
	return p, wrap("PandoraSeries", meta.PandoraSeriesKey(ak, repo, name), err, "")
}

// PandoraSeriesList lists the series of a repo by name.
func (s *Store) PandoraSeriesList(ctx context.Context, ak, repo string) ([]meta.PandoraSeries, error) {
	return list(ctx, s, "PandoraSeriesList", meta.PandoraRepoKey(ak, repo),
		`SELECT `+pandoraSeriesCols+` FROM pandora_series WHERE access_key = $1 AND repo = $2 ORDER BY name`, scanPandoraSeries, ak, repo)
}

// UpdatePandoraSeries rewrites Metadata and Deleting.
func (s *Store) UpdatePandoraSeries(ctx context.Context, p meta.PandoraSeries) error {
	return s.exec(ctx, "UpdatePandoraSeries", meta.PandoraSeriesKey(p.AccessKey, p.Repo, p.Name),
		`UPDATE pandora_series SET metadata = $1, deleting = $2 WHERE access_key = $3 AND repo = $4 AND name = $5`,
		encodeMetadata(p.Metadata), p.Deleting, p.AccessKey, p.Repo, p.Name)
}

// DeletePandoraSeries removes a series record.
func (s *Store) DeletePandoraSeries(ctx context.Context, ak, repo, name string) error {
	return s.exec(ctx, "DeletePandoraSeries", meta.PandoraSeriesKey(ak, repo, name),
		`DELETE FROM pandora_series WHERE access_key = $1 AND repo = $2 AND name = $3`, ak, repo, name)
}

const pandoraViewCols = `access_key, repo, name, sql, retention, metadata, created_at`

func scanPandoraView(r pgx.Row) (meta.PandoraView, error) {
	var v meta.PandoraView
	var md string
	if err := r.Scan(&v.AccessKey, &v.Repo, &v.Name, &v.SQL, &v.Retention, &md, &v.CreatedAt); err != nil {
		return meta.PandoraView{}, err
	}
	var err error
	if v.Metadata, err = decodeMetadata(md); err != nil {
		return meta.PandoraView{}, err
	}
	v.CreatedAt = v.CreatedAt.UTC()
	return v, nil
}

// CreatePandoraView stores a view; a missing repo is ErrNotFound.
func (s *Store) CreatePandoraView(ctx context.Context, v meta.PandoraView) error {
	const op = "CreatePandoraView"
	if err := v.Validate(op); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO pandora_views (`+pandoraViewCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		v.AccessKey, v.Repo, v.Name, v.SQL, v.Retention, encodeMetadata(v.Metadata), createdAt(v.CreatedAt))
	return wrap(op, meta.PandoraViewKey(v.AccessKey, v.Repo, v.Name), err, meta.PandoraRepoKey(v.AccessKey, v.Repo))
}

// PandoraView finds a view.
func (s *Store) PandoraView(ctx context.Context, ak, repo, name string) (meta.PandoraView, error) {
	v, err := scanPandoraView(s.pool.QueryRow(ctx, `SELECT `+pandoraViewCols+` FROM pandora_views
		WHERE access_key = $1 AND repo = $2 AND name = $3`, ak, repo, name))
	return v, wrap("PandoraView", meta.PandoraViewKey(ak, repo, name), err, "")
}

// PandoraViews lists the views of a repo by name.
func (s *Store) PandoraViews(ctx context.Context, ak, repo string) ([]meta.PandoraView, error) {
	return list(ctx, s, "PandoraViews", meta.PandoraRepoKey(ak, repo),
		`SELECT `+pandoraViewCols+` FROM pandora_views WHERE access_key = $1 AND repo = $2 ORDER BY name`, scanPandoraView, ak, repo)
}

// DeletePandoraView removes a view.
func (s *Store) DeletePandoraView(ctx context.Context, ak, repo, name string) error {
	return s.exec(ctx, "DeletePandoraView", meta.PandoraViewKey(ak, repo, name),
		`DELETE FROM pandora_views WHERE access_key = $1 AND repo = $2 AND name = $3`, ak, repo, name)
}

// PandoraDeleting lists the repos and series marked deleting.
func (s *Store) PandoraDeleting(ctx context.Context) ([]meta.PandoraRepo, []meta.PandoraSeries, error) {
	repos, err := list(ctx, s, "PandoraDeleting", "",
		`SELECT `+pandoraRepoCols+` FROM pandora_repos WHERE deleting ORDER BY access_key, name`, scanPandoraRepo)
	if err != nil {
		return nil, nil, err
	}
	series, err := list(ctx, s, "PandoraDeleting", "",
		`SELECT `+pandoraSeriesCols+` FROM pandora_series WHERE deleting ORDER BY access_key, repo, name`, scanPandoraSeries)
	if err != nil {
		return nil, nil, err
	}
	return repos, series, nil
}
