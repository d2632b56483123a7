package tsdb

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"sync"
)

// memStore is an in-memory Store for the tests; fail, when set, makes
// every call fail (to reach the E9001 paths).
type memStore struct {
	mu     sync.Mutex
	keys   map[string]KeyPair
	repos  map[string]Repo   // ak\x00repo
	series map[string]Series // ak\x00repo\x00name
	views  map[string]View
	fail   error
}

func newMemStore() *memStore {
	return &memStore{keys: map[string]KeyPair{}, repos: map[string]Repo{}, series: map[string]Series{}, views: map[string]View{}}
}

func rk(ak, repo string) string    { return ak + "\x00" + repo }
func sk(ak, repo, n string) string { return ak + "\x00" + repo + "\x00" + n }
func notFound(what string) error   { return fmt.Errorf("%s: %w", what, ErrNotFound) }
func conflict(what string) error   { return fmt.Errorf("%s: %w", what, ErrConflict) }
func cloneMD(m map[string]string) map[string]string {
	out := map[string]string{}
	maps.Copy(out, m)
	return out
}

func (m *memStore) AddPandoraKeyPair(_ context.Context, kp KeyPair) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if _, ok := m.keys[kp.AccessKey]; ok {
		return conflict("key pair")
	}
	m.keys[kp.AccessKey] = kp
	return nil
}

func (m *memStore) PandoraKeyPair(_ context.Context, ak string) (KeyPair, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return KeyPair{}, m.fail
	}
	kp, ok := m.keys[ak]
	if !ok {
		return KeyPair{}, notFound("key pair")
	}
	return kp, nil
}

func (m *memStore) CreatePandoraRepo(_ context.Context, r Repo) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if _, ok := m.repos[rk(r.AccessKey, r.Name)]; ok {
		return conflict("repo")
	}
	r.Metadata = cloneMD(r.Metadata)
	m.repos[rk(r.AccessKey, r.Name)] = r
	return nil
}

func (m *memStore) PandoraRepo(_ context.Context, ak, name string) (Repo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return Repo{}, m.fail
	}
	r, ok := m.repos[rk(ak, name)]
	if !ok {
		return Repo{}, notFound("repo")
	}
	r.Metadata = cloneMD(r.Metadata)
	return r, nil
}

func (m *memStore) PandoraRepos(_ context.Context, ak string) ([]Repo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	out := []Repo{}
	for _, r := range m.repos {
		if r.AccessKey == ak {
			r.Metadata = cloneMD(r.Metadata)
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (m *memStore) UpdatePandoraRepo(_ context.Context, r Repo) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	old, ok := m.repos[rk(r.AccessKey, r.Name)]
	if !ok {
		return notFound("repo")
	}
	old.Metadata, old.Deleting = cloneMD(r.Metadata), r.Deleting
	m.repos[rk(r.AccessKey, r.Name)] = old
	return nil
}

func (m *memStore) DeletePandoraRepo(_ context.Context, ak, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if _, ok := m.repos[rk(ak, name)]; !ok {
		return notFound("repo")
	}
	delete(m.repos, rk(ak, name))
	for k, s := range m.series {
		if s.AccessKey == ak && s.Repo == name {
			delete(m.series, k)
		}
	}
	for k, v := range m.views {
		if v.AccessKey == ak && v.Repo == name {
			delete(m.views, k)
		}
	}
	return nil
}

func (m *memStore) CreatePandoraSeries(_ context.Context, s Series, maxPerRepo int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if _, ok := m.repos[rk(s.AccessKey, s.Repo)]; !ok {
		return notFound("repo")
	}
	if _, ok := m.series[sk(s.AccessKey, s.Repo, s.Name)]; ok {
		return conflict("series")
	}
	if maxPerRepo > 0 {
		n := 0
		for _, o := range m.series {
			if o.AccessKey == s.AccessKey && o.Repo == s.Repo {
				n++
			}
		}
		if n >= maxPerRepo {
			return fmt.Errorf("repo full: %w", ErrLimit)
		}
	}
	s.Metadata = cloneMD(s.Metadata)
	m.series[sk(s.AccessKey, s.Repo, s.Name)] = s
	return nil
}

func (m *memStore) PandoraSeries(_ context.Context, ak, repo, name string) (Series, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return Series{}, m.fail
	}
	s, ok := m.series[sk(ak, repo, name)]
	if !ok {
		return Series{}, notFound("series")
	}
	s.Metadata = cloneMD(s.Metadata)
	return s, nil
}

func (m *memStore) PandoraSeriesList(_ context.Context, ak, repo string) ([]Series, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	out := []Series{}
	for _, s := range m.series {
		if s.AccessKey == ak && s.Repo == repo {
			s.Metadata = cloneMD(s.Metadata)
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (m *memStore) UpdatePandoraSeries(_ context.Context, s Series) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	old, ok := m.series[sk(s.AccessKey, s.Repo, s.Name)]
	if !ok {
		return notFound("series")
	}
	old.Metadata, old.Deleting = cloneMD(s.Metadata), s.Deleting
	m.series[sk(s.AccessKey, s.Repo, s.Name)] = old
	return nil
}

func (m *memStore) DeletePandoraSeries(_ context.Context, ak, repo, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if _, ok := m.series[sk(ak, repo, name)]; !ok {
		return notFound("series")
	}
	delete(m.series, sk(ak, repo, name))
	return nil
}

func (m *memStore) CreatePandoraView(_ context.Context, v View) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if _, ok := m.repos[rk(v.AccessKey, v.Repo)]; !ok {
		return notFound("repo")
	}
	if _, ok := m.views[sk(v.AccessKey, v.Repo, v.Name)]; ok {
		return conflict("view")
	}
	v.Metadata = cloneMD(v.Metadata)
	m.views[sk(v.AccessKey, v.Repo, v.Name)] = v
	return nil
}

func (m *memStore) PandoraView(_ context.Context, ak, repo, name string) (View, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return View{}, m.fail
	}
	v, ok := m.views[sk(ak, repo, name)]
	if !ok {
		return View{}, notFound("view")
	}
	v.Metadata = cloneMD(v.Metadata)
	return v, nil
}

func (m *memStore) PandoraViews(_ context.Context, ak, repo string) ([]View, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	out := []View{}
	for _, v := range m.views {
		if v.AccessKey == ak && v.Repo == repo {
			v.Metadata = cloneMD(v.Metadata)
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (m *memStore) DeletePandoraView(_ context.Context, ak, repo, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if _, ok := m.views[sk(ak, repo, name)]; !ok {
		return notFound("view")
	}
	delete(m.views, sk(ak, repo, name))
	return nil
}

func (m *memStore) PandoraDeleting(context.Context) ([]Repo, []Series, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, nil, m.fail
	}
	repos, series := []Repo{}, []Series{}
	for _, r := range m.repos {
		if r.Deleting {
			repos = append(repos, r)
		}
	}
	for _, s := range m.series {
		if s.Deleting {
			series = append(series, s)
		}
	}
	return repos, series, nil
}

func (m *memStore) setFail(err error) {
	m.mu.Lock()
	m.fail = err
	m.mu.Unlock()
}
