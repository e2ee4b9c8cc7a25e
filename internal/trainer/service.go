package trainer

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riferrei/srclient"
	"golang.org/x/sync/errgroup"

	"github.com/streamscore/streamscore/internal/api"
	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/catalog/catalogprom"
	"github.com/streamscore/streamscore/internal/connect"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/httpserve"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/serde"
)

// Service is a configured trainer: its jobs and their triggers, the REST
// API, and the HTTP endpoints, ready to Run.
type Service struct {
	cfg      Config
	logger   *slog.Logger
	registry *prometheus.Registry
	catalog  *catalog.Catalog
	runner   *jobs.Runner
	jobs     *jobs.Scheduler
	api      *api.API
	listener net.Listener
}

// New connects to Kafka, the registry and the catalog, checks the jobs and
// builds the API. Nothing is trained or served until Run; the train and
// models commands use a Service without running it.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg, logger: logger, registry: prometheus.NewRegistry()}
	for _, c := range []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := s.registry.Register(c); err != nil {
			return nil, err
		}
	}
	if err := s.build(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Service) build(ctx context.Context) error {
	if err := model.Init(model.LibraryPath(s.cfg.ORTLibrary)); err != nil {
		return err
	}
	runner, err := s.connect(ctx)
	if err != nil {
		return err
	}
	s.runner = runner
	s.jobs, err = jobs.NewScheduler(s.cfg.Jobs, jobs.SchedulerDeps{
		Runner: runner, Registry: s.registry, Logger: s.logger, PollInterval: s.cfg.PollInterval,
	})
	if err != nil {
		return err
	}
	s.api, err = api.New(api.Config{
		MaxBodyBytes: s.cfg.MaxBodyBytes, Token: s.cfg.APIToken,
		MaxDataBytes: s.cfg.MaxDataBytes, MaxModelDataBytes: s.cfg.MaxModelDataBytes,
	}, api.Deps{
		Logger: s.logger.With("component", "api"), Registerer: s.registry,
		Publisher: publisher{runner}, Jobs: s.jobs, Schemas: apiSchemas(runner),
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	return nil
}

// connect reaches Kafka, the schema registry and the catalog, and returns
// the runner that trains with them.
func (s *Service) connect(ctx context.Context) (*jobs.Runner, error) {
	kafkaOpts, err := s.cfg.Kafka.Opts()
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.cfg.Kafka.Ping(pingCtx); err != nil {
		return nil, err
	}
	countSkips, err := catalogprom.SkipCounter(s.registry)
	if err != nil {
		return nil, err
	}
	s.catalog, err = catalog.New(kafkaOpts, s.cfg.ModelsTopic, s.logger, countSkips)
	if err != nil {
		return nil, err
	}
	if err := s.catalog.EnsureTopic(pingCtx); err != nil {
		return nil, fmt.Errorf("models topic %s: %w", s.cfg.ModelsTopic, err)
	}
	if err := s.catalog.Sync(pingCtx); err != nil {
		return nil, fmt.Errorf("models topic %s: %w", s.cfg.ModelsTopic, err)
	}
	runner := &jobs.Runner{KafkaOpts: kafkaOpts, Catalog: s.catalog, Logger: s.logger}
	if len(s.cfg.Jobs) > 0 || s.cfg.Registry.URL != "" {
		client, err := s.cfg.Registry.Client()
		if err != nil {
			return nil, err
		}
		if runner.Decoder, err = serde.NewDecoder(explainedRegistry{client, s.cfg.Registry}, serde.DecoderConfig{Limits: s.cfg.Avro}); err != nil {
			return nil, err
		}
		// Jobs, and REST models that name a subject, are checked against
		// the latest schemas before anything is read.
		runner.Schemas = jobs.RegistrySchemas{Registry: explainedLatest{client, s.cfg.Registry}}
	}
	return runner, nil
}

// explainedLatest is explainedRegistry's for the latest schema of a
// subject.
type explainedLatest struct {
	jobs.LatestGetter
	settings connect.Registry
}

func (r explainedLatest) GetLatestSchema(subject string) (*srclient.Schema, error) {
	schema, err := r.LatestGetter.GetLatestSchema(subject)
	return schema, r.settings.Explain(err)
}

// explainedRegistry names the settings to check when the registry refuses
// the credentials, which the decoder alone reports as unavailable.
type explainedRegistry struct {
	serde.SchemaGetter
	settings connect.Registry
}

func (r explainedRegistry) GetSchema(id int) (*srclient.Schema, error) {
	schema, err := r.SchemaGetter.GetSchema(id)
	return schema, r.settings.Explain(err)
}

// Catalog is the service's view of the model catalog.
func (s *Service) Catalog() *catalog.Catalog { return s.catalog }

// Listen binds the HTTP address; Run calls it if it was not called.
func (s *Service) Listen() error {
	if s.listener != nil {
		return nil
	}
	l, err := net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("http-addr: %w", err)
	}
	s.listener = l
	return nil
}

// Addr is the HTTP listener's address (useful with port 0), once listening.
func (s *Service) Addr() string { return s.listener.Addr().String() }

// TrainOnce runs one job now, outside the schedule, and returns what it did.
func (s *Service) TrainOnce(ctx context.Context, name string, force bool) (*jobs.Outcome, error) {
	for _, j := range s.cfg.Jobs {
		if j.Name == name {
			return s.runner.Run(ctx, j, force, nil)
		}
	}
	return nil, fmt.Errorf("%w: %q (the configuration has %d jobs)", jobs.ErrUnknownJob, name, len(s.cfg.Jobs))
}

// Run serves the API and runs the jobs until ctx ends, then shuts down.
func (s *Service) Run(ctx context.Context) error {
	defer s.Close()
	if err := s.Listen(); err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.jobs.Run(ctx) })
	g.Go(func() error { return httpserve.Serve(ctx, s.listener, s.routes(), s.cfg.HTTP, 10*time.Second) })
	return g.Wait()
}

// routes serves /metrics and /readyz beside the REST API, which answers
// everything else (its token guards all but /healthz).
func (s *Service) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("/", s.api.Handler())
	return mux
}

// Close releases the API's models and the catalog's client; Run closes
// the service when it returns.
func (s *Service) Close() {
	if s.api != nil {
		s.api.Close()
	}
	if s.catalog != nil {
		s.catalog.Close()
	}
}

// publisher publishes models trained over the REST API to the catalog,
// with the same champion rule as jobs: promoted if it beats the champion
// on the same holdout.
type publisher struct{ runner *jobs.Runner }

func (p publisher) Publish(ctx context.Context, name string, res *fit.Result, opts fit.Options) (int, error) {
	out, err := p.runner.Publish(ctx, name, opts, res, catalog.Source{Description: "rows sent to the REST API"}, jobs.PromoteIfBetter)
	if err != nil {
		return 0, err
	}
	return out.Version.Version, nil
}

// apiSchemas are the API's schema lookups: the runner's, or none (nil,
// not a nil interface inside one) without a registry.
func apiSchemas(r *jobs.Runner) api.SchemaLookup {
	if r.Schemas == nil {
		return nil
	}
	return r.Schemas
}
