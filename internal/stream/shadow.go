package stream

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/monitor"
	"github.com/streamscore/streamscore/internal/serde"
)

// Shadow failure reasons beyond the dead-letter classes (a record the
// shadow model cannot map is counted under its feature class).
const (
	// ShadowBehind: the shadow stage was still busy with earlier batches,
	// so a batch was not shadow-scored rather than hold up the primary.
	ShadowBehind = "behind"
	// ShadowRegistry: the shadow topic's output schema could not be
	// registered because the schema registry was unreachable.
	ShadowRegistry = "registry_unavailable"
	// ShadowProduce: a shadow result could not be produced (the shadow
	// producer's buffer was full, or Kafka refused it).
	ShadowProduce = "produce_failed"
)

// shadowQueue is how many scored batches may wait for the shadow stage
// before further ones are dropped: enough to ride out a slow shadow run or
// a garbage collection, few enough that waiting rows (the records'
// bodies) cannot grow the heap far.
const shadowQueue = 8

// shadowStage scores, on its own goroutine, the rows the serving model has
// just scored with a second (shadow) model, and emits each result to the
// shadow topic of its input, named after the shadow model.
//
// It never holds up the primary outputs: the scoring stage offers a batch
// only after emitting its outputs, and without waiting (a full queue drops
// the batch, counted as ShadowBehind); the shadow results go out through
// their own sink, a separate, non-transactional producer (shadowSink)
// whose failures are counted, never fatal. So shadow results are
// best effort: not covered by commits or transactions, lost when dropped
// or on a crash, and repeated when their input is scored again.
//
// A shadow model is swapped in at once when nothing is being shadow-scored
// (the stage is its only user) and the old one closed.
type shadowStage struct {
	topics  map[string]string // input topic -> shadow topic
	schemas OutputSchemas
	sink    resultSink
	monitor *monitoring // nil when monitoring is off
	metrics *metrics
	logger  *slog.Logger
	now     func() time.Time
	// closeModel closes a shadow model that no longer serves.
	closeModel func(*model.Model)

	jobs    chan []row    // scored rows, offered by the scoring stage
	swapped chan struct{} // a model was handed over
	done    chan struct{} // closed when run returns
	next    handover
	loaded  atomic.Bool // a model was handed over: rows are worth offering

	serving atomic.Pointer[model.Spec]

	// stage state
	gen   *generation
	batch *model.Batch
	rows  []row // the rows of one run, bound for the shadow topics
	enc   encoder
}

func newShadowStage(cfg Config, schemas OutputSchemas, sink resultSink, met *metrics, logger *slog.Logger) *shadowStage {
	topics := make(map[string]string, len(cfg.Topics))
	for _, t := range cfg.Topics {
		topics[t] = cfg.ShadowFor(t)
	}
	return &shadowStage{
		topics: topics, schemas: schemas, sink: sink, metrics: met, logger: logger.With("stage", "shadow"), now: time.Now,
		closeModel: func(m *model.Model) { m.Close() },
		jobs:       make(chan []row, shadowQueue), swapped: make(chan struct{}, 1), done: make(chan struct{}),
	}
}

// swap hands m over to shadow-score every batch the stage takes from now
// on, including batches already waiting in its queue. It is safe from any
// goroutine.
func (s *shadowStage) swap(m *model.Model) {
	if discard := s.next.offer(m); discard != nil {
		s.closeModel(discard)
	}
	s.loaded.Store(true)
	select {
	case s.swapped <- struct{}{}:
	default: // a signal is pending already
	}
}

// offer hands the scoring stage's rows on without waiting. It is a no-op
// on a nil stage (shadow scoring off) and before any shadow model.
//
// Rows the serving model (of spec) scored are not offered to a shadow
// model of the same version, as the champion and challenger aliases are
// on one version after a promotion: it would score them again to the same
// results, for nothing (and a label join would see one version in two
// roles).
func (s *shadowStage) offer(spec *model.Spec, rows []row) {
	if s == nil || len(rows) == 0 || !s.loaded.Load() {
		return
	}
	if sh := s.serving.Load(); sh != nil && sh.Name == spec.Name && sh.Version == spec.Version {
		return
	}
	select {
	case s.jobs <- rows:
	default:
		s.fail(ShadowBehind, len(rows))
	}
}

// run is the stage's goroutine: it returns once the jobs channel is closed
// and drained, having closed its model.
func (s *shadowStage) run() {
	defer close(s.done)
	for {
		select {
		case rows, ok := <-s.jobs:
			if !ok {
				s.stop()
				return
			}
			s.score(rows)
		case <-s.swapped:
			s.adoptPending()
		}
	}
}

// close ends the stage after it has scored what was offered; the scoring
// stage must have stopped offering.
func (s *shadowStage) close() {
	if s == nil {
		return
	}
	close(s.jobs)
	<-s.done
}

func (s *shadowStage) stop() {
	if m := s.next.close(); m != nil {
		s.closeModel(m)
	}
	if s.gen != nil {
		s.batch.Close()
		s.closeModel(s.gen.model)
	}
}

