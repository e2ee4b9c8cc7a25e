package scorer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/drift"
	"github.com/streamscore/streamscore/internal/follow"
	"github.com/streamscore/streamscore/internal/httpserve"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/monitor"
	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/internal/stream"
)

// Service is a configured scorer, ready to Run.
type Service struct {
	cfg      Config
	logger   *slog.Logger
	registry *prometheus.Registry
	scorer   *stream.Scorer
	listener net.Listener

	schemaReg latestGetter
	decoder   schemaLookup

	// Serving from the catalog (-model-name) only: what loaded the
	// versions the aliases point at, what it loaded, and what follows the
	// aliases once the scorer exists.
	closeCatalog func()
	loader       *follow.Loader
	started      follow.Serving
	follower     *follow.Follower
	catalog      catalogVersions // nil serving a model file
	fileProfile  *drift.Profile  // -model-profile, serving a model file

	// Monitoring (monitor.go): nil when off.
	monitorWriter *monitor.Writer
	labelJoin     *monitor.LabelJoin
}

// New loads the model (from its file, or the version -model-alias points
// at in the catalog), checks it against the input topics' latest schemas,
// connects to Kafka and the registry, and binds the HTTP address. Nothing
// is consumed until Run.
func New(cfg Config, logger *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg, logger: logger, registry: prometheus.NewRegistry()}
	for _, c := range []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := s.registry.Register(c); err != nil {
			return nil, fmt.Errorf("register runtime metrics: %w", err)
		}
	}

	if err := model.Init(model.LibraryPath(cfg.Model.Library)); err != nil {
		return nil, err
	}
	if err := s.build(); err != nil {
		if s.closeCatalog != nil {
			s.closeCatalog()
		}
		return nil, err
	}
	return s, nil
}

func (s *Service) build() error {
	client, err := s.cfg.Registry.Client()
	if err != nil {
		return err
	}
	decoder, err := serde.NewDecoder(client, serde.DecoderConfig{Limits: s.cfg.Avro})
	if err != nil {
		return err
	}
	// "Latest" must mean latest each time a version is checked, long after
	// start: srclient would otherwise cache it per subject for good.
	latest, err := s.cfg.Registry.Client()
	if err != nil {
		return err
	}
	latest.CachingEnabled(false)
	s.schemaReg, s.decoder = latest, decoder
	kafkaOpts, err := s.cfg.Kafka.Opts()
	if err != nil {
		return err
	}
	primary, shadow, err := s.loadModels(kafkaOpts)
	if err != nil {
		return err
	}
	// From here the models are closed on failure, until the scorer owns them.
	closeModels := func() {
		primary.Close()
		if shadow != nil {
			shadow.Close()
		}
	}
	outputs, err := serde.NewOutputEncoder(client, serde.OutputEncoderConfig{})
	if err != nil {
		closeModels()
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.cfg.Kafka.Ping(ctx); err != nil {
		closeModels()
		return err
	}
	streamCfg := s.cfg.streamConfig()
	if s.cfg.CreateTopics {
		if err := ensureTopics(ctx, kafkaOpts, streamCfg.WithDefaults(), s.cfg.Monitor.monitorTopics(streamCfg.Topics), s.logger); err != nil {
			closeModels()
			return err
		}
	}
	// Listen before joining the group: the scorer becomes a group member as
	// soon as it exists, and nothing after it may fail.
	s.listener, err = net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		closeModels()
		return fmt.Errorf("http-addr: %w", err)
	}
	monitoring, err := s.buildMonitoring(kafkaOpts, client)
	if err == nil {
		err = s.buildLabelJoin(kafkaOpts, decoder, primary.Spec())
	}
	if err != nil {
		closeModels()
		s.listener.Close()
		s.closeMonitor()
		return err
	}
	s.scorer, err = stream.NewScorer(streamCfg, stream.Deps{
		KafkaOpts: kafkaOpts, Decoder: decoder, Outputs: outputs, Model: primary, ShadowModel: shadow,
		Registry: s.registry, Logger: s.logger, Monitoring: monitoring,
	})
	if err != nil {
		closeModels()
		s.listener.Close()
		s.closeMonitor()
		return err
	}
	if s.loader != nil {
		// Candidates are tried on the traffic being scored.
		s.follower = follow.NewFollower(s.loader, s.started, s.scorer)
	}
	return nil
}

// loadModels loads the model to serve and, with -shadow-alias, the shadow
// model if its alias is set already. A file model is checked against the
// input schemas here; catalog versions go through the loader, which checks
// them all the same.
func (s *Service) loadModels(kafkaOpts []kgo.Opt) (primary, shadow *model.Model, err error) {
	maxBatch := s.cfg.Stream.WithDefaults().MaxBatch
	if s.cfg.Model.Name == "" {
		m, err := loadModel(s.cfg.Model, maxBatch)
		if err != nil {
			return nil, nil, err
		}
		spec := m.Spec()
		s.logger.Info("model loaded", "name", spec.Name, "version", spec.Version, "path", s.cfg.Model.Path)
		if err := checkInputSchemas(s.schemaReg, s.decoder, spec, s.cfg.Stream.Topics, s.logger); err != nil {
			m.Close()
			return nil, nil, err
		}
		return m, nil, nil
	}
	return s.loadFromCatalog(kafkaOpts, maxBatch)
}

