package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/meta/internal/check"
	"github.com/kodo-project/kodo/storage/meta/internal/migrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLock is the pg_advisory_xact_lock key that serialises schema
// migrations of replicas starting together ("kodo" "meta" in ASCII).
const migrationLock int64 = 0x6b6f646f_6d657461

// PostgreSQL SQLSTATE codes we map to meta error kinds.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// Store is the PostgreSQL implementation of meta.Store, shared by several
// gateway replicas. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	log  *slog.Logger

	closeOnce sync.Once
}

var _ meta.Store = (*Store)(nil)

// Open connects to dsn (a postgres:// URL or key=value string understood by
// pgx, e.g. with pool_max_conns or search_path), brings the schema up to
// date and returns the store. A nil logger discards.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The parse error may quote the DSN, password included.
		return nil, &meta.Error{Op: "Open", Key: "postgres DSN " + redact(dsn), Kind: meta.ErrInvalid, Err: errors.New("cannot parse the DSN")}
	}
	key := fmt.Sprintf("postgres %s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, &meta.Error{Op: "Open", Key: key, Err: err}
	}
	s := &Store{pool: pool, log: logger}
	if err := s.migrate(ctx, key); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// redact hides the password of a URL DSN.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "(unparsable)"
	}
	return u.Redacted()
}

// migrate applies the pending embedded migrations in one transaction under
// an advisory lock: replicas starting at once take turns, and the later
// ones find the schema current.
func (s *Store) migrate(ctx context.Context, key string) error {
	fail := func(err error) error { return &meta.Error{Op: "Open", Key: key, Err: err} }
	ms, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return fail(err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		var cur int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
			return err
		}
		if cur > len(ms) {
			return fmt.Errorf("schema version %d is newer than this binary knows (%d); upgrade kodo", cur, len(ms))
		}
		for _, m := range ms[cur:] {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			s.log.Info("applied meta migration", "db", key, "migration", m.Name)
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// Pool exposes the connection pool, for health checks.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the pool; later calls do nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(s.pool.Close)
	return nil
}

// wrap turns a driver error into a *meta.Error whose kind says what the
// caller can do: a unique violation is ErrConflict and a foreign-key
// violation means the parent record named by parentKey does not exist.
func wrap(op, key string, err error, parentKey string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &meta.Error{Op: op, Key: key, Kind: meta.ErrNotFound}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case uniqueViolation:
			return &meta.Error{Op: op, Key: key, Kind: meta.ErrConflict, Err: err}
		case foreignKeyViolation:
			if parentKey != "" {
				key = parentKey
			}
			return &meta.Error{Op: op, Key: key, Kind: meta.ErrNotFound, Err: err}
		}
	}
	return &meta.Error{Op: op, Key: key, Err: err}
}

// exec runs one statement and reports ErrNotFound when it touched no row.
func (s *Store) exec(ctx context.Context, op, key, q string, args ...any) error {
	tag, err := s.pool.Exec(ctx, q, args...)
	if err != nil {
		return wrap(op, key, err, "")
	}
	if tag.RowsAffected() == 0 {
		return &meta.Error{Op: op, Key: key, Kind: meta.ErrNotFound}
	}
	return nil
}

