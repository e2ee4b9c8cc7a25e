package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamscore/streamscore/internal/fit"
)

// Defaults of Config.
const (
	DefaultMaxBodyBytes    = 32 << 20
	DefaultMaxRowsPerModel = 1_000_000
	// The rows of every model together, and of one model, in the
	// compact form they are held in (see docs/api.md).
	DefaultMaxDataBytes      = 256 << 20
	DefaultMaxModelDataBytes = 128 << 20
	DefaultMaxModels         = 100
	DefaultMaxTasks          = 1000
	DefaultTrainTimeout      = time.Hour
)

// Config bounds what the API holds and accepts. Zero values take the
// defaults.
type Config struct {
	// MaxBodyBytes bounds a request body; larger ones are answered 413.
	MaxBodyBytes int64
	// MaxRowsPerModel bounds the rows held for one model: a slice that
	// would pass it is refused whole (413 if it alone is over, else 409).
	MaxRowsPerModel int
	// MaxDataBytes bounds the bytes of rows held for all models together,
	// and MaxModelDataBytes for one model, counted as they are held
	// (typed columns: 4 bytes and a bit per numeric feature, and so on),
	// uploads under way and rows a training still reads included. A slice
	// that would pass either is refused whole with 413, naming the limit
	// and its trainer setting (max-data-bytes, max-model-data-bytes).
	MaxDataBytes      int64
	MaxModelDataBytes int64
	// MaxModels bounds how many models are held; creating one more is 409.
	MaxModels int
	// MaxTasks bounds the tasks kept for GET /tasks/{id}; the oldest
	// finished ones are forgotten first.
	MaxTasks int
	// Token, when set, is the bearer token every request but /healthz
	// must carry (Authorization: Bearer <token>).
	Token string
	// TrainTimeout bounds one training, publishing included.
	TrainTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxRowsPerModel == 0 {
		c.MaxRowsPerModel = DefaultMaxRowsPerModel
	}
	if c.MaxDataBytes == 0 {
		c.MaxDataBytes = DefaultMaxDataBytes
	}
	if c.MaxModelDataBytes == 0 {
		c.MaxModelDataBytes = DefaultMaxModelDataBytes
	}
	if c.MaxModels == 0 {
		c.MaxModels = DefaultMaxModels
	}
	if c.MaxTasks == 0 {
		c.MaxTasks = DefaultMaxTasks
	}
	if c.TrainTimeout == 0 {
		c.TrainTimeout = DefaultTrainTimeout
	}
	return c
}

// Validate reports every setting out of range.
func (c Config) Validate() error {
	var errs []error
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("max body bytes: %d is negative", c.MaxBodyBytes))
	}
	if c.MaxRowsPerModel < 0 {
		errs = append(errs, fmt.Errorf("max rows per model: %d is negative", c.MaxRowsPerModel))
	}
	if c.MaxDataBytes < 0 {
		errs = append(errs, fmt.Errorf("max data bytes: %d is negative", c.MaxDataBytes))
	}
	if c.MaxModelDataBytes < 0 {
		errs = append(errs, fmt.Errorf("max model data bytes: %d is negative", c.MaxModelDataBytes))
	}
	if c.MaxModels < 0 {
		errs = append(errs, fmt.Errorf("max models: %d is negative", c.MaxModels))
	}
	if c.MaxTasks < 0 {
		errs = append(errs, fmt.Errorf("max tasks: %d is negative", c.MaxTasks))
	}
	if c.TrainTimeout < 0 {
		errs = append(errs, fmt.Errorf("train timeout: %s is negative", c.TrainTimeout))
	}
	if strings.ContainsAny(c.Token, " \t\r\n") {
		errs = append(errs, errors.New("token: holds white space, which an Authorization header cannot carry"))
	}
	return errors.Join(errs...)
}

// Publisher publishes a trained model to the model registry and returns the
// version it got there. The catalog-backed one is wired in main; without
// one, models are kept in memory and numbered per model from 1.
type Publisher interface {
	Publish(ctx context.Context, name string, res *fit.Result, opts fit.Options) (version int, err error)
}

