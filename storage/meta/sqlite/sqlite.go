package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/kodo-project/kodo/storage/meta"
	"github.com/kodo-project/kodo/storage/meta/internal/check"
	"github.com/kodo-project/kodo/storage/meta/internal/migrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// busyTimeout bounds how long a writer waits for another process holding
// the file (our own goroutines queue on the single write connection).
const busyTimeout = 10 * time.Second

// Store is the SQLite implementation of meta.Store. It is safe for
// concurrent use.
type Store struct {
	path string
	log  *slog.Logger

	// SQLite admits one writer at a time. Every write goes through wdb,
	// which holds a single connection, so goroutines queue inside
	// database/sql instead of failing with SQLITE_BUSY; its transactions
	// begin IMMEDIATE so a read never has to be upgraded to a write lock.
	wdb *sql.DB
	// rdb is a pool of query-only connections: WAL lets them read while
	// the writer commits.
	rdb *sql.DB

	// Prepared statements for the lookups on the request path.
	wsByToken, wsByUUID, dbByUUID, keyPair, measRPs *sql.Stmt

	closeOnce sync.Once
	closeErr  error
}

var _ meta.Store = (*Store)(nil)

// Open opens (creating it and its directory if needed) the SQLite file at
// path and brings its schema up to date. path must name a file; ":memory:"
// is refused because the read and write pools must share the same data.
// A nil logger discards.
func Open(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case path == "" || path == ":memory:" || strings.HasPrefix(path, "file:"):
		return nil, meta.Invalid("Open", fmt.Sprintf("path %q", path), "need a plain file path (in-memory and URI names are not supported)")
	case strings.ContainsRune(path, '?'):
		return nil, meta.Invalid("Open", fmt.Sprintf("path %q", path), `a path must not contain "?" (it would be read as DSN options)`)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, &meta.Error{Op: "Open", Key: fmt.Sprintf("path %q", path), Err: err}
	}
	// Create the file ourselves so the tokens and keys in it are not
	// world-readable (SQLite would use 0644).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, &meta.Error{Op: "Open", Key: fmt.Sprintf("path %q", path), Err: err}
	}
	_ = f.Close()

	// synchronous=FULL: a record we acknowledged must survive a power cut
	// or SIGKILL; NORMAL could lose the last commits in WAL mode.
	common := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=1&_synchronous=FULL", busyTimeout.Milliseconds())
	s := &Store{path: path, log: logger}
	s.wdb, err = sql.Open("sqlite", path+"?"+common+"&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		return nil, &meta.Error{Op: "Open", Key: fmt.Sprintf("path %q", path), Err: err}
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	s.wdb.SetConnMaxIdleTime(0)
	if err := s.open(ctx, common); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) open(ctx context.Context, common string) error {
	fail := func(err error) error { return &meta.Error{Op: "Open", Key: fmt.Sprintf("path %q", s.path), Err: err} }
	var mode string
	if err := s.wdb.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fail(err)
	}
	if !strings.EqualFold(mode, "wal") {
		// WAL needs shared memory; some network file systems refuse it.
		// Rollback journaling still works, only readers block the writer.
		s.log.Warn("sqlite meta store is not in WAL mode", "path", s.path, "journal_mode", mode)
	}
	if err := s.migrate(ctx); err != nil {
		return err
	}
	var err error
	s.rdb, err = sql.Open("sqlite", s.path+"?"+common+"&_query_only=1")
	if err != nil {
		return fail(err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.rdb.SetMaxOpenConns(n)
	s.rdb.SetMaxIdleConns(n)
	prep := func(dst **sql.Stmt, q string) {
		if err != nil {
			return
		}
		*dst, err = s.rdb.PrepareContext(ctx, q)
	}
	prep(&s.wsByToken, `SELECT `+workspaceCols+` FROM workspaces WHERE token = ?`)
	prep(&s.wsByUUID, `SELECT `+workspaceCols+` FROM workspaces WHERE uuid = ?`)
	prep(&s.dbByUUID, `SELECT `+databaseCols+` FROM databases WHERE uuid = ?`)
	prep(&s.keyPair, `SELECT k.access_key, k.secret_key, k.workspace_uuid
		FROM key_ids i JOIN key_pairs k ON k.access_key = i.access_key WHERE i.id = ?`)
	prep(&s.measRPs, `SELECT measurement, rp FROM measurement_rps WHERE db_uuid = ?`)
	if err != nil {
		return fail(fmt.Errorf("prepare: %w", err))
	}
	return nil
}

// migrate applies the pending embedded migrations in one IMMEDIATE
// transaction, so two processes opening the same file take turns and the
// second finds nothing to do.
func (s *Store) migrate(ctx context.Context) error {
	fail := func(err error) error { return &meta.Error{Op: "Open", Key: fmt.Sprintf("path %q", s.path), Err: err} }
	ms, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return fail(err)
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fail(err)
	}
	var cur int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
		return fail(err)
	}
	if cur > len(ms) {
		return fail(fmt.Errorf("schema version %d is newer than this binary knows (%d); upgrade kodo", cur, len(ms)))
	}
	for _, m := range ms[cur:] {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fail(fmt.Errorf("migration %s: %w", m.Name, err))
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.Version, m.Name, time.Now().UnixNano()); err != nil {
			return fail(fmt.Errorf("migration %s: %w", m.Name, err))
		}
		s.log.Info("applied meta migration", "path", s.path, "migration", m.Name)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return nil
}

