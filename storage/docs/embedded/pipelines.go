package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kodo-project/kodo/storage/docs"
)

// PipelinesFileName is the database file OpenPipelines creates.
const PipelinesFileName = "pipelines.db"

// Pipelines keeps log pipelines in an SQLite table. It is separate from
// the document store so it serves either document backend.
type Pipelines struct {
	db *sql.DB
}

// OpenPipelines opens (creating if needed) the pipeline table under dir.
func OpenPipelines(dir string) (*Pipelines, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("embedded pipelines: %w", err)
	}
	path := filepath.Join(dir, PipelinesFileName)
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_pragma=journal_mode(WAL)")
	if err != nil {
		return nil, fmt.Errorf("embedded pipelines: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS pipelines (
		ws TEXT NOT NULL, source TEXT NOT NULL, url TEXT NOT NULL, PRIMARY KEY (ws, source))`); err != nil {
		db.Close()
		return nil, fmt.Errorf("embedded pipelines: create table in %s: %w", path, err)
	}
	return &Pipelines{db: db}, nil
}

// SetPipeline stores p, replacing the pipeline of the same workspace and
// source; an empty URL removes it.
func (p *Pipelines) SetPipeline(ctx context.Context, pl docs.Pipeline) error {
	if pl.WorkspaceUUID == "" || pl.Source == "" {
		return fmt.Errorf("%w: a pipeline needs a workspace uuid and a source", docs.ErrInvalid)
	}
	var err error
	if pl.URL == "" {
		_, err = p.db.ExecContext(ctx, `DELETE FROM pipelines WHERE ws = ? AND source = ?`, pl.WorkspaceUUID, pl.Source)
	} else {
		_, err = p.db.ExecContext(ctx, `INSERT INTO pipelines(ws, source, url) VALUES (?,?,?)
			ON CONFLICT(ws, source) DO UPDATE SET url = excluded.url`, pl.WorkspaceUUID, pl.Source, pl.URL)
	}
	if err != nil {
		return fmt.Errorf("embedded pipelines: %w (%w)", docs.ErrUnavailable, err)
	}
	return nil
}

// Pipeline returns the pipeline of a workspace and source; ok is false
// when there is none.
func (p *Pipelines) Pipeline(ctx context.Context, workspaceUUID, source string) (pl docs.Pipeline, ok bool, err error) {
	pl = docs.Pipeline{WorkspaceUUID: workspaceUUID, Source: source}
	err = p.db.QueryRowContext(ctx, `SELECT url FROM pipelines WHERE ws = ? AND source = ?`, workspaceUUID, source).Scan(&pl.URL)
	if errors.Is(err, sql.ErrNoRows) {
		return docs.Pipeline{}, false, nil
	}
	if err != nil {
		return docs.Pipeline{}, false, fmt.Errorf("embedded pipelines: %w (%w)", docs.ErrUnavailable, err)
	}
	return pl, true, nil
}

// Close closes the database.
func (p *Pipelines) Close() error { return p.db.Close() }
