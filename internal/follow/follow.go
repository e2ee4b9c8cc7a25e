// Package follow keeps a scorer serving the model versions that aliases in
// the model catalog point at. At start, a Loader resolves the serving alias
// (and the shadow alias, if any) and loads their versions; while the scorer
// runs, a Follower watches both aliases and, each time one moves, loads the
// new version, checks it and hands it to the scorer to swap in between two
// batches. A version is checked the same way at start and later: its
// artifact against the catalog's checksum, its graph in ONNX Runtime
// against its spec, its spec against the input topics' latest schemas, and
// a smoke batch of the traffic being scored. A version that fails is
// refused, logged and counted by reason, and the model serving goes on.
package follow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/model"
)

// Catalog is what following needs of the model catalog; *catalog.Catalog
// is the one in use.
type Catalog interface {
	Sync(ctx context.Context) error
	Resolve(name, alias string) (catalog.Version, error)
	Artifact(ctx context.Context, name string, version int) ([]byte, error)
	Follow(ctx context.Context, name, alias string, fn func(catalog.Version)) error
}

// Traffic gives the records of the last batch scored, the smoke batch a
// candidate must pass; *stream.Scorer is the one in use.
type Traffic interface {
	RecentRecords() []map[string]any
}

// Config says which model and aliases to follow, and how to load versions.
type Config struct {
	// CatalogTopic is the catalog's topic, named in errors.
	CatalogTopic string
	// Name is the model's name in the catalog.
	Name string
	// Alias points at the version that serves.
	Alias string
	// ShadowAlias points at the version scored in the shadow; empty for
	// none.
	ShadowAlias string
	// MaxBatch is the most rows a batch holds, and so the smoke batch.
	MaxBatch int
	// Threads is ONNX Runtime's intra-op thread count; 0 is its default.
	Threads int
}

// Deps are what a Loader works with.
type Deps struct {
	// Catalog holds the versions and the aliases that point at them.
	Catalog Catalog
	// CheckSchemas refuses a spec that does not fit an input topic's
	// latest schema, wrapping model.ErrSchemaMismatch.
	CheckSchemas func(model.Spec) error
	// Registerer takes the loader's metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Logger logs versions loaded and refused; nil discards.
	Logger *slog.Logger
}

// Roles of a followed alias, in logs and errors.
const (
	roleModel  = "model"
	roleShadow = "shadow"
)

// Loader turns a catalog version into a model ready to serve: it fetches
// the artifact (checked against its SHA-256 by the catalog), loads it in
// ONNX Runtime with the version's spec (which runs one row of zeros),
// checks it against the input topics' latest schemas and runs a smoke
// batch. It is safe for concurrent use.
type Loader struct {
	cfg          Config
	catalog      Catalog
	checkSchemas func(model.Spec) error
	metrics      *metrics
	logger       *slog.Logger
}

// NewLoader returns a loader of cfg.Name's versions from deps.Catalog,
// its metrics registered with deps.Registerer.
func NewLoader(cfg Config, deps Deps) (*Loader, error) {
	if deps.Catalog == nil || deps.CheckSchemas == nil {
		return nil, errors.New("follow: a loader needs a catalog and a schema check")
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, err
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Loader{cfg: cfg, catalog: deps.Catalog, checkSchemas: deps.CheckSchemas, metrics: m, logger: logger}, nil
}

// Serving is what Start loaded: the models to serve first, and the
// versions a Follower needs not load again.
type Serving struct {
	// Model is the version Config.Alias points at.
	Model *model.Model
	// Shadow is the version Config.ShadowAlias points at; nil when there
	// is no shadow alias, it is not set yet, or its version was refused.
	Shadow *model.Model

	version, shadowVersion int // served, or refused for good
}

// startTimeout bounds Start: the catalog's sync and the first loads.
const startTimeout = 30 * time.Second

// Start syncs the catalog, resolves Config.Alias (a missing model or alias
// is an error) and loads that version, and the version Config.ShadowAlias
// points at, if it is set: a shadow version that fails is refused and
// counted, and Start returns without a shadow.
func (l *Loader) Start(ctx context.Context) (Serving, error) {
	cfg := l.cfg
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := l.catalog.Sync(ctx); err != nil {
		return Serving{}, fmt.Errorf("model catalog %s: %w", cfg.CatalogTopic, err)
	}
	v, err := l.catalog.Resolve(cfg.Name, cfg.Alias)
	if err != nil {
		return Serving{}, fmt.Errorf("model-name %q, model-alias %q in catalog %s: %w", cfg.Name, cfg.Alias, cfg.CatalogTopic, err)
	}
	primary, err := l.load(ctx, v, nil)
	if err != nil {
		l.refuse(roleModel, cfg.Alias, v, err)
		return Serving{}, fmt.Errorf("model %s version %d (alias %s): %w", v.Name, v.Version, cfg.Alias, err)
	}
	s := Serving{Model: primary, version: v.Version}
	l.logger.Info("model loaded from the catalog", "name", v.Name, "version", v.Version, "alias", cfg.Alias)
	if cfg.ShadowAlias == "" {
		return s, nil
	}
	sv, err := l.catalog.Resolve(cfg.Name, cfg.ShadowAlias)
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		l.logger.Warn("shadow alias not set yet; shadow scoring starts when it is", "name", cfg.Name, "alias", cfg.ShadowAlias)
		return s, nil
	case err != nil:
		primary.Close()
		return Serving{}, fmt.Errorf("model-name %q, shadow-alias %q: %w", cfg.Name, cfg.ShadowAlias, err)
	}
	shadow, err := l.load(ctx, sv, nil)
	if err != nil {
		if _, retry := l.refuse(roleShadow, cfg.ShadowAlias, sv, err); !retry {
			s.shadowVersion = sv.Version // refused for good: not tried again unless the alias moves
		}
		return s, nil
	}
	s.Shadow, s.shadowVersion = shadow, sv.Version
	l.logger.Info("shadow model loaded from the catalog", "name", sv.Name, "version", sv.Version, "alias", cfg.ShadowAlias)
	return s, nil
}