// Path returns the file the store was opened on.
func (s *Store) Path() string { return s.path }

// Close checkpoints the WAL into the main file and closes every
// connection. Later calls return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Store) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.wsByToken, s.wsByUUID, s.dbByUUID, s.keyPair, s.measRPs} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	if s.wdb != nil {
		// Leaves a small file behind for backups; a failure only means the
		// WAL is replayed at the next open.
		if _, err := s.wdb.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			s.log.Warn("sqlite meta checkpoint failed", "path", s.path, "err", err)
		}
		errs = append(errs, s.wdb.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return &meta.Error{Op: "Close", Key: fmt.Sprintf("path %q", s.path), Err: err}
	}
	return nil
}

// wrap turns a driver error into a *meta.Error whose kind says what the
// caller can do: a unique violation is ErrConflict and a foreign-key
// violation means the parent record named by parentKey does not exist.
func wrap(op, key string, err error, parentKey string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return &meta.Error{Op: op, Key: key, Kind: meta.ErrNotFound}
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &meta.Error{Op: op, Key: key, Kind: meta.ErrConflict, Err: err}
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			if parentKey != "" {
				key = parentKey
			}
			return &meta.Error{Op: op, Key: key, Kind: meta.ErrNotFound, Err: err}
		}
	}
	return &meta.Error{Op: op, Key: key, Err: err}
}

// write runs fn in a write transaction on the single write connection.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// exec runs one write statement and reports ErrNotFound when it touched no
// row.
func (s *Store) exec(ctx context.Context, op, key, parentKey, q string, args ...any) error {
	res, err := s.wdb.ExecContext(ctx, q, args...)
	if err != nil {
		return wrap(op, key, err, parentKey)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(op, key, err, parentKey)
	}
	if n == 0 {
		return &meta.Error{Op: op, Key: key, Kind: meta.ErrNotFound}
	}
	return nil
}

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// optNanos stores an unset time as 0 (UnixNano of the zero time overflows).
func optNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
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

type scanner interface{ Scan(dest ...any) error }

func scanWorkspace(r scanner) (meta.Workspace, error) {
	var w meta.Workspace
	var at, prevUntil int64
	if err := r.Scan(&w.UUID, &w.Name, &w.Token, &w.Secret, &at, &w.PrevSecret, &prevUntil, &w.AllowBodyKey); err != nil {
		return meta.Workspace{}, err
	}
	w.CreatedAt = fromNanos(at)
	if prevUntil != 0 {
		w.PrevSecretUntil = fromNanos(prevUntil)
	}
	return w, nil
}

const databaseCols = `uuid, workspace_uuid, name, instance_uuid, default_rp, cq_rp, rps, created_at, max_series, max_values_per_tag`

