package kodo

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kodo-project/kodo/kodo/kodoapi"
	"github.com/kodo-project/kodo/storage/tsengine"
)

// Placement skips instances that do not answer a ping: a new database on a
// dead instance would fail its tenant from the first write. The ping has a
// short timeout and its answer is cached briefly, so a burst of creations
// costs one ping per instance, and a dead instance costs at most
// healthPingTimeout per creation once its cached answer expires.
const (
	healthPingTimeout = 2 * time.Second
	healthTTL         = 5 * time.Second
)

type instanceHealth struct {
	mu   sync.Mutex
	seen map[string]healthState
}

type healthState struct {
	at  time.Time
	err error
}

// check pings e unless a recent answer is cached.
func (h *instanceHealth) check(ctx context.Context, id string, e tsengine.Engine) error {
	h.mu.Lock()
	st, ok := h.seen[id]
	h.mu.Unlock()
	if ok && time.Since(st.at) < healthTTL {
		return st.err
	}
	pctx, cancel := context.WithTimeout(ctx, healthPingTimeout)
	err := e.Ping(pctx)
	cancel()
	if ctx.Err() != nil {
		return ctx.Err() // the caller gave up: say nothing about the instance
	}
	h.mu.Lock()
	if h.seen == nil {
		h.seen = map[string]healthState{}
	}
	h.seen[id] = healthState{at: time.Now(), err: err}
	h.mu.Unlock()
	return err
}

// markDown records that an instance failed a call as unavailable.
func (h *instanceHealth) markDown(id string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen == nil {
		h.seen = map[string]healthState{}
	}
	h.seen[id] = healthState{at: time.Now(), err: err}
}

// placeDatabase picks the least-loaded configured instance that answers a
// ping.
func (s *service) placeDatabase(ctx context.Context) (string, error) {
	if len(s.placeable) == 0 {
		return "", Errorf(kodoapi.ErrUnavailable, "no time-series instance is configured")
	}
	load, err := s.meta.InstanceLoad(ctx)
	if err != nil {
		return "", metaError(err, "reading instance load")
	}
	cands := append([]string(nil), s.placeable...)
	sort.SliceStable(cands, func(i, j int) bool { return load[cands[i]] < load[cands[j]] })
	var down []string
	for _, id := range cands {
		err := s.health.check(ctx, id, s.engines[id])
		if err == nil {
			return id, nil
		}
		if ctx.Err() != nil {
			return "", wrapErr(kodoapi.ErrUnavailable, err, "placing the database: the request ended before an instance answered")
		}
		s.log.Warn("placement skips an unhealthy instance", "instance", id, "err", err)
		down = append(down, fmt.Sprintf("%s (%v)", id, err))
	}
	return "", &Error{Code: kodoapi.ErrUnavailable, RetryAfter: 10,
		Message: "no time-series instance is healthy, so the database cannot be placed: " + strings.Join(down, "; ")}
}