// SchemaLookup finds the latest schema registered under a subject, which
// a model naming a subject ("subject" in its options) is checked against
// when it is created. The trainer's is the schema registry's
// (jobs.RegistrySchemas).
type SchemaLookup interface {
	// LatestSchema returns the schema's text and version; a subject with
	// no schema is fit.ErrNoSchema.
	LatestSchema(ctx context.Context, subject string) (text string, version int, err error)
}

// Deps are the API's collaborators; all are optional.
type Deps struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Publisher  Publisher
	// Jobs, when set, are served under /jobs.
	Jobs Jobs
	// Schemas, when set, check models that name a subject; without them
	// such a model is refused.
	Schemas SchemaLookup
}

// API serves the trainer's REST API. Close it to cancel running trainings
// and free the ONNX Runtime sessions.
type API struct {
	cfg       Config
	logger    *slog.Logger
	metrics   *metrics
	publisher Publisher
	jobs      Jobs
	schemas   SchemaLookup
	models    *store
	tasks     *tasks
	handler   http.Handler

	ctx    context.Context // parent of every training; canceled by Close
	cancel context.CancelCauseFunc
	lifeMu sync.Mutex // guards closed, and wg.Add against Close's Wait
	closed bool
	wg     sync.WaitGroup
}

// New checks cfg and builds the API. It fails on a bad Config or when its
// metrics cannot be registered (registered twice on one registry).
func New(cfg Config, deps Deps) (*API, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("api config: %w", err)
	}
	cfg = cfg.withDefaults()
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	a := &API{
		cfg: cfg, logger: logger.With("component", "api"), metrics: m, publisher: deps.Publisher, jobs: deps.Jobs, schemas: deps.Schemas,
		models: newStore(cfg.MaxModels, cfg.MaxModelDataBytes, &dataBudget{limit: cfg.MaxDataBytes, gauge: m.dataBytes.Set}),
		tasks:  newTasks(cfg.MaxTasks),
		ctx:    ctx, cancel: cancel,
	}
	a.handler = a.routes()
	return a, nil
}

// Handler is the API's HTTP handler.
func (a *API) Handler() http.Handler { return a.handler }

// Close cancels running trainings, waits for them to end and closes every
// model's ONNX Runtime session. Requests after Close fail.
func (a *API) Close() error {
	a.lifeMu.Lock()
	a.closed = true
	a.lifeMu.Unlock()
	a.cancel(errShuttingDown)
	a.wg.Wait()
	for _, e := range a.models.all() {
		e.stopServing()
	}
	return nil
}

// handlerFunc is a route's handler: it writes its response, or returns the
// error to answer instead.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (a *API) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h handlerFunc) {
		mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := h(w, r); err != nil {
				writeError(w, r, a.logger, err)
			}
		}))
	}
	handle("GET /healthz", func(w http.ResponseWriter, _ *http.Request) error {
		writeJSON(w, a.logger, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	})
	handle("GET /models", a.listModels)
	handle("PUT /models/{name}", a.putModel)
	handle("GET /models/{name}", a.getModel)
	handle("DELETE /models/{name}", a.deleteModel)
	handle("PUT /models/{name}/data/train", a.putRows)
	handle("DELETE /models/{name}/data/train", a.deleteRows)
	handle("PUT /models/{name}/train", a.train)
	handle("POST /models/{name}/predict", a.predict)
	handle("GET /models/{name}/onnx", a.getONNX)
	handle("GET /tasks/{id}", a.getTask)
	handle("GET /jobs", a.listJobs)
	handle("POST /jobs/{name}/train", a.triggerJob)

	// Paths that exist answer other methods with a JSON 405; the rest 404.
	allowed := map[string]string{
		"/healthz":                  "GET",
		"/models":                   "GET",
		"/models/{name}":            "GET, PUT, DELETE",
		"/models/{name}/data/train": "PUT, DELETE",
		"/models/{name}/train":      "PUT",
		"/models/{name}/predict":    "POST",
		"/models/{name}/onnx":       "GET",
		"/tasks/{id}":               "GET",
		"/jobs":                     "GET",
		"/jobs/{name}/train":        "POST",
	}
	for path, methods := range allowed {
		handle(path, func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Allow", methods)
			return newError(http.StatusMethodNotAllowed, "", "%s %s: allowed methods are %s", r.Method, r.URL.Path, methods)
		})
	}
	handle("/", func(_ http.ResponseWriter, r *http.Request) error {
		return newError(http.StatusNotFound, "", "no route %s %s", r.Method, r.URL.Path)
	})
	return a.middleware(mux)
}