func scanDatabase(r scanner) (meta.Database, error) {
	var d meta.Database
	var rps string
	var at int64
	if err := r.Scan(&d.UUID, &d.WorkspaceUUID, &d.Name, &d.InstanceUUID, &d.DefaultRP, &d.CQRP, &rps, &at, &d.Limits.MaxSeries, &d.Limits.MaxValuesPerTag); err != nil {
		return meta.Database{}, err
	}
	if err := json.Unmarshal([]byte(rps), &d.RPs); err != nil {
		return meta.Database{}, fmt.Errorf("column rps of database %q: %w", d.UUID, err)
	}
	if d.RPs == nil {
		d.RPs = []string{}
	}
	d.CreatedAt = fromNanos(at)
	return d, nil
}

func encodeRPs(rps []string) string {
	if rps == nil {
		rps = []string{}
	}
	b, _ := json.Marshal(rps) // a []string always marshals
	return string(b)
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
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO workspaces (`+workspaceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			w.UUID, w.Name, w.Token, w.Secret, nanos(w.CreatedAt), w.PrevSecret, optNanos(w.PrevSecretUntil), w.AllowBodyKey); err != nil {
			return wrap(op, wsKey(w.UUID), err, "")
		}
		return insertDatabase(ctx, tx, op, db)
	})
}

func insertDatabase(ctx context.Context, tx *sql.Tx, op string, db meta.Database) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO databases (`+databaseCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		db.UUID, db.WorkspaceUUID, db.Name, db.InstanceUUID, db.DefaultRP, db.CQRP, encodeRPs(db.RPs), nanos(db.CreatedAt),
		db.Limits.MaxSeries, db.Limits.MaxValuesPerTag)
	return wrap(op, dbKey(db.UUID), err, wsKey(db.WorkspaceUUID))
}

// WorkspaceByToken finds the workspace owning token.
func (s *Store) WorkspaceByToken(ctx context.Context, token string) (meta.Workspace, error) {
	w, err := scanWorkspace(s.wsByToken.QueryRowContext(ctx, token))
	// The token is a credential: keep it out of error messages and logs.
	return w, wrap("WorkspaceByToken", "workspace of the given token", err, "")
}

// Workspace finds a workspace by UUID.
func (s *Store) Workspace(ctx context.Context, uuid string) (meta.Workspace, error) {
	w, err := scanWorkspace(s.wsByUUID.QueryRowContext(ctx, uuid))
	return w, wrap("Workspace", wsKey(uuid), err, "")
}

// RotateWorkspaceSecret installs secret and keeps the one it replaces
// until prevUntil, in one statement.
func (s *Store) RotateWorkspaceSecret(ctx context.Context, uuid, secret string, prevUntil time.Time) (meta.Workspace, error) {
	const op = "RotateWorkspaceSecret"
	if secret == "" {
		return meta.Workspace{}, meta.Invalid(op, wsKey(uuid), "the new secret is empty")
	}
	var w meta.Workspace
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		w, err = scanWorkspace(tx.QueryRowContext(ctx, `UPDATE workspaces
			SET prev_secret = secret, prev_secret_until = ?, secret = ? WHERE uuid = ?
			RETURNING `+workspaceCols, optNanos(prevUntil), secret, uuid))
		return wrap(op, wsKey(uuid), err, "")
	})
	return w, err
}

// SetWorkspaceBodyKey turns MD5-keyed DATAFLUX signatures on or off.
func (s *Store) SetWorkspaceBodyKey(ctx context.Context, uuid string, allow bool) error {
	const op = "SetWorkspaceBodyKey"
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE workspaces SET allow_body_key = ? WHERE uuid = ?`, allow, uuid)
		if err != nil {
			return wrap(op, wsKey(uuid), err, "")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &meta.Error{Op: op, Key: wsKey(uuid), Kind: meta.ErrNotFound}
		}
		return nil
	})
}

// RememberSignature inserts key, or takes over an expired record of it;
// a live record leaves the row untouched and reports a replay.
func (s *Store) RememberSignature(ctx context.Context, key string, now, expires time.Time) (bool, error) {
	const op = "RememberSignature"
	var fresh bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO seen_signatures (key, expires) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET expires = excluded.expires WHERE seen_signatures.expires <= ?`,
			key, nanos(expires), nanos(now))
		if err != nil {
			return wrap(op, "a signature", err, "")
		}
		n, err := res.RowsAffected()
		fresh = n == 1
		return wrap(op, "a signature", err, "")
	})
	return fresh, err
}