// createdAt stamps records the caller did not date.
func createdAt(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

var (
	wsKey = check.WorkspaceKey
	dbKey = check.DatabaseKey
)

func cqKey(uuid string) string { return fmt.Sprintf("continuous query %q", uuid) }

const workspaceCols = `uuid, name, token, secret, created_at, prev_secret, prev_secret_until, allow_body_key`

func scanWorkspace(r pgx.Row) (meta.Workspace, error) {
	var w meta.Workspace
	if err := r.Scan(&w.UUID, &w.Name, &w.Token, &w.Secret, &w.CreatedAt, &w.PrevSecret, &w.PrevSecretUntil, &w.AllowBodyKey); err != nil {
		return meta.Workspace{}, err
	}
	w.CreatedAt = w.CreatedAt.UTC()
	if !w.PrevSecretUntil.After(time.Unix(0, 0)) { // the column's 'epoch' default: unset
		w.PrevSecretUntil = time.Time{}
	} else {
		w.PrevSecretUntil = w.PrevSecretUntil.UTC()
	}
	return w, nil
}

const databaseCols = `uuid, workspace_uuid, name, instance_uuid, default_rp, cq_rp, rps, created_at, max_series, max_values_per_tag`

func scanDatabase(r pgx.Row) (meta.Database, error) {
	var d meta.Database
	var maxSeries, maxValues int32
	if err := r.Scan(&d.UUID, &d.WorkspaceUUID, &d.Name, &d.InstanceUUID, &d.DefaultRP, &d.CQRP, &d.RPs, &d.CreatedAt, &maxSeries, &maxValues); err != nil {
		return meta.Database{}, err
	}
	if d.RPs == nil {
		d.RPs = []string{}
	}
	d.CreatedAt = d.CreatedAt.UTC()
	d.Limits = meta.DatabaseLimits{MaxSeries: int(maxSeries), MaxValuesPerTag: int(maxValues)}
	return d, nil
}

// rps keeps NULL out of the NOT NULL array column.
func rps(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// CreateWorkspace stores w and its database db in one transaction. An empty
// db.WorkspaceUUID is taken from w; zero CreatedAt fields become now.
func (s *Store) CreateWorkspace(ctx context.Context, w meta.Workspace, db meta.Database) error {
	const op = "CreateWorkspace"
	if db.WorkspaceUUID == "" {
		db.WorkspaceUUID = w.UUID
	}
	if err := w.Validate(op); err != nil {
		return err
	}
	if db.WorkspaceUUID != w.UUID {
		return meta.Invalid(op, wsKey(w.UUID), fmt.Sprintf("its database names workspace %q", db.WorkspaceUUID))
	}
	if err := db.Validate(op); err != nil {
		return err
	}
	w.CreatedAt = createdAt(w.CreatedAt)
	if db.CreatedAt.IsZero() {
		db.CreatedAt = w.CreatedAt
	}
	var opErr error // keeps the mapped error; BeginFunc returns fn's error as is
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO workspaces (`+workspaceCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			w.UUID, w.Name, w.Token, w.Secret, w.CreatedAt, w.PrevSecret, optTime(w.PrevSecretUntil), w.AllowBodyKey); err != nil {
			opErr = wrap(op, wsKey(w.UUID), err, "")
			return opErr
		}
		opErr = insertDatabase(ctx, tx, op, db)
		return opErr
	})
	if opErr != nil {
		return opErr
	}
	return wrap(op, wsKey(w.UUID), err, "")
}

func insertDatabase(ctx context.Context, tx pgx.Tx, op string, db meta.Database) error {
	_, err := tx.Exec(ctx, `INSERT INTO databases (`+databaseCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		db.UUID, db.WorkspaceUUID, db.Name, db.InstanceUUID, db.DefaultRP, db.CQRP, rps(db.RPs), db.CreatedAt,
		int32(db.Limits.MaxSeries), int32(db.Limits.MaxValuesPerTag))
	return wrap(op, dbKey(db.UUID), err, wsKey(db.WorkspaceUUID))
}

// WorkspaceByToken finds the workspace owning token. pgx prepares and
// caches the statement per connection.
func (s *Store) WorkspaceByToken(ctx context.Context, token string) (meta.Workspace, error) {
	w, err := scanWorkspace(s.pool.QueryRow(ctx, `SELECT `+workspaceCols+` FROM workspaces WHERE token = $1`, token))
	// The token is a credential: keep it out of error messages and logs.
	return w, wrap("WorkspaceByToken", "workspace of the given token", err, "")
}

// Workspace finds a workspace by UUID.
func (s *Store) Workspace(ctx context.Context, uuid string) (meta.Workspace, error) {
	w, err := scanWorkspace(s.pool.QueryRow(ctx, `SELECT `+workspaceCols+` FROM workspaces WHERE uuid = $1`, uuid))
	return w, wrap("Workspace", wsKey(uuid), err, "")
}

// optTime stores an unset time as the epoch, the column's default.
func optTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return t
}

// RotateWorkspaceSecret installs secret and keeps the one it replaces
// until prevUntil, in one statement (atomic against other replicas).
func (s *Store) RotateWorkspaceSecret(ctx context.Context, uuid, secret string, prevUntil time.Time) (meta.Workspace, error) {
	const op = "RotateWorkspaceSecret"
	if secret == "" {
		return meta.Workspace{}, meta.Invalid(op, wsKey(uuid), "the new secret is empty")
	}
	w, err := scanWorkspace(s.pool.QueryRow(ctx, `UPDATE workspaces
		SET prev_secret = secret, prev_secret_until = $1, secret = $2 WHERE uuid = $3
		RETURNING `+workspaceCols, optTime(prevUntil), secret, uuid))
	return w, wrap(op, wsKey(uuid), err, "")
}

// SetWorkspaceBodyKey turns MD5-keyed DATAFLUX signatures on or off.
func (s *Store) SetWorkspaceBodyKey(ctx context.Context, uuid string, allow bool) error {
	return s.exec(ctx, "SetWorkspaceBodyKey", wsKey(uuid), `UPDATE workspaces SET allow_body_key = $1 WHERE uuid = $2`, allow, uuid)
}

// RememberSignature inserts key, or takes over an expired record of it.
// A live record makes the conditional update touch no row: a replay. The
// unique key serialises concurrent inserts from several replicas.
func (s *Store) RememberSignature(ctx context.Context, key string, now, expires time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO seen_signatures (key, expires) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET expires = excluded.expires WHERE seen_signatures.expires <= $3`,
		key, expires, now)
	if err != nil {
		return false, wrap("RememberSignature", "a signature", err, "")
	}
	return tag.RowsAffected() == 1, nil
}

// ForgetSignatures deletes expired replay-cache records.
func (s *Store) ForgetSignatures(ctx context.Context, now time.Time) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM seen_signatures WHERE expires <= $1`, now)
	return wrap("ForgetSignatures", "expired signatures", err, "")
}

// ForgetSignature deletes one replay-cache record.
func (s *Store) ForgetSignature(ctx context.Context, key string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM seen_signatures WHERE key = $1`, key)
	return wrap("ForgetSignature", "a signature", err, "")
}

// CreateDatabase adds a database to an existing workspace.
func (s *Store) CreateDatabase(ctx context.Context, db meta.Database) error {
	const op = "CreateDatabase"
	if err := db.Validate(op); err != nil {
		return err
	}
	db.CreatedAt = createdAt(db.CreatedAt)
	_, err := s.pool.Exec(ctx, `INSERT INTO databases (`+databaseCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		db.UUID, db.WorkspaceUUID, db.Name, db.InstanceUUID, db.DefaultRP, db.CQRP, rps(db.RPs), db.CreatedAt,
		int32(db.Limits.MaxSeries), int32(db.Limits.MaxValuesPerTag))
	return wrap(op, dbKey(db.UUID), err, wsKey(db.WorkspaceUUID))
}

// Database finds a database by UUID.
func (s *Store) Database(ctx context.Context, uuid string) (meta.Database, error) {
	d, err := scanDatabase(s.pool.QueryRow(ctx, `SELECT `+databaseCols+` FROM databases WHERE uuid = $1`, uuid))
	return d, wrap("Database", dbKey(uuid), err, "")
}

// list runs q and scans every row with scan; the result is never nil.
func list[T any](ctx context.Context, s *Store, op, key, q string, scan func(pgx.Row) (T, error), args ...any) ([]T, error) {
	rows, err := s.pool.Query(ctx, q, args...)
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

func scanString(r pgx.Row) (string, error) {
	var v string
	err := r.Scan(&v)
	return v, err
}

// DatabasesByWorkspace lists the databases of a workspace, oldest first.
func (s *Store) DatabasesByWorkspace(ctx context.Context, workspaceUUID string) ([]meta.Database, error) {
	return list(ctx, s, "DatabasesByWorkspace", wsKey(workspaceUUID), `SELECT `+databaseCols+` FROM databases
		WHERE workspace_uuid = $1 ORDER BY created_at, uuid`, scanDatabase, workspaceUUID)
}

// UpdateDatabase rewrites DefaultRP, CQRP and RPs of the database db.UUID.
func (s *Store) UpdateDatabase(ctx context.Context, db meta.Database) error {
	const op = "UpdateDatabase"
	if err := db.ValidateUpdate(op); err != nil {
		return err
	}
	return s.exec(ctx, op, dbKey(db.UUID), `UPDATE databases SET default_rp = $1, cq_rp = $2, rps = $3 WHERE uuid = $4`,
		db.DefaultRP, db.CQRP, rps(db.RPs), db.UUID)
}

// SetDatabaseLimits rewrites the write limits of database uuid.
func (s *Store) SetDatabaseLimits(ctx context.Context, uuid string, l meta.DatabaseLimits) error {
	const op = "SetDatabaseLimits"
	if err := l.Validate(op, dbKey(uuid)); err != nil {
		return err
	}
	return s.exec(ctx, op, dbKey(uuid), `UPDATE databases SET max_series = $1, max_values_per_tag = $2 WHERE uuid = $3`,
		int32(l.MaxSeries), int32(l.MaxValuesPerTag), uuid)
}

// DeleteDatabase removes a database with its measurement RPs, dropping
// records and continuous queries.
func (s *Store) DeleteDatabase(ctx context.Context, uuid string) error {
	return s.exec(ctx, "DeleteDatabase", dbKey(uuid), `DELETE FROM databases WHERE uuid = $1`, uuid)
}

// UpsertInstance records in, or changes the URL of in.UUID. A URL already
// registered under another UUID is ErrConflict.
func (s *Store) UpsertInstance(ctx context.Context, in meta.Instance) error {
	const op = "UpsertInstance"
	if err := in.Validate(op); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO instances (uuid, url) VALUES ($1, $2)
		ON CONFLICT (uuid) DO UPDATE SET url = excluded.url WHERE instances.url <> excluded.url`, in.UUID, in.URL)
	return wrap(op, fmt.Sprintf("instance %q (URL %q)", in.UUID, in.URL), err, "")
}

// Instances lists the registered instances ordered by UUID.
func (s *Store) Instances(ctx context.Context) ([]meta.Instance, error) {
	return list(ctx, s, "Instances", "", `SELECT uuid, url FROM instances ORDER BY uuid`,
		func(r pgx.Row) (meta.Instance, error) {
			var in meta.Instance
			err := r.Scan(&in.UUID, &in.URL)
			return in, err
		})
}

// InstanceLoad maps every known instance UUID (registered, or named by a
// database) to its number of databases.
func (s *Store) InstanceLoad(ctx context.Context) (map[string]int, error) {
	const op = "InstanceLoad"
	rows, err := s.pool.Query(ctx, `SELECT i.uuid, COUNT(d.uuid) FROM instances i
			LEFT JOIN databases d ON d.instance_uuid = i.uuid GROUP BY i.uuid
		UNION ALL
		SELECT d.instance_uuid, COUNT(*) FROM databases d
			WHERE NOT EXISTS (SELECT 1 FROM instances i WHERE i.uuid = d.instance_uuid) GROUP BY d.instance_uuid`)
	if err != nil {
		return nil, wrap(op, "", err, "")
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return nil, wrap(op, "", err, "")
		}
		out[k] = int(n)
	}
	return out, wrap(op, "", rows.Err(), "")
}

// SetMeasurementRPs upserts the measurement -> RP pairs of a database in one
// statement. Rows are written in sorted order so concurrent calls lock them
// in the same order and cannot deadlock.
func (s *Store) SetMeasurementRPs(ctx context.Context, dbUUID string, rpByMeasurement map[string]string) error {
	const op = "SetMeasurementRPs"
	keys, err := check.MeasurementKeys(op, dbUUID, rpByMeasurement)
	if err != nil || len(keys) == 0 {
		return err
	}
	vals := make([]string, len(keys))
	for i, m := range keys {
		vals[i] = rpByMeasurement[m]
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO measurement_rps (db_uuid, measurement, rp)
		SELECT $1, u.m, u.rp FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(m, rp, n) ORDER BY u.n
		ON CONFLICT (db_uuid, measurement) DO UPDATE SET rp = excluded.rp WHERE measurement_rps.rp <> excluded.rp`,
		dbUUID, keys, vals)
	return wrap(op, dbKey(dbUUID), err, dbKey(dbUUID))
}

// MeasurementRPs returns the measurement -> RP map of a database (empty
// when there is none, including for an unknown database).
func (s *Store) MeasurementRPs(ctx context.Context, dbUUID string) (map[string]string, error) {
	const op = "MeasurementRPs"
	rows, err := s.pool.Query(ctx, `SELECT measurement, rp FROM measurement_rps WHERE db_uuid = $1`, dbUUID)
	if err != nil {
		return nil, wrap(op, dbKey(dbUUID), err, "")
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var m, rp string
		if err := rows.Scan(&m, &rp); err != nil {
			return nil, wrap(op, dbKey(dbUUID), err, "")
		}
		out[m] = rp
	}
	return out, wrap(op, dbKey(dbUUID), rows.Err(), "")
}

// DeleteMeasurementRP forgets the RP of one measurement.
func (s *Store) DeleteMeasurementRP(ctx context.Context, dbUUID, measurement string) error {
	return s.exec(ctx, "DeleteMeasurementRP", fmt.Sprintf("measurement %q of database %q", measurement, dbUUID),
		`DELETE FROM measurement_rps WHERE db_uuid = $1 AND measurement = $2`, dbUUID, measurement)
}

// AddKeyPair stores a key pair. Either key colliding with any key of
// another pair is ErrConflict.
func (s *Store) AddKeyPair(ctx context.Context, kp meta.KeyPair) error {
	const op = "AddKeyPair"
	if err := kp.Validate(op); err != nil {
		return err
	}
	key := fmt.Sprintf("access key %q", kp.AccessKey)
	var opErr error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO key_pairs (access_key, secret_key, workspace_uuid) VALUES ($1, $2, $3)`,
			kp.AccessKey, kp.SecretKey, kp.WorkspaceUUID); err != nil {
			opErr = wrap(op, key, err, wsKey(kp.WorkspaceUUID))
			return opErr
		}
		if _, err := tx.Exec(ctx, `INSERT INTO key_ids (id, access_key) VALUES ($1, $1), ($2, $1)`,
			kp.AccessKey, kp.SecretKey); err != nil {
			opErr = wrap(op, key, err, "")
			return opErr
		}
		return nil
	})
	if opErr != nil {
		return opErr
	}
	return wrap(op, key, err, "")
}

// KeyPairByID finds the pair whose access key or secret key equals id.
func (s *Store) KeyPairByID(ctx context.Context, id string) (meta.KeyPair, error) {
	var kp meta.KeyPair
	err := s.pool.QueryRow(ctx, `SELECT k.access_key, k.secret_key, k.workspace_uuid
		FROM key_ids i JOIN key_pairs k ON k.access_key = i.access_key WHERE i.id = $1`, id).
		Scan(&kp.AccessKey, &kp.SecretKey, &kp.WorkspaceUUID)
	// id may be a secret key: keep it out of the message.
	return kp, wrap("KeyPairByID", "key pair of the given key", err, "")
}

// DatakitOnline records that these datakits of a workspace were seen at t.
// A datakit's time only moves forward, so a late report cannot hide a newer
// one.
func (s *Store) DatakitOnline(ctx context.Context, workspaceUUID string, datakitUUIDs []string, t time.Time) error {
	const op = "DatakitOnline"
	ids, err := check.DatakitIDs(op, workspaceUUID, datakitUUIDs, t)
	if err != nil || len(ids) == 0 {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO datakits_online (workspace_uuid, datakit_uuid, last_seen)
		SELECT $1, u.id, $3 FROM unnest($2::text[]) WITH ORDINALITY AS u(id, n) ORDER BY u.n
		ON CONFLICT (workspace_uuid, datakit_uuid) DO UPDATE SET last_seen = excluded.last_seen
		WHERE excluded.last_seen > datakits_online.last_seen`, workspaceUUID, ids, t)
	return wrap(op, wsKey(workspaceUUID), err, wsKey(workspaceUUID))
}