// load returns the model of v, or why it cannot serve. traffic gives the
// smoke batch; nil (at start) smokes synthetic rows.
func (l *Loader) load(ctx context.Context, v catalog.Version, traffic Traffic) (*model.Model, error) {
	artifact, err := l.catalog.Artifact(ctx, v.Name, v.Version)
	if err != nil {
		return nil, fmt.Errorf("artifact: %w", err)
	}
	spec := v.Spec
	spec.Name = v.Name // outputs name the catalog's model, whatever the spec says
	m, err := model.Load(artifact, model.Options{
		Spec: &spec, Version: strconv.Itoa(v.Version), MaxBatch: l.cfg.MaxBatch, IntraOpThreads: l.cfg.Threads,
	})
	if err != nil {
		return nil, err
	}
	if err := l.checkSchemas(m.Spec()); err != nil {
		m.Close()
		return nil, err
	}
	var records []map[string]any
	if traffic != nil {
		records = traffic.RecentRecords()
	}
	if err := smoke(m, records, l.cfg.MaxBatch); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// refuse logs and counts a version that cannot serve; the model serving
// goes on.
func (l *Loader) refuse(role, alias string, v catalog.Version, err error) (reason string, retry bool) {
	reason, retry = failure(err)
	l.metrics.loadFailures.WithLabelValues(reason).Inc()
	l.logger.Error("model version refused; the serving model goes on", "role", role, "name", v.Name,
		"version", v.Version, "alias", alias, "reason", reason, "retry", retry, "err", err)
	return reason, retry
}

// Follower keeps the versions the aliases point at serving, from what
// Start loaded on.
type Follower struct {
	loader  *Loader
	traffic Traffic
	// The versions Start loaded, not their models: those are the
	// scorer's, which closes them when they no longer serve.
	version, shadowVersion int
}

// NewFollower returns a follower of loader's aliases that starts from
// what loader's Start returned and smokes candidates on traffic.
func NewFollower(loader *Loader, from Serving, traffic Traffic) *Follower {
	return &Follower{loader: loader, traffic: traffic, version: from.version, shadowVersion: from.shadowVersion}
}

// Run follows Config.Alias, handing each version that passes the checks to
// swap, and Config.ShadowAlias, if set, handing its versions to
// swapShadow; the swap function owns the model it is given, even when it
// fails. Run returns nil when ctx ends, or the first error following
// either alias.
func (f *Follower) Run(ctx context.Context, swap, swapShadow func(*model.Model) error) error {
	cfg := f.loader.cfg
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return f.follow(ctx, roleModel, cfg.Alias, f.version, swap) })
	if cfg.ShadowAlias != "" {
		g.Go(func() error { return f.follow(ctx, roleShadow, cfg.ShadowAlias, f.shadowVersion, swapShadow) })
	}
	return g.Wait()
}

// follow keeps the version alias points at serving through swap: each
// time the alias moves, the new version is loaded and checked and handed
// to swap; a version that fails is refused, logged and counted, and the
// model serving goes on. A failure that says nothing about the version
// (the catalog or registry unreachable) is retried with backoff until it
// passes or the alias moves on. have is the version serving (or refused
// for good) already, which needs no load. follow returns nil when ctx
// ends.
func (f *Follower) follow(ctx context.Context, role, alias string, have int, swap func(*model.Model) error) error {
	targets := make(chan catalog.Version, 1) // the latest target only
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		err := f.loader.catalog.Follow(ctx, f.loader.cfg.Name, alias, func(v catalog.Version) {
			select { // replace a target not taken yet: only the latest matters
			case <-targets:
			default:
			}
			targets <- v
		})
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("follow %s alias %q: %w", role, alias, err)
	})
	g.Go(func() error {
		f.swapLoop(ctx, role, alias, have, targets, swap)
		return nil
	})
	return g.Wait()
}

// Backoff between tries of a version that failed for a reason that says
// nothing about it.
const (
	retryFirst = time.Second
	retryMost  = 30 * time.Second
)

// swapLoop loads each target it is sent, in turn, until ctx ends.
func (f *Follower) swapLoop(ctx context.Context, role, alias string, have int, targets <-chan catalog.Version, swap func(*model.Model) error) {
	var (
		want    catalog.Version // a target not served yet; zero if none
		retry   <-chan time.Time
		backoff = retryFirst
	)
	for {
		select {
		case v := <-targets:
			want, retry, backoff = v, nil, retryFirst
		case <-retry:
			retry = nil
		case <-ctx.Done():
			return
		}
		if want.Version == 0 || want.Version == have {
			want = catalog.Version{}
			continue
		}
		m, err := f.loader.load(ctx, want, f.traffic)
		if err == nil {
			err = swap(m) // the scorer owns m from here, even on error
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if _, transient := f.loader.refuse(role, alias, want, err); transient {
				retry = time.After(backoff)
				backoff = min(2*backoff, retryMost)
			} else {
				want = catalog.Version{}
			}
			continue
		}
		f.loader.logger.Info("version validated; swapping it in between batches", "role", role, "name", want.Name,
			"version", want.Version, "previous", have, "alias", alias)
		have, want = want.Version, catalog.Version{}
	}
}