// ForgetSignatures deletes expired replay-cache records.
func (s *Store) ForgetSignatures(ctx context.Context, now time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM seen_signatures WHERE expires <= ?`, nanos(now))
		return wrap("ForgetSignatures", "expired signatures", err, "")
	})
}

// ForgetSignature deletes one replay-cache record.
func (s *Store) ForgetSignature(ctx context.Context, key string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM seen_signatures WHERE key = ?`, key)
		return wrap("ForgetSignature", "a signature", err, "")
	})
}

// CreateDatabase adds a database to an existing workspace.
func (s *Store) CreateDatabase(ctx context.Context, db meta.Database) error {
	const op = "CreateDatabase"
	if err := db.Validate(op); err != nil {
		return err
	}
	db.CreatedAt = createdAt(db.CreatedAt)
	return s.write(ctx, func(tx *sql.Tx) error { return insertDatabase(ctx, tx, op, db) })
}

// Database finds a database by UUID.
func (s *Store) Database(ctx context.Context, uuid string) (meta.Database, error) {
	d, err := scanDatabase(s.dbByUUID.QueryRowContext(ctx, uuid))
	return d, wrap("Database", dbKey(uuid), err, "")
}

// DatabasesByWorkspace lists the databases of a workspace, oldest first.
func (s *Store) DatabasesByWorkspace(ctx context.Context, workspaceUUID string) ([]meta.Database, error) {
	const op = "DatabasesByWorkspace"
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+databaseCols+` FROM databases
		WHERE workspace_uuid = ? ORDER BY created_at, uuid`, workspaceUUID)
	if err != nil {
		return nil, wrap(op, wsKey(workspaceUUID), err, "")
	}
	defer rows.Close()
	out := []meta.Database{}
	for rows.Next() {
		d, err := scanDatabase(rows)
		if err != nil {
			return nil, wrap(op, wsKey(workspaceUUID), err, "")
		}
		out = append(out, d)
	}
	return out, wrap(op, wsKey(workspaceUUID), rows.Err(), "")
}

// UpdateDatabase rewrites DefaultRP, CQRP and RPs of the database db.UUID.
func (s *Store) UpdateDatabase(ctx context.Context, db meta.Database) error {
	const op = "UpdateDatabase"
	if err := db.ValidateUpdate(op); err != nil {
		return err
	}
	return s.exec(ctx, op, dbKey(db.UUID), "",
		`UPDATE databases SET default_rp = ?, cq_rp = ?, rps = ? WHERE uuid = ?`,
		db.DefaultRP, db.CQRP, encodeRPs(db.RPs), db.UUID)
}

// SetDatabaseLimits rewrites the write limits of database uuid.
func (s *Store) SetDatabaseLimits(ctx context.Context, uuid string, l meta.DatabaseLimits) error {
	const op = "SetDatabaseLimits"
	if err := l.Validate(op, dbKey(uuid)); err != nil {
		return err
	}
	return s.exec(ctx, op, dbKey(uuid), "",
		`UPDATE databases SET max_series = ?, max_values_per_tag = ? WHERE uuid = ?`, l.MaxSeries, l.MaxValuesPerTag, uuid)
}

// DeleteDatabase removes a database with its measurement RPs, dropping
// records and continuous queries.
func (s *Store) DeleteDatabase(ctx context.Context, uuid string) error {
	return s.exec(ctx, "DeleteDatabase", dbKey(uuid), "", `DELETE FROM databases WHERE uuid = ?`, uuid)
}

// UpsertInstance records in, or changes the URL of in.UUID. A URL already
// registered under another UUID is ErrConflict.
func (s *Store) UpsertInstance(ctx context.Context, in meta.Instance) error {
	const op = "UpsertInstance"
	if err := in.Validate(op); err != nil {
		return err
	}
	_, err := s.wdb.ExecContext(ctx, `INSERT INTO instances (uuid, url) VALUES (?, ?)
		ON CONFLICT (uuid) DO UPDATE SET url = excluded.url WHERE url <> excluded.url`, in.UUID, in.URL)
	return wrap(op, fmt.Sprintf("instance %q (URL %q)", in.UUID, in.URL), err, "")
}

