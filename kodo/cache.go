package kodo

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/storage/meta"
)

// tokenCache keeps token -> workspace lookups off the metadata store on the
// write hot path. Entries expire after ttl so a replica sees another's
// changes; /v1/cache/dataway/clean evicts one at once. Misses are not
// cached: a token created a moment ago must work on the next request.
type tokenCache struct {
	store meta.Store
	ttl   time.Duration
	mu    sync.RWMutex
	m     map[string]tokenEntry
}

type tokenEntry struct {
	ws      meta.Workspace
	db      meta.Database
	expires time.Time
}

func newTokenCache(store meta.Store, ttl time.Duration) *tokenCache {
	return &tokenCache{store: store, ttl: ttl, m: map[string]tokenEntry{}}
}

// lookup returns the token's workspace and its database.
func (c *tokenCache) lookup(ctx context.Context, token string) (meta.Workspace, meta.Database, error) {
	now := time.Now()
	c.mu.RLock()
	e, ok := c.m[token]
	c.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.ws, e.db, nil
	}
	ws, err := c.store.WorkspaceByToken(ctx, token)
	if err != nil {
		if errors.Is(err, meta.ErrNotFound) {
			return meta.Workspace{}, meta.Database{}, Errorf(kodoapi.ErrTokenNotFound, "token not found")
		}
		return meta.Workspace{}, meta.Database{}, wrapErr(kodoapi.ErrUnavailable, err, "metadata store unavailable")
	}
	dbs, err := c.store.DatabasesByWorkspace(ctx, ws.UUID)
	if err != nil {
		return meta.Workspace{}, meta.Database{}, wrapErr(kodoapi.ErrUnavailable, err, "metadata store unavailable")
	}
	if len(dbs) == 0 {
		return meta.Workspace{}, meta.Database{}, Errorf(kodoapi.ErrDBNotFound, "workspace %s has no database", ws.UUID)
	}
	c.mu.Lock()
	if len(c.m) > 100_000 { // bound memory under token churn
		clear(c.m)
	}
	c.m[token] = tokenEntry{ws: ws, db: dbs[0], expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return ws, dbs[0], nil
}

// evict drops a token, or every token of a database when dbUUID is set.
func (c *tokenCache) evict(token, dbUUID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if token != "" {
		delete(c.m, token)
	}
	if dbUUID != "" {
		for k, e := range c.m {
			if e.db.UUID == dbUUID {
				delete(c.m, k)
			}
		}
	}
}

// measurementRPCache remembers which RP each measurement was last written
// to, so the metadata store is touched only when that changes.
type measurementRPCache struct {
	store meta.Store
	mu    sync.Mutex
	m     map[string]map[string]string // db uuid -> measurement -> rp
}

func newMeasurementRPCache(store meta.Store) *measurementRPCache {
	return &measurementRPCache{store: store, m: map[string]map[string]string{}}
}

// record stores the measurements' RP where it is new or changed.
func (c *measurementRPCache) record(ctx context.Context, dbUUID, rp string, measurements map[string]struct{}) error {
	c.mu.Lock()
	known, ok := c.m[dbUUID]
	c.mu.Unlock()
	if !ok {
		stored, err := c.store.MeasurementRPs(ctx, dbUUID)
		if err != nil {
			return err
		}
		known = stored
	}
	var changed map[string]string
	for m := range measurements {
		if cur, ok := known[m]; !ok || cur != rp {
			if changed == nil {
				changed = map[string]string{}
			}
			changed[m] = rp
		}
	}
	if changed != nil {
		if err := c.store.SetMeasurementRPs(ctx, dbUUID, changed); err != nil {
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.m[dbUUID]
	if cur == nil {
		cur = make(map[string]string, len(known)+len(changed))
		for k, v := range known {
			cur[k] = v
		}
		c.m[dbUUID] = cur
	}
	for k, v := range changed {
		cur[k] = v
	}
	return nil
}

func (c *measurementRPCache) forget(dbUUID, measurement string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if measurement == "" {
		delete(c.m, dbUUID)
		return
	}
	delete(c.m[dbUUID], measurement)
}
