package trainer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrUnknownJob is a trigger for a job the service does not have.
var ErrUnknownJob = errors.New("unknown job")

// DefaultPollInterval is how often the service counts new source records
// for jobs with EveryRecords.
const DefaultPollInterval = 10 * time.Second

// Service runs jobs when they are due: on demand (Trigger), on their
// schedule, and after EveryRecords new records on their source topic. A
// job's trainings never overlap: each job has one goroutine that trains,
// and triggers that arrive while it trains are merged into one more run.
type Service struct {
	runner       *Runner
	jobs         map[string]*jobState
	metrics      *serviceMetrics
	logger       *slog.Logger
	pollInterval time.Duration
}

// ServiceDeps are what a Service is built from.
type ServiceDeps struct {
	Runner   *Runner
	Registry prometheus.Registerer
	Logger   *slog.Logger
	// PollInterval overrides DefaultPollInterval (tests).
	PollInterval time.Duration
}

type jobState struct {
	job     Job
	trigger chan bool // true = forced; buffered 1: triggers merge

	mu        sync.Mutex
	running   bool
	last      *Outcome
	lastErr   error
	lastAt    time.Time
	trainedTo map[int32]int64 // end offsets of the last training's read
}

// JobStatus is what the service reports of a job.
type JobStatus struct {
	Name      string    `json:"name"`
	Running   bool      `json:"running"`
	LastAt    time.Time `json:"last_at,omitzero"`
	Version   int       `json:"last_version,omitempty"`
	Promoted  bool      `json:"last_promoted,omitempty"`
	Reason    string    `json:"last_reason,omitempty"`
	Metrics   Metrics   `json:"last_metrics,omitempty"`
	LastError string    `json:"last_error,omitempty"`
}

// NewService checks the jobs and builds a service for them.
func NewService(jobs []Job, deps ServiceDeps) (*Service, error) {
	if deps.Runner == nil {
		return nil, errors.New("trainer service: no runner")
	}
	s := &Service{
		runner: deps.Runner, jobs: map[string]*jobState{},
		logger: deps.Logger, pollInterval: deps.PollInterval,
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.pollInterval <= 0 {
		s.pollInterval = DefaultPollInterval
	}
	var errs []error
	for _, j := range jobs {
		if err := j.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := s.jobs[j.Name]; dup {
			errs = append(errs, fmt.Errorf("%w: job %q is defined twice", ErrInvalidOptions, j.Name))
			continue
		}
		s.jobs[j.Name] = &jobState{job: j, trigger: make(chan bool, 1)}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	reg := deps.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := newServiceMetrics(reg)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	return s, nil
}

// Trigger asks for a training of the job now; force promotes the result
// whatever its metrics. It returns at once: a training already running is
// followed by one more.
func (s *Service) Trigger(name string, force bool) error {
	st, ok := s.jobs[name]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownJob, name)
	}
	select {
	case st.trigger <- force:
	default:
		// A run is already pending. A forced trigger must not be lost to
		// an unforced one: replace it.
		if force {
			select {
			case <-st.trigger:
			default:
			}
			select {
			case st.trigger <- true:
			default:
			}
		}
	}
	return nil
}

// Status reports every job, by name.
func (s *Service) Status() []JobStatus {
	out := make([]JobStatus, 0, len(s.jobs))
	for name, st := range s.jobs {
		st.mu.Lock()
		js := JobStatus{Name: name, Running: st.running, LastAt: st.lastAt}
		if st.last != nil {
			js.Version, js.Promoted, js.Reason = st.last.Version.Version, st.last.Promoted, st.last.Reason
			js.Metrics = st.last.Result.Evaluation.Metrics
		}
		if st.lastErr != nil {
			js.LastError = st.lastErr.Error()
		}
		st.mu.Unlock()
		out = append(out, js)
	}
	return out
}

// Run serves the jobs until ctx ends: one goroutine per job trains it, one
// counts new records for the jobs that retrain on volume.
func (s *Service) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, st := range s.jobs {
		wg.Go(func() { s.serve(ctx, st) })
		if st.job.EveryRecords > 0 {
			wg.Go(func() { s.watchVolume(ctx, st) })
		}
	}
	wg.Wait()
	return nil
}

// serve trains one job whenever it is triggered or its schedule is due.
func (s *Service) serve(ctx context.Context, st *jobState) {
	var tick <-chan time.Time
	if st.job.Schedule > 0 {
		t := time.NewTicker(st.job.Schedule)
		defer t.Stop()
		tick = t.C
	}
	for {
		force := false
		select {
		case <-ctx.Done():
			return
		case force = <-st.trigger:
		case <-tick:
		}
		s.train(ctx, st, force)
	}
}

func (s *Service) train(ctx context.Context, st *jobState, force bool) {
	name := st.job.Name
	st.mu.Lock()
	st.running = true
	st.mu.Unlock()
	s.metrics.running.WithLabelValues(name).Set(1)
	defer s.metrics.running.WithLabelValues(name).Set(0)

	progress := newProgressLog(s.logger.With("model", name), s.metrics.progress.WithLabelValues(name), time.Now)
	meters := &readMeters{records: s.metrics.readRecords.WithLabelValues(name), ratio: s.metrics.readRatio.WithLabelValues(name)}
	out, err := s.runner.run(ctx, st.job, force, progress.report, meters)

	st.mu.Lock()
	st.running, st.lastAt, st.lastErr = false, time.Now(), err
	if err == nil {
		st.last = out
		st.trainedTo = endOffsets(out)
	}
	st.mu.Unlock()
	switch {
	case err != nil && ctx.Err() != nil:
		s.metrics.trainings.WithLabelValues(name, "cancelled").Inc()
	case err != nil:
		s.metrics.trainings.WithLabelValues(name, "failed").Inc()
		s.logger.Error("training failed", "model", name, "err", err)
	case out.Promoted:
		s.metrics.trainings.WithLabelValues(name, "promoted").Inc()
		s.metrics.duration.WithLabelValues(name).Observe(out.Result.Duration.Seconds())
	default:
		s.metrics.trainings.WithLabelValues(name, "published").Inc()
		s.metrics.duration.WithLabelValues(name).Observe(out.Result.Duration.Seconds())
	}
}

