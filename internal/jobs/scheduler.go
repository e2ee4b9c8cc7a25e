package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/fit"
)

// ErrUnknownJob is a trigger for a job the scheduler does not have.
var ErrUnknownJob = errors.New("unknown job")

// DefaultPollInterval is how often the scheduler counts new source records
// for jobs with EveryRecords.
const DefaultPollInterval = 10 * time.Second

// Scheduler runs jobs when they are due: on demand (Trigger), on their
// schedule, and after EveryRecords new records on their source topic. A
// job's trainings never overlap: each job has one goroutine that trains,
// and triggers that arrive while it trains are merged into one more run.
type Scheduler struct {
	runner       *Runner
	jobs         map[string]*jobState
	metrics      *schedulerMetrics
	logger       *slog.Logger
	pollInterval time.Duration
	// started is when the scheduler was built: the monitor topics are
	// read from the records stamped since (watchMonitor).
	started time.Time
}

// SchedulerDeps are what a Scheduler is built from.
type SchedulerDeps struct {
	Runner   *Runner
	Registry prometheus.Registerer
	Logger   *slog.Logger
	// PollInterval overrides DefaultPollInterval (tests).
	PollInterval time.Duration
}

type jobState struct {
	job     Job
	trigger chan bool // true = forced; buffered 1: triggers merge

	mu      sync.Mutex
	running bool
	// began is when the latest training began: on_drift counts windows
	// again from the start of the training it asked for.
	began     time.Time
	last      *Outcome
	lastErr   error
	lastAt    time.Time
	trainedTo map[int32]int64 // end offsets of the last training's read
}

// JobStatus is what the scheduler reports of a job.
type JobStatus struct {
	Name      string      `json:"name"`
	Running   bool        `json:"running"`
	LastAt    time.Time   `json:"last_at,omitzero"`
	Version   int         `json:"last_version,omitempty"`
	Promoted  bool        `json:"last_promoted,omitempty"`
	Reason    string      `json:"last_reason,omitempty"`
	Metrics   fit.Metrics `json:"last_metrics,omitempty"`
	LastError string      `json:"last_error,omitempty"`
}

// NewScheduler checks the jobs and builds a scheduler for them.
func NewScheduler(jobs []Job, deps SchedulerDeps) (*Scheduler, error) {
	if deps.Runner == nil {
		return nil, errors.New("jobs scheduler: no runner")
	}
	s := &Scheduler{
		runner: deps.Runner, jobs: map[string]*jobState{},
		logger: deps.Logger, pollInterval: deps.PollInterval, started: time.Now(),
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
			errs = append(errs, fmt.Errorf("%w: job %q is defined twice", fit.ErrInvalidOptions, j.Name))
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
	m, err := newSchedulerMetrics(reg)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	return s, nil
}

// Reasons a training is asked for: the values of the reason label of
// streamscore_training_triggers_total.
const (
	triggerSchedule = "schedule"
	triggerVolume   = "volume"
	triggerDrift    = "drift"
	triggerManual   = "manual"
)

// Trigger asks for a training of the job now, by hand (the API, a
// command); force promotes the result whatever its metrics. It returns at
// once: a training already running is followed by one more.
func (s *Scheduler) Trigger(name string, force bool) error {
	return s.trigger(name, force, triggerManual)
}

// trigger is Trigger, counted under reason.
func (s *Scheduler) trigger(name string, force bool, reason string) error {
	st, ok := s.jobs[name]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownJob, name)
	}
	s.metrics.triggers.WithLabelValues(name, reason).Inc()
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

// Status reports every job, in the order of their names.
func (s *Scheduler) Status() []JobStatus {
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
	slices.SortFunc(out, func(a, b JobStatus) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Run serves the jobs until ctx ends: one goroutine per job trains it, one
// counts new records for the jobs that retrain on volume, and one follows
// the monitor topic of the jobs that retrain on drift or promote online.
func (s *Scheduler) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, st := range s.jobs {
		wg.Go(func() { s.serve(ctx, st) })
		if st.job.EveryRecords > 0 {
			wg.Go(func() { s.watchVolume(ctx, st) })
		}
		if st.job.watchesMonitor() {
			wg.Go(func() { s.watchMonitor(ctx, st) })
		}
	}
	wg.Wait()
	return nil
}

// serve trains one job whenever it is triggered or its schedule is due.
func (s *Scheduler) serve(ctx context.Context, st *jobState) {
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
			s.metrics.triggers.WithLabelValues(st.job.Name, triggerSchedule).Inc()
		}
		s.train(ctx, st, force)
	}
}

func (s *Scheduler) train(ctx context.Context, st *jobState, force bool) {
	name := st.job.Name
	st.mu.Lock()
	st.running, st.began = true, time.Now()
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
func (s *Scheduler) watchVolume(ctx context.Context, st *jobState) {
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
				_ = s.trigger(st.job.Name, false, triggerVolume)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