// DatakitsOnline lists, sorted, the datakits of a workspace seen at or after
// since.
func (s *Store) DatakitsOnline(ctx context.Context, workspaceUUID string, since time.Time) ([]string, error) {
	return list(ctx, s, "DatakitsOnline", wsKey(workspaceUUID), `SELECT datakit_uuid FROM datakits_online
		WHERE workspace_uuid = $1 AND last_seen >= $2 ORDER BY datakit_uuid`, scanString, workspaceUUID, since)
}

// AddDropping records that measurement of dbUUID is being dropped. A
// measurement already being dropped is ErrConflict.
func (s *Store) AddDropping(ctx context.Context, dbUUID, measurement string) error {
	const op = "AddDropping"
	if err := check.Dropping(op, dbUUID, measurement); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO dropping (db_uuid, measurement) VALUES ($1, $2)`, dbUUID, measurement)
	return wrap(op, check.DropKey(dbUUID, measurement), err, dbKey(dbUUID))
}

// RemoveDropping clears the record once the drop finished.
func (s *Store) RemoveDropping(ctx context.Context, dbUUID, measurement string) error {
	return s.exec(ctx, "RemoveDropping", check.DropKey(dbUUID, measurement),
		`DELETE FROM dropping WHERE db_uuid = $1 AND measurement = $2`, dbUUID, measurement)
}

// Dropping lists, sorted, the measurements of a database being dropped.
func (s *Store) Dropping(ctx context.Context, dbUUID string) ([]string, error) {
	return list(ctx, s, "Dropping", dbKey(dbUUID),
		`SELECT measurement FROM dropping WHERE db_uuid = $1 ORDER BY measurement`, scanString, dbUUID)
}

// AllDropping maps every database with drops in progress to its sorted
// measurements, for resuming them at start-up.
func (s *Store) AllDropping(ctx context.Context) (map[string][]string, error) {
	const op = "AllDropping"
	rows, err := s.pool.Query(ctx, `SELECT db_uuid, measurement FROM dropping ORDER BY db_uuid, measurement`)
	if err != nil {
		return nil, wrap(op, "", err, "")
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var db, m string
		if err := rows.Scan(&db, &m); err != nil {
			return nil, wrap(op, "", err, "")
		}
		out[db] = append(out[db], m)
	}
	return out, wrap(op, "", rows.Err(), "")
}

const cqCols = `uuid, workspace_uuid, db_uuid, measurement, aggr_func, aggr_period, aggr_every, created_at`

func scanCQ(r pgx.Row) (meta.ContinuousQuery, error) {
	var cq meta.ContinuousQuery
	if err := r.Scan(&cq.UUID, &cq.WorkspaceUUID, &cq.DBUUID, &cq.Measurement, &cq.AggrFunc, &cq.AggrPeriod, &cq.AggrEvery, &cq.CreatedAt); err != nil {
		return meta.ContinuousQuery{}, err
	}
	cq.CreatedAt = cq.CreatedAt.UTC()
	return cq, nil
}

// CreateCQ stores a continuous query of a database of the same workspace.
func (s *Store) CreateCQ(ctx context.Context, cq meta.ContinuousQuery) error {
	const op = "CreateCQ"
	if err := cq.Validate(op); err != nil {
		return err
	}
	cq.CreatedAt = createdAt(cq.CreatedAt)
	_, err := s.pool.Exec(ctx, `INSERT INTO continuous_queries (`+cqCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		cq.UUID, cq.WorkspaceUUID, cq.DBUUID, cq.Measurement, cq.AggrFunc, cq.AggrPeriod, cq.AggrEvery, cq.CreatedAt)
	return wrap(op, cqKey(cq.UUID), err, fmt.Sprintf("database %q of workspace %q", cq.DBUUID, cq.WorkspaceUUID))
}

// UpdateCQ rewrites Measurement and the Aggr fields of the CQ cq.UUID of
// workspace cq.WorkspaceUUID; DBUUID and CreatedAt are kept.
func (s *Store) UpdateCQ(ctx context.Context, cq meta.ContinuousQuery) error {
	const op = "UpdateCQ"
	if err := cq.ValidateUpdate(op); err != nil {
		return err
	}
	return s.exec(ctx, op, fmt.Sprintf("continuous query %q of workspace %q", cq.UUID, cq.WorkspaceUUID),
		`UPDATE continuous_queries SET measurement = $1, aggr_func = $2, aggr_period = $3, aggr_every = $4
		WHERE uuid = $5 AND workspace_uuid = $6`,
		cq.Measurement, cq.AggrFunc, cq.AggrPeriod, cq.AggrEvery, cq.UUID, cq.WorkspaceUUID)
}

// DeleteCQ removes a continuous query.
func (s *Store) DeleteCQ(ctx context.Context, uuid string) error {
	return s.exec(ctx, "DeleteCQ", cqKey(uuid), `DELETE FROM continuous_queries WHERE uuid = $1`, uuid)
}

// CQ finds a continuous query by UUID.
func (s *Store) CQ(ctx context.Context, uuid string) (meta.ContinuousQuery, error) {
	cq, err := scanCQ(s.pool.QueryRow(ctx, `SELECT `+cqCols+` FROM continuous_queries WHERE uuid = $1`, uuid))
	return cq, wrap("CQ", cqKey(uuid), err, "")
}

// CQsByWorkspace lists the continuous queries of a workspace, oldest first.
func (s *Store) CQsByWorkspace(ctx context.Context, workspaceUUID string) ([]meta.ContinuousQuery, error) {
	return list(ctx, s, "CQsByWorkspace", wsKey(workspaceUUID), `SELECT `+cqCols+` FROM continuous_queries
		WHERE workspace_uuid = $1 ORDER BY created_at, uuid`, scanCQ, workspaceUUID)
}

// SetLogPipeline stores (or, with an empty url, removes) the pipeline of a
// workspace's log source.
func (s *Store) SetLogPipeline(ctx context.Context, workspaceUUID, source, url string) error {
	const op = "SetLogPipeline"
	key := fmt.Sprintf("pipeline %q of workspace %q", source, workspaceUUID)
	if workspaceUUID == "" || source == "" {
		return meta.Invalid(op, key, "workspace uuid and source are required")
	}
	var err error
	if url == "" {
		_, err = s.pool.Exec(ctx, `DELETE FROM log_pipelines WHERE workspace_uuid = $1 AND source = $2`, workspaceUUID, source)
	} else {
		_, err = s.pool.Exec(ctx, `INSERT INTO log_pipelines (workspace_uuid, source, url) VALUES ($1, $2, $3)
			ON CONFLICT (workspace_uuid, source) DO UPDATE SET url = excluded.url`, workspaceUUID, source, url)
	}
	return wrap(op, key, err, wsKey(workspaceUUID))
}

// LogPipeline returns the pipeline url of a workspace's log source.
func (s *Store) LogPipeline(ctx context.Context, workspaceUUID, source string) (string, error) {
	var url string
	err := s.pool.QueryRow(ctx, `SELECT url FROM log_pipelines WHERE workspace_uuid = $1 AND source = $2`,
		workspaceUUID, source).Scan(&url)
	return url, wrap("LogPipeline", fmt.Sprintf("pipeline %q of workspace %q", source, workspaceUUID), err, "")
}
