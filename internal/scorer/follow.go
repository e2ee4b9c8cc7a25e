package scorer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/catalog/catalogprom"
	"github.com/streamscore/streamscore/internal/model"
)

// modelCatalog is what the scorer needs of the model catalog;
// *catalog.Catalog is the one in use.
type modelCatalog interface {
	Sync(ctx context.Context) error
	Resolve(name, alias string) (catalog.Version, error)
	Artifact(ctx context.Context, name string, version int) ([]byte, error)
	Follow(ctx context.Context, name, alias string, fn func(catalog.Version)) error
}

// Roles of a followed alias, in logs.
const (
	roleModel  = "model"
	roleShadow = "shadow"
)

// Reasons a catalog version is refused, the values of the reason label of
// streamscore_model_load_failures_total.
const (
	// FailCorrupt: the artifact's chunks are missing, or its size or
	// SHA-256 does not match the catalog's metadata.
	FailCorrupt = "corrupt_artifact"
	// FailBadModel: ONNX Runtime cannot load it, its graph does not match
	// its spec, or one row of zeros does not run (model.ErrBadModel).
	FailBadModel = "bad_model"
	// FailSchema: its spec does not fit an input topic's latest schema.
	FailSchema = "schema_mismatch"
	// FailSmoke: it fails the smoke batch (see smoke).
	FailSmoke = "smoke_failed"
	// FailNotFound: the version is no longer in the catalog.
	FailNotFound = "not_found"
	// FailUnavailable: the catalog or the schema registry could not be
	// asked; this says nothing about the version, which is tried again.
	FailUnavailable = "unavailable"
)

// errSmoke marks a version that failed the smoke batch.
var errSmoke = errors.New("smoke batch failed")

// failure classifies why a version was not loaded, and whether trying it
// again later may succeed.
func failure(err error) (reason string, retry bool) {
	switch {
	case errors.Is(err, catalog.ErrCorrupt):
		return FailCorrupt, false
	case errors.Is(err, model.ErrSchemaMismatch):
		return FailSchema, false
	case errors.Is(err, errSmoke):
		return FailSmoke, false
	case errors.Is(err, model.ErrBadModel):
		return FailBadModel, false
	case errors.Is(err, catalog.ErrNotFound):
		return FailNotFound, false
	default:
		return FailUnavailable, true
	}
}

// loader turns a catalog version into a model ready to serve: it fetches
// the artifact (checked against its SHA-256 by the catalog), loads it in
// ONNX Runtime with the version's spec (which runs one row of zeros),
// checks it against the input topics' latest schemas, as at start, and
// runs a smoke batch. It is safe for concurrent use.
type loader struct {
	catalog  modelCatalog
	schemas  latestGetter
	lookup   schemaLookup
	topics   []string
	maxBatch int
	threads  int
	logger   *slog.Logger
	// recent returns the records of the last batch scored; nil before the
	// scorer exists (at start).
	recent func() []map[string]any
}

