package tsdb

import (
	"context"

	"github.com/kodo-project/kodo/storage/meta"
)

// ErrNotFound and ErrConflict are storage/meta's, so a meta.Store's errors
// satisfy errors.Is against them without translation.
var (
	ErrNotFound = meta.ErrNotFound
	ErrConflict = meta.ErrConflict
	ErrLimit    = meta.ErrLimit
)

// The records are storage/meta's, so every meta.Store is a Store.
type (
	// KeyPair is a Pandora access key and its secret.
	KeyPair = meta.PandoraKeyPair
	// Repo is a Pandora repository: one engine database owned by one access key.
	Repo = meta.PandoraRepo
	// Series is a measurement of a repo with its own retention.
	Series = meta.PandoraSeries
	// View is a named SELECT over a repo's series, queried by name.
	View = meta.PandoraView
)

// Store keeps the metadata of the Pandora service. Records are keyed by
// access key first, so two key pairs never see each other's repos.
// Missing records give an error wrapping ErrNotFound, taken names one
// wrapping ErrConflict; lists are never nil.
type Store interface {
	// AddPandoraKeyPair stores a key pair; an access key already stored
	// gives ErrConflict.
	AddPandoraKeyPair(ctx context.Context, kp KeyPair) error
	PandoraKeyPair(ctx context.Context, accessKey string) (KeyPair, error)

	// CreatePandoraRepo gives ErrConflict when ak already has a repo of that name.
	CreatePandoraRepo(ctx context.Context, r Repo) error
	PandoraRepo(ctx context.Context, ak, name string) (Repo, error)
	PandoraRepos(ctx context.Context, ak string) ([]Repo, error)
	// UpdatePandoraRepo rewrites Metadata and Deleting of an existing repo.
	UpdatePandoraRepo(ctx context.Context, r Repo) error
	// DeletePandoraRepo removes a repo with its series and views.
	DeletePandoraRepo(ctx context.Context, ak, name string) error

	// CreatePandoraSeries gives ErrNotFound when the repo is missing,
	// ErrConflict when the series exists and ErrLimit, storing nothing,
	// when maxPerRepo > 0 and the repo already has that many series; the
	// check and the insert are atomic.
	CreatePandoraSeries(ctx context.Context, s Series, maxPerRepo int) error
	PandoraSeries(ctx context.Context, ak, repo, name string) (Series, error)
	PandoraSeriesList(ctx context.Context, ak, repo string) ([]Series, error)
	// UpdatePandoraSeries rewrites Metadata and Deleting of an existing series.
	UpdatePandoraSeries(ctx context.Context, s Series) error
	DeletePandoraSeries(ctx context.Context, ak, repo, name string) error

	CreatePandoraView(ctx context.Context, v View) error
	PandoraView(ctx context.Context, ak, repo, name string) (View, error)
	PandoraViews(ctx context.Context, ak, repo string) ([]View, error)
	DeletePandoraView(ctx context.Context, ak, repo, name string) error

	// PandoraDeleting lists the repos and series marked deleting, of every
	// access key, so a restarted service finishes what it started.
	PandoraDeleting(ctx context.Context) ([]Repo, []Series, error)
}

var _ Store = meta.Store(nil)