// Instances lists the registered instances ordered by UUID.
func (s *Store) Instances(ctx context.Context) ([]meta.Instance, error) {
	const op = "Instances"
	rows, err := s.rdb.QueryContext(ctx, `SELECT uuid, url FROM instances ORDER BY uuid`)
	if err != nil {
		return nil, wrap(op, "", err, "")
	}
	defer rows.Close()
	out := []meta.Instance{}
	for rows.Next() {
		var in meta.Instance
		if err := rows.Scan(&in.UUID, &in.URL); err != nil {
			return nil, wrap(op, "", err, "")
		}
		out = append(out, in)
	}
	return out, wrap(op, "", rows.Err(), "")
}

// instanceLoadQuery counts databases per registered instance (0 included)
// plus any instance a database names without it being registered.
const instanceLoadQuery = `SELECT i.uuid, COUNT(d.uuid) FROM instances i
		LEFT JOIN databases d ON d.instance_uuid = i.uuid GROUP BY i.uuid
	UNION ALL
	SELECT d.instance_uuid, COUNT(*) FROM databases d
		WHERE d.instance_uuid NOT IN (SELECT uuid FROM instances) GROUP BY d.instance_uuid`

// InstanceLoad maps every known instance UUID to its number of databases.
func (s *Store) InstanceLoad(ctx context.Context) (map[string]int, error) {
	return countMap(ctx, s.rdb, "InstanceLoad", instanceLoadQuery)
}

func countMap(ctx context.Context, db *sql.DB, op, q string) (map[string]int, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, wrap(op, "", err, "")
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, wrap(op, "", err, "")
		}
		out[k] = n
	}
	return out, wrap(op, "", rows.Err(), "")
}

// SetMeasurementRPs upserts the measurement -> RP pairs of a database.
// Unchanged pairs are not rewritten, so repeating a call costs no disk
// write.
func (s *Store) SetMeasurementRPs(ctx context.Context, dbUUID string, rpByMeasurement map[string]string) error {
	const op = "SetMeasurementRPs"
	keys, err := check.MeasurementKeys(op, dbUUID, rpByMeasurement)
	if err != nil || len(keys) == 0 {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO measurement_rps (db_uuid, measurement, rp) VALUES (?, ?, ?)
			ON CONFLICT (db_uuid, measurement) DO UPDATE SET rp = excluded.rp WHERE rp <> excluded.rp`)
		if err != nil {
			return wrap(op, dbKey(dbUUID), err, "")
		}
		defer st.Close()
		for _, m := range keys {
			if _, err := st.ExecContext(ctx, dbUUID, m, rpByMeasurement[m]); err != nil {
				return wrap(op, fmt.Sprintf("measurement %q of database %q", m, dbUUID), err, dbKey(dbUUID))
			}
		}
		return nil
	})
}

// MeasurementRPs returns the measurement -> RP map of a database (empty
// when there is none, including for an unknown database).
func (s *Store) MeasurementRPs(ctx context.Context, dbUUID string) (map[string]string, error) {
	const op = "MeasurementRPs"
	rows, err := s.measRPs.QueryContext(ctx, dbUUID)
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
	return s.exec(ctx, "DeleteMeasurementRP", fmt.Sprintf("measurement %q of database %q", measurement, dbUUID), "",
		`DELETE FROM measurement_rps WHERE db_uuid = ? AND measurement = ?`, dbUUID, measurement)
}

// AddKeyPair stores a key pair. Either key colliding with any key of
// another pair is ErrConflict.
func (s *Store) AddKeyPair(ctx context.Context, kp meta.KeyPair) error {
	const op = "AddKeyPair"
	if err := kp.Validate(op); err != nil {
		return err
	}
	key := fmt.Sprintf("access key %q", kp.AccessKey)
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO key_pairs (access_key, secret_key, workspace_uuid) VALUES (?, ?, ?)`,
			kp.AccessKey, kp.SecretKey, kp.WorkspaceUUID); err != nil {
			return wrap(op, key, err, wsKey(kp.WorkspaceUUID))
		}
		for _, id := range []string{kp.AccessKey, kp.SecretKey} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO key_ids (id, access_key) VALUES (?, ?)`, id, kp.AccessKey); err != nil {
				return wrap(op, key, err, "")
			}
		}
		return nil
	})
}

// KeyPairByID finds the pair whose access key or secret key equals id.
func (s *Store) KeyPairByID(ctx context.Context, id string) (meta.KeyPair, error) {
	var kp meta.KeyPair
	err := s.keyPair.QueryRowContext(ctx, id).Scan(&kp.AccessKey, &kp.SecretKey, &kp.WorkspaceUUID)
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
	return s.write(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO datakits_online (workspace_uuid, datakit_uuid, last_seen) VALUES (?, ?, ?)
			ON CONFLICT (workspace_uuid, datakit_uuid) DO UPDATE SET last_seen = excluded.last_seen
			WHERE excluded.last_seen > last_seen`)
		if err != nil {
			return wrap(op, wsKey(workspaceUUID), err, "")
		}
		defer st.Close()
		for _, id := range ids {
			if _, err := st.ExecContext(ctx, workspaceUUID, id, nanos(t)); err != nil {
				return wrap(op, fmt.Sprintf("datakit %q of workspace %q", id, workspaceUUID), err, wsKey(workspaceUUID))
			}
		}
		return nil
	})
}