// Ready reports whether the scorer owns partitions (and so serves a model).
func (s *Service) Ready() bool { return s.scorer.Ready() }

// Addr is the HTTP listener's address (useful with port 0).
func (s *Service) Addr() string { return s.listener.Addr().String() }

// Metrics gives the service's own Prometheus registry.
func (s *Service) Metrics() prometheus.Gatherer { return s.registry }

// Run serves until ctx ends or the scorer fails, then drains and commits.
// Serving from the catalog, it follows the model's alias (and the shadow
// alias) meanwhile, swapping in each version that passes the checks.
func (s *Service) Run(ctx context.Context) error {
	if s.closeCatalog != nil {
		defer s.closeCatalog()
	}
	defer s.closeMonitor()
	g, ctx := errgroup.WithContext(ctx)
	if s.labelJoin != nil {
		g.Go(func() error { return s.labelJoin.Run(ctx) })
	}
	g.Go(func() error {
		err := s.scorer.Run(ctx)
		if err != nil {
			return fmt.Errorf("scorer: %w", err)
		}
		return nil
	})
	if s.follower != nil {
		g.Go(func() error {
			swap := func(m *model.Model) error {
				s.scorer.Swap(m)
				return nil
			}
			return s.follower.Run(ctx, swap, s.scorer.SwapShadow)
		})
	}
	g.Go(func() error { return httpserve.Serve(ctx, s.listener, s.routes(), s.cfg.HTTP, 5*time.Second) })
	return g.Wait()
}

// closeMonitor drains and closes the monitor producer, if there is one.
func (s *Service) closeMonitor() {
	if s.monitorWriter != nil {
		s.monitorWriter.Close(s.cfg.Stream.WithDefaults().DrainTimeout)
	}
}

func (s *Service) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.scorer.Ready() {
			http.Error(w, "not ready: no partitions assigned yet", http.StatusServiceUnavailable)
			return
		}
		spec := s.scorer.Serving()
		fmt.Fprintf(w, "ready: model %s version %s\n", spec.Name, spec.Version)
		if shadow, ok := s.scorer.ShadowServing(); ok {
			fmt.Fprintf(w, "shadow: model %s version %s\n", shadow.Name, shadow.Version)
		}
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry}))
	if s.cfg.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// loadModel reads the model file and its optional spec side file. A model
// without a version anywhere is named by a hash of its bytes, so outputs
// always say exactly which model scored them.
func loadModel(cfg ModelConfig, maxBatch int) (*model.Model, error) {
	data, err := os.ReadFile(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	sum := sha256.Sum256(data)
	opts := model.Options{
		Version:        cfg.Version,
		DefaultVersion: "sha256-" + hex.EncodeToString(sum[:6]),
		MaxBatch:       maxBatch,
		IntraOpThreads: cfg.Threads,
	}
	if cfg.SpecPath != "" {
		raw, err := os.ReadFile(cfg.SpecPath)
		if err != nil {
			return nil, fmt.Errorf("model spec: %w", err)
		}
		spec, err := model.ParseSpec(raw)
		if err != nil {
			return nil, fmt.Errorf("model spec %s: %w", cfg.SpecPath, err)
		}
		opts.Spec = &spec
	}
	m, err := model.Load(data, opts)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", cfg.Path, err)
	}
	return m, nil
}

// latestGetter is the registry call the startup check needs.
type latestGetter interface {
	GetLatestSchema(subject string) (*srclient.Schema, error)
}

// schemaLookup compiles a schema by id.
type schemaLookup interface {
	Lookup(id uint32) (*serde.Schema, error)
}

// checkInputSchemas refuses to start a model that cannot score the latest
// schema of an input topic. A topic with no schema yet is only logged: its
// records are checked one by one as they come.
func checkInputSchemas(reg latestGetter, lookup schemaLookup, spec model.Spec, topics []string, logger *slog.Logger) error {
	for _, topic := range topics {
		subject := topic + "-value"
		latest, err := reg.GetLatestSchema(subject)
		var srErr srclient.Error
		if errors.As(err, &srErr) && srErr.Code == errCodeSubjectNotFound {
			logger.Warn("no schema registered for the input topic yet; records will be checked as they arrive", "subject", subject)
			continue
		}
		if err != nil {
			// Wrong credentials or URL would otherwise start a scorer that
			// retries every record forever while reporting ready.
			return fmt.Errorf("schema registry: latest schema of %s: %w", subject, err)
		}
		schema, err := lookup.Lookup(uint32(latest.ID()))
		if err != nil {
			return fmt.Errorf("input schema %s: %w", subject, err)
		}
		tree, err := avropath.ParseSchema(schema.Text)
		if err != nil {
			return fmt.Errorf("input schema %s: %w", subject, err)
		}
		if err := spec.CheckSchema(tree); err != nil {
			return fmt.Errorf("model %s against %s version %d: %w", spec.Name, subject, latest.Version(), err)
		}
		logger.Info("model fits the input schema", "subject", subject, "version", latest.Version(), "schema_id", latest.ID())
	}
	return nil
}

// errCodeSubjectNotFound is the registry's error code for an unknown subject.
const errCodeSubjectNotFound = 40401