// middleware bounds the body, checks the token, recovers from panics and
// counts every request by route and status.
func (a *API) middleware(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		_, route := mux.Handler(r)
		if route == "" || route == "/" {
			route = "unmatched"
		}
		r.Body = http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				a.logger.Error("handler panicked", "route", route, "panic", p, "stack", string(debug.Stack()))
				if !rec.wrote {
					writeError(rec, r, a.logger, newError(http.StatusInternalServerError, "", "internal error"))
				}
			}
			a.metrics.observe(route, rec.status, time.Since(start))
		}()
		if route != "GET /healthz" {
			if err := a.authorize(r); err != nil {
				writeError(rec, r, a.logger, err)
				return
			}
		}
		if a.isClosed() {
			writeError(rec, r, a.logger, newError(http.StatusServiceUnavailable, "", "the trainer is shutting down"))
			return
		}
		mux.ServeHTTP(rec, r)
	})
}

func (a *API) isClosed() bool {
	a.lifeMu.Lock()
	defer a.lifeMu.Unlock()
	return a.closed
}

// authorize checks the bearer token in constant time.
func (a *API) authorize(r *http.Request) error {
	if a.cfg.Token == "" {
		return nil
	}
	header := r.Header.Get("Authorization")
	if header == "" {
		return newError(http.StatusUnauthorized, "Authorization", "Authorization: a bearer token is required")
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return newError(http.StatusUnauthorized, "Authorization", "Authorization: want \"Bearer <token>\"")
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(a.cfg.Token)) != 1 {
		return newError(http.StatusUnauthorized, "Authorization", "Authorization: the token is not valid")
	}
	return nil
}

// statusRecorder remembers the status a handler wrote, for the metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// checkJSON refuses a body that says it is not JSON: application/json and
// no Content-Type at all are accepted.
func checkJSON(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil || mediaType != "application/json" {
		return newError(http.StatusUnsupportedMediaType, "Content-Type", "Content-Type: %q is not application/json", ct)
	}
	return nil
}

// checkBody refuses, before reading it, a body that is not JSON or says
// it is larger than the limit (the middleware bounds what is read anyway).
func (a *API) checkBody(r *http.Request) error {
	if err := checkJSON(r); err != nil {
		return err
	}
	if r.ContentLength > a.cfg.MaxBodyBytes {
		return &http.MaxBytesError{Limit: a.cfg.MaxBodyBytes}
	}
	return nil
}

// readBody reads a whole JSON body within the size limit.
func (a *API) readBody(r *http.Request) ([]byte, error) {
	if err := a.checkBody(r); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return body, nil
}

// metrics are the API's Prometheus series.
type metrics struct {
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	trainings *prometheus.CounterVec
	training  prometheus.Histogram
	dataBytes prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamscore_api_requests_total",
			Help: "Trainer API requests answered, by route pattern and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "streamscore_api_request_seconds",
			Help:    "Trainer API request duration, by route pattern (a synchronous training included).",
			Buckets: prometheus.ExponentialBuckets(0.5e-3, 4, 10),
		}, []string{"route"}),
		trainings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamscore_api_trainings_total",
			Help: "Trainings finished, by result: succeeded or failed.",
		}, []string{"result"}),
		training: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "streamscore_api_training_seconds",
			Help:    "Duration of a successful training, publishing included.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2.5, 10),
		}),
		dataBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "streamscore_api_data_bytes",
			Help: "Bytes of training rows held for the API's models (uploads under way and rows trainings still read included), against max-data-bytes.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.trainings, m.training, m.dataBytes} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register api metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}