// DatakitsOnline lists, sorted, the datakits of a workspace seen at or after
// since.
func (s *Store) DatakitsOnline(ctx context.Context, workspaceUUID string, since time.Time) ([]string, error) {
	return s.strings(ctx, "DatakitsOnline", wsKey(workspaceUUID), `SELECT datakit_uuid FROM datakits_online
		WHERE workspace_uuid = ? AND last_seen >= ? ORDER BY datakit_uuid`, workspaceUUID, nanos(since))
}

func (s *Store) strings(ctx context.Context, op, key, q string, args ...any) ([]string, error) {
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap(op, key, err, "")
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, wrap(op, key, err, "")
		}
		out = append(out, v)
	}
	return out, wrap(op, key, rows.Err(), "")
}

// AddDropping records that measurement of dbUUID is being dropped. A
// measurement already being dropped is ErrConflict.
func (s *Store) AddDropping(ctx context.Context, dbUUID, measurement string) error {
	const op = "AddDropping"
	if err := check.Dropping(op, dbUUID, measurement); err != nil {
		return err
	}
	_, err := s.wdb.ExecContext(ctx, `INSERT INTO dropping (db_uuid, measurement) VALUES (?, ?)`, dbUUID, measurement)
	return wrap(op, check.DropKey(dbUUID, measurement), err, dbKey(dbUUID))
}

// RemoveDropping clears the record once the drop finished.
func (s *Store) RemoveDropping(ctx context.Context, dbUUID, measurement string) error {
	return s.exec(ctx, "RemoveDropping", check.DropKey(dbUUID, measurement), "",
		`DELETE FROM dropping WHERE db_uuid = ? AND measurement = ?`, dbUUID, measurement)
}

// Dropping lists, sorted, the measurements of a database being dropped.
func (s *Store) Dropping(ctx context.Context, dbUUID string) ([]string, error) {
	return s.strings(ctx, "Dropping", dbKey(dbUUID),
		`SELECT measurement FROM dropping WHERE db_uuid = ? ORDER BY measurement`, dbUUID)
}