func (s *shadowStage) adoptPending() {
	m := s.next.take()
	if m == nil {
		return
	}
	old := s.gen
	s.gen = newGeneration(m)
	s.serving.Store(&s.gen.spec)
	s.metrics.shadowModelInfo.WithLabelValues(s.gen.spec.Name, s.gen.spec.Version).Set(1)
	if old != nil {
		if old.spec.Name != s.gen.spec.Name || old.spec.Version != s.gen.spec.Version {
			s.metrics.shadowModelInfo.DeleteLabelValues(old.spec.Name, old.spec.Version)
		}
		s.batch.Close()
		s.closeModel(old.model)
	}
	s.batch = m.NewBatch()
	s.logger.Info("shadow model swapped in", "name", s.gen.spec.Name, "version", s.gen.spec.Version)
}

// score maps the rows' records to the shadow model's features, runs it in
// batches of its size and emits one shadow result per row it could score.
// A panic in the shadow model's mapping or run fails the rows being
// scored, counted as internal_error: shadow scoring is best effort, and
// must never take the primary stream down.
func (s *shadowStage) score(rows []row) {
	defer func() {
		if r := recover(); r != nil {
			s.fail(deadletter.Internal, max(len(s.rows), 1))
			s.logger.Error("shadow scoring panicked; its rows are counted as failures, the primary stream goes on", "err", deadletter.Recovered(r))
			if s.batch != nil {
				s.batch.Reset()
			}
			s.rows = s.rows[:0]
		}
	}()
	s.adoptPending()
	if s.gen == nil {
		return
	}
	s.batch.Reset()
	s.rows = s.rows[:0]
	for _, r := range rows {
		if s.batch.Full() {
			s.runGathered()
		}
		if _, err := addRecord(s.batch, r.checked); err != nil {
			s.fail(deadletter.Classify(err), 1)
			continue
		}
		topic := s.topics[r.source.Topic]
		output, err := s.schemas.Output(r.source.Topic, topic, r.checked.Schema)
		if err != nil {
			s.batch.RemoveLast()
			reason := deadletter.Classify(err)
			if errors.Is(err, serde.ErrRegistryUnavailable) {
				reason = ShadowRegistry
			}
			s.fail(reason, 1)
			continue
		}
		r.outTopic, r.output, r.seg = topic, output, nil // not the primary's: nothing tracks shadow results
		s.rows = append(s.rows, r)
	}
	s.runGathered()
}

// runGathered scores the rows gathered so far and emits their shadow
// results.
func (s *shadowStage) runGathered() {
	defer func() {
		s.batch.Reset()
		s.rows = s.rows[:0]
	}()
	if len(s.rows) == 0 {
		return
	}
	results, err := s.gen.model.Run(s.batch)
	if err != nil {
		s.fail(deadletter.InferenceFailed, len(s.rows))
		s.logger.Warn("shadow batch failed", "rows", len(s.rows), "version", s.gen.spec.Version, "err", err)
		return
	}
	s.monitor.observe(monitor.RoleShadow, &s.gen.spec, s.rows, s.batch, results)
	for _, out := range s.enc.encodeOutputs(s.gen, s.rows, results, s.now()) {
		s.sink.send(out)
	}
}

func (s *shadowStage) fail(reason string, n int) {
	s.metrics.shadowFailures.WithLabelValues(reason).Add(float64(n))
}

// shadowSink produces shadow results through a producer of their own,
// without waiting: a full buffer fails a result at once, counted, rather
// than hold up the shadow stage. A failure is counted and logged at most
// every 10 s: the primary stream goes on regardless.
type shadowSink struct {
	client       *kgo.Client
	drainTimeout time.Duration
	metrics      *metrics
	logger       *slog.Logger
	lastWarn     atomic.Int64             // unix nanos of the last failure logged
	ack          func(*kgo.Record, error) // the producer's promise, bound once
}

func newShadowSink(cl *kgo.Client, drainTimeout time.Duration, met *metrics, logger *slog.Logger) *shadowSink {
	s := &shadowSink{client: cl, drainTimeout: drainTimeout, metrics: met, logger: logger}
	s.ack = s.acknowledged
	return s
}

// shadowProducerOpts are the shadow producer's own options: no group, no
// transactions, a smaller buffer than the primary producer's, since shadow
// results are dropped (and counted) rather than waited for when it is full.
func shadowProducerOpts() []kgo.Opt {
	return []kgo.Opt{
		kgo.MetadataMinAge(time.Second),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchMaxBytes(MaxProduceBytes),
		kgo.MaxBufferedBytes(maxBufferedBytes / 4),
	}
}

func (s *shadowSink) send(res result) {
	s.client.TryProduce(context.Background(), res.out, s.ack)
}

// acknowledged runs on the shadow producer's goroutine for every shadow
// result.
func (s *shadowSink) acknowledged(rec *kgo.Record, err error) {
	if err == nil {
		s.metrics.shadowOut.Inc()
		return
	}
	s.metrics.shadowFailures.WithLabelValues(ShadowProduce).Inc()
	now := time.Now().UnixNano()
	if last := s.lastWarn.Load(); now-last > int64(10*time.Second) && s.lastWarn.CompareAndSwap(last, now) {
		s.logger.Warn("shadow result not produced; the primary stream goes on", "topic", rec.Topic, "err", err)
	}
}

// close waits, up to the drain timeout, for the shadow results in flight
// and closes the producer. It is a no-op on a nil sink (shadow scoring
// off).
func (s *shadowSink) close() {
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.drainTimeout)
	defer cancel()
	if err := s.client.Flush(ctx); err != nil {
		s.logger.Warn("shadow results not acknowledged before the drain timeout", "err", err)
	}
	s.client.Close()
}