func endOffsets(out *Outcome) map[int32]int64 {
	ends := map[int32]int64{}
	for _, r := range out.Version.Source.Ranges {
		ends[r.Partition] = r.End
	}
	return ends
}

// watchVolume triggers a job once EveryRecords records have arrived on its
// topic beyond what its last training read (or beyond the topic's size at
// start, before any training).
func (s *Service) watchVolume(ctx context.Context, st *jobState) {
	client, err := kgo.NewClient(s.runner.KafkaOpts...)
	if err != nil {
		s.logger.Error("record-count trigger disabled", "model", st.job.Name, "err", err)
		return
	}
	defer client.Close()
	admin := kadm.NewClient(client)
	topic := st.job.Source.Topic
	var baseline map[int32]int64
	t := time.NewTicker(s.pollInterval)
	defer t.Stop()
	for {
		ends, err := admin.ListEndOffsets(ctx, topic)
		if err == nil {
			err = ends.Error()
		}
		if err != nil && ctx.Err() == nil {
			s.logger.Warn("cannot count new records", "model", st.job.Name, "topic", topic, "err", err)
		}
		if err == nil {
			st.mu.Lock()
			if st.trainedTo != nil {
				baseline = st.trainedTo
			}
			st.mu.Unlock()
			if baseline == nil {
				baseline = map[int32]int64{}
				ends.Each(func(o kadm.ListedOffset) { baseline[o.Partition] = o.Offset })
			}
			var fresh int64
			ends.Each(func(o kadm.ListedOffset) { fresh += o.Offset - baseline[o.Partition] })
			s.metrics.newRecords.WithLabelValues(st.job.Name).Set(float64(fresh))
			if fresh >= st.job.EveryRecords {
				s.logger.Info("retraining after new records", "model", st.job.Name, "new_records", fresh)
				// Until the training reports its own offsets, count from here.
				baseline = map[int32]int64{}
				ends.Each(func(o kadm.ListedOffset) { baseline[o.Partition] = o.Offset })
				st.mu.Lock()
				st.trainedTo = baseline
				st.mu.Unlock()
				_ = s.Trigger(st.job.Name, false)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// progressLog reports a training's progress: the gauge at every step, the
// log at most every few seconds, with an ETA from the pace so far.
type progressLog struct {
	logger  *slog.Logger
	gauge   prometheus.Gauge
	now     func() time.Time
	start   time.Time
	lastLog time.Time
}

const progressLogEvery = 5 * time.Second

func newProgressLog(logger *slog.Logger, gauge prometheus.Gauge, now func() time.Time) *progressLog {
	t := now()
	gauge.Set(0)
	return &progressLog{logger: logger, gauge: gauge, now: now, start: t, lastLog: t}
}

func (p *progressLog) report(done, total int) {
	if total <= 0 {
		return
	}
	ratio := float64(done) / float64(total)
	p.gauge.Set(ratio)
	now := p.now()
	if now.Sub(p.lastLog) < progressLogEvery && done < total {
		return
	}
	p.lastLog = now
	elapsed := now.Sub(p.start)
	var eta time.Duration
	if done > 0 {
		eta = time.Duration(float64(elapsed) / ratio * (1 - ratio))
	}
	p.logger.Info("training", "percent", fmt.Sprintf("%.0f", 100*ratio), "step", done, "of", total,
		"elapsed", elapsed.Round(time.Second), "eta", eta.Round(time.Second))
}

type serviceMetrics struct {
	trainings  *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	progress   *prometheus.GaugeVec
	running    *prometheus.GaugeVec
	newRecords *prometheus.GaugeVec
	// readRecords and readRatio follow the reading of a training's
	// history, which at 10M records takes longer than the fit.
	readRecords *prometheus.CounterVec
	readRatio   *prometheus.GaugeVec
}

func newServiceMetrics(reg prometheus.Registerer) (*serviceMetrics, error) {
	m := &serviceMetrics{
		trainings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamscore_trainings_total",
			Help: "Trainings by model and result: promoted, published (not promoted), failed, cancelled.",
		}, []string{"model", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "streamscore_training_duration_seconds",
			Help:    "Time to fit, export and evaluate a model.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2, 14),
		}, []string{"model"}),
		progress: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamscore_training_progress_ratio",
			Help: "How far the current or last training of a model is, 0 to 1.",
		}, []string{"model"}),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamscore_training_running",
			Help: "1 while a model trains.",
		}, []string{"model"}),
		newRecords: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamscore_training_new_records",
			Help: "Records on a model's source topic since its last training, for record-count triggers.",
		}, []string{"model"}),
		readRecords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamscore_training_read_records_total",
			Help: "Records read from topics (source and test source) to train a model, over all its trainings.",
		}, []string{"model"}),
		readRatio: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamscore_training_read_ratio",
			Help: "How far the current or last read of a model's training data is, 0 to 1, by offsets.",
		}, []string{"model"}),
	}
	for _, c := range []prometheus.Collector{m.trainings, m.duration, m.progress, m.running, m.newRecords, m.readRecords, m.readRatio} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