// AllDropping maps every database with drops in progress to its sorted
// measurements, for resuming them at start-up.
func (s *Store) AllDropping(ctx context.Context) (map[string][]string, error) {
	const op = "AllDropping"
	rows, err := s.rdb.QueryContext(ctx, `SELECT db_uuid, measurement FROM dropping ORDER BY db_uuid, measurement`)
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

func scanCQ(r scanner) (meta.ContinuousQuery, error) {
	var cq meta.ContinuousQuery
	var at int64
	if err := r.Scan(&cq.UUID, &cq.WorkspaceUUID, &cq.DBUUID, &cq.Measurement, &cq.AggrFunc, &cq.AggrPeriod, &cq.AggrEvery, &at); err != nil {
		return meta.ContinuousQuery{}, err
	}
	cq.CreatedAt = fromNanos(at)
	return cq, nil
}

// CreateCQ stores a continuous query of a database of the same workspace.
func (s *Store) CreateCQ(ctx context.Context, cq meta.ContinuousQuery) error {
	const op = "CreateCQ"
	if err := cq.Validate(op); err != nil {
		return err
	}
	cq.CreatedAt = createdAt(cq.CreatedAt)
	_, err := s.wdb.ExecContext(ctx, `INSERT INTO continuous_queries (`+cqCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		cq.UUID, cq.WorkspaceUUID, cq.DBUUID, cq.Measurement, cq.AggrFunc, cq.AggrPeriod, cq.AggrEvery, nanos(cq.CreatedAt))
	return wrap(op, cqKey(cq.UUID), err, fmt.Sprintf("database %q of workspace %q", cq.DBUUID, cq.WorkspaceUUID))
}

// UpdateCQ rewrites Measurement and the Aggr fields of the CQ cq.UUID of
// workspace cq.WorkspaceUUID; DBUUID and CreatedAt are kept.
func (s *Store) UpdateCQ(ctx context.Context, cq meta.ContinuousQuery) error {
	const op = "UpdateCQ"
	if err := cq.ValidateUpdate(op); err != nil {
		return err
	}
	return s.exec(ctx, op, fmt.Sprintf("continuous query %q of workspace %q", cq.UUID, cq.WorkspaceUUID), "",
		`UPDATE continuous_queries SET measurement = ?, aggr_func = ?, aggr_period = ?, aggr_every = ?
		WHERE uuid = ? AND workspace_uuid = ?`,
		cq.Measurement, cq.AggrFunc, cq.AggrPeriod, cq.AggrEvery, cq.UUID, cq.WorkspaceUUID)
}

// DeleteCQ removes a continuous query.
func (s *Store) DeleteCQ(ctx context.Context, uuid string) error {
	return s.exec(ctx, "DeleteCQ", cqKey(uuid), "", `DELETE FROM continuous_queries WHERE uuid = ?`, uuid)
}

// CQ finds a continuous query by UUID.
func (s *Store) CQ(ctx context.Context, uuid string) (meta.ContinuousQuery, error) {
	cq, err := scanCQ(s.rdb.QueryRowContext(ctx, `SELECT `+cqCols+` FROM continuous_queries WHERE uuid = ?`, uuid))
	return cq, wrap("CQ", cqKey(uuid), err, "")
}

// CQsByWorkspace lists the continuous queries of a workspace, oldest first.
func (s *Store) CQsByWorkspace(ctx context.Context, workspaceUUID string) ([]meta.ContinuousQuery, error) {
	const op = "CQsByWorkspace"
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+cqCols+` FROM continuous_queries
		WHERE workspace_uuid = ? ORDER BY created_at, uuid`, workspaceUUID)
	if err != nil {
		return nil, wrap(op, wsKey(workspaceUUID), err, "")
	}
	defer rows.Close()
	out := []meta.ContinuousQuery{}
	for rows.Next() {
		cq, err := scanCQ(rows)
		if err != nil {
			return nil, wrap(op, wsKey(workspaceUUID), err, "")
		}
		out = append(out, cq)
	}
	return out, wrap(op, wsKey(workspaceUUID), rows.Err(), "")
}

// SetLogPipeline stores (or, with an empty url, removes) the pipeline of a
// workspace's log source.
func (s *Store) SetLogPipeline(ctx context.Context, workspaceUUID, source, url string) error {
	const op = "SetLogPipeline"
	key := fmt.Sprintf("pipeline %q of workspace %q", source, workspaceUUID)
	if workspaceUUID == "" || source == "" {
		return meta.Invalid(op, key, "workspace uuid and source are required")
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if url == "" {
			_, err = tx.ExecContext(ctx, `DELETE FROM log_pipelines WHERE workspace_uuid = ? AND source = ?`, workspaceUUID, source)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO log_pipelines (workspace_uuid, source, url) VALUES (?, ?, ?)
				ON CONFLICT (workspace_uuid, source) DO UPDATE SET url = excluded.url`, workspaceUUID, source, url)
		}
		return wrap(op, key, err, wsKey(workspaceUUID))
	})
}

// LogPipeline returns the pipeline url of a workspace's log source.
func (s *Store) LogPipeline(ctx context.Context, workspaceUUID, source string) (string, error) {
	var url string
	err := s.rdb.QueryRowContext(ctx, `SELECT url FROM log_pipelines WHERE workspace_uuid = ? AND source = ?`,
		workspaceUUID, source).Scan(&url)
	return url, wrap("LogPipeline", fmt.Sprintf("pipeline %q of workspace %q", source, workspaceUUID), err, "")
}