// load returns the model of v, or why it cannot serve.
func (l *loader) load(ctx context.Context, v catalog.Version) (*model.Model, error) {
	artifact, err := l.catalog.Artifact(ctx, v.Name, v.Version)
	if err != nil {
		return nil, fmt.Errorf("artifact: %w", err)
	}
	spec := v.Spec
	spec.Name = v.Name // outputs name the catalog's model, whatever the spec says
	m, err := model.Load(artifact, model.Options{
		Spec: &spec, Version: strconv.Itoa(v.Version), MaxBatch: l.maxBatch, IntraOpThreads: l.threads,
	})
	if err != nil {
		return nil, err
	}
	if err := checkInputSchemas(l.schemas, l.lookup, m.Spec(), l.topics, l.logger); err != nil {
		m.Close()
		return nil, err
	}
	var records []map[string]any
	if l.recent != nil {
		records = l.recent()
	}
	if err := smoke(m, records, l.maxBatch); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// smoke runs a candidate model on one batch before it serves. The batch is
// the records of the last batch the serving model scored: real traffic,
// every record of which the serving model could map, so a candidate that
// cannot map one of them would dead-letter records the serving model
// scores, and is refused. Before any traffic (at start, or a scorer that
// has seen none), it is a full batch of synthetic rows (syntheticRows).
// Either way the batch is as large as batches get (model.Load
// only ran one row), which catches graphs that only run small batches. The
// run must succeed and every score and value be finite.
func smoke(m *model.Model, records []map[string]any, maxBatch int) error {
	if len(records) == 0 {
		records = syntheticRows(m.Spec(), maxBatch)
	}
	b := m.NewBatch()
	defer b.Close()
	for i, rec := range records {
		if b.Full() {
			break
		}
		if err := b.Add(rec); err != nil {
			return fmt.Errorf("%w: record %d of the last batch scored: %w", errSmoke, i, err)
		}
	}
	results, err := m.Run(b)
	if err != nil {
		return fmt.Errorf("%w: %d rows: %w", errSmoke, b.Len(), err)
	}
	for i, r := range results {
		if r.HasValue && !finite(r.Value) {
			return fmt.Errorf("%w: row %d: value %v", errSmoke, i, r.Value)
		}
		for _, s := range r.Scores {
			if !finite(float64(s)) {
				return fmt.Errorf("%w: row %d: scores %v", errSmoke, i, r.Scores)
			}
		}
	}
	return nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// syntheticRows are n records holding every path the spec reads
// (model.Spec.ZeroRecord: zeros, empty texts, null categories, arrays of
// the declared length, nested as the paths say).
func syntheticRows(spec model.Spec, n int) []map[string]any {
	row := spec.ZeroRecord()
	rows := make([]map[string]any, n)
	for i := range rows {
		rows[i] = row // read only: one map serves every row
	}
	return rows
}

// loadFromCatalog connects to the catalog, resolves -model-alias (a
// missing model or alias stops the start) and loads that version, and the
// version -shadow-alias points at, if it is set: a shadow version that
// fails is refused and counted, and the scorer starts without a shadow.
func (s *Service) loadFromCatalog(kafkaOpts []kgo.Opt, maxBatch int) (primary, shadow *model.Model, err error) {
	cfg := s.cfg.Model
	countSkips, err := catalogprom.SkipCounter(s.registry)
	if err != nil {
		return nil, nil, err
	}
	cat, err := catalog.New(kafkaOpts, cfg.Topic, s.logger, countSkips)
	if err != nil {
		return nil, nil, fmt.Errorf("model catalog: %w", err)
	}
	s.catalog, s.closeCatalog = cat, cat.Close
	s.loader = &loader{
		catalog: cat, schemas: s.schemaReg, lookup: s.decoder, topics: s.cfg.Stream.Topics,
		maxBatch: maxBatch, threads: cfg.Threads, logger: s.logger,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cat.Sync(ctx); err != nil {
		return nil, nil, fmt.Errorf("model catalog %s: %w", cfg.Topic, err)
	}
	v, err := cat.Resolve(cfg.Name, cfg.Alias)
	if err != nil {
		return nil, nil, fmt.Errorf("model-name %q, model-alias %q in catalog %s: %w", cfg.Name, cfg.Alias, cfg.Topic, err)
	}
	if primary, err = s.loader.load(ctx, v); err != nil {
		s.refuse(roleModel, cfg.Alias, v, err)
		return nil, nil, fmt.Errorf("model %s version %d (alias %s): %w", v.Name, v.Version, cfg.Alias, err)
	}
	s.serving = v.Version
	s.logger.Info("model loaded from the catalog", "name", v.Name, "version", v.Version, "alias", cfg.Alias)
	if cfg.ShadowAlias == "" {
		return primary, nil, nil
	}
	sv, err := cat.Resolve(cfg.Name, cfg.ShadowAlias)
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		s.logger.Warn("shadow alias not set yet; shadow scoring starts when it is", "name", cfg.Name, "alias", cfg.ShadowAlias)
		return primary, nil, nil
	case err != nil:
		primary.Close()
		return nil, nil, fmt.Errorf("model-name %q, shadow-alias %q: %w", cfg.Name, cfg.ShadowAlias, err)
	}
	if shadow, err = s.loader.load(ctx, sv); err != nil {
		if _, retry := s.refuse(roleShadow, cfg.ShadowAlias, sv, err); !retry {
			s.shadowServing = sv.Version // refused for good: not tried again unless the alias moves
		}
		return primary, nil, nil
	}
	s.shadowServing = sv.Version
	s.logger.Info("shadow model loaded from the catalog", "name", sv.Name, "version", sv.Version, "alias", cfg.ShadowAlias)
	return primary, shadow, nil
}

// refuse logs and counts a version that cannot serve; the model serving
// goes on.
func (s *Service) refuse(role, alias string, v catalog.Version, err error) (reason string, retry bool) {
	reason, retry = failure(err)
	s.loadFailures.WithLabelValues(reason).Inc()
	s.logger.Error("model version refused; the serving model goes on", "role", role, "name", v.Name,
		"version", v.Version, "alias", alias, "reason", reason, "retry", retry, "err", err)
	return reason, retry
}

// follow keeps the version an alias points at serving through swap: each
// time the alias moves, the new version is loaded and checked and handed
// to swap; a version that fails is refused, logged and counted, and the
// model serving goes on. A failure that says nothing about the version
// (the catalog or registry unreachable) is retried with backoff until it
// passes or the alias moves on. have is the version serving (or refused
// for good) already, which needs no load. follow returns nil when ctx
// ends.
func (s *Service) follow(ctx context.Context, role, alias string, have int, swap func(*model.Model) error) error {
	targets := make(chan catalog.Version, 1) // the latest target only
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		err := s.catalog.Follow(ctx, s.cfg.Model.Name, alias, func(v catalog.Version) {
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
		s.swapLoop(ctx, role, alias, have, targets, swap)
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
func (s *Service) swapLoop(ctx context.Context, role, alias string, have int, targets <-chan catalog.Version, swap func(*model.Model) error) {
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
		m, err := s.loader.load(ctx, want)
		if err == nil {
			err = swap(m) // the scorer owns m from here, even on error
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if _, transient := s.refuse(role, alias, want, err); transient {
				retry = time.After(backoff)
				backoff = min(2*backoff, retryMost)
			} else {
				want = catalog.Version{}
			}
			continue
		}
		s.logger.Info("version validated; swapping it in between batches", "role", role, "name", want.Name,
			"version", want.Version, "previous", have, "alias", alias)
		have, want = want.Version, catalog.Version{}
	}
}

// newLoadFailures is streamscore_model_load_failures_total.
func newLoadFailures(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "streamscore_model_load_failures_total",
		Help: "Catalog versions refused (the serving model went on), by reason.",
	}, []string{"reason"})
	reg.MustRegister(c)
	return c
}
