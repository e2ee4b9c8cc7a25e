package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/serde"
)

// maxBufferedBytes bounds the results waiting for acknowledgement: about
// half a second of output at full speed, many times a produce's round
// trip, and little enough that a burst of large records cannot grow the
// heap far (TestSlowModelUnderBurstStaysBounded). At 64 MiB the buffer was
// most of the live heap while a backlog drained, and the collector's
// target a multiple of it: the scorer's peak RSS on a hostile stream
// (internal/hostile) went from 195 to 171 MB at 16 MiB, its throughput
// unchanged.
const maxBufferedBytes = 16 << 20

// ErrShadowOff is returned by SwapShadow when the Scorer has no shadow
// topic configured.
var ErrShadowOff = errors.New("shadow scoring is off")

// Scorer consumes the input topics as a group member, scores every record
// and produces its output or dead letter. At least once (the default), an
// input offset is committed only after its result is acknowledged by Kafka,
// through the tracker. Exactly once, results and offsets commit together in
// Kafka transactions (transactions.go); the tracker then only reports
// acknowledgements, its marks have no effect without AutoCommitMarks.
//
// The model can be swapped while the Scorer runs (Swap): between batches,
// so no record is dropped, repeated or scored by a model not fully loaded,
// and every output names the version that scored it. With a shadow topic,
// a second model scores the same batches too (SwapShadow); its results go
// to the shadow topics through a producer of their own, best effort, never
// holding up or failing the primary outputs (see shadowStage).
type Scorer struct {
	cfg     Config
	client  *kgo.Client
	shadow  *kgo.Client // the shadow results' producer; nil when shadow scoring is off
	proc    *processor
	tracker *tracker
	metrics *metrics
	logger  *slog.Logger

	in, out topicCounters // per-topic series of metrics.recordsIn and recordsOut

	assigned atomic.Int64
	failure  atomic.Pointer[error] // first produce failure; ends the run
	stop     context.CancelFunc    // wakes the loop when a produce fails

	shadowAck      func(*kgo.Record, error) // the shadow producer's promise, bound once
	shadowLastWarn atomic.Int64             // unix nanos of the last shadow failure logged

	// skipsMu guards skips: at least once, the offsets past skipped
	// batches (oversize.go) that are done, for drain to commit.
	skipsMu sync.Mutex
	skips   map[partition]kgo.EpochOffset

	// heldBack are the partitions whose next record waits for the schema
	// registry, with that record and the ones after it. Only the polling
	// goroutine between a poll and AllowRebalance, and the group callbacks,
	// which kgo runs outside that window, touch it.
	heldBack map[partition]*heldPartition

	// Exactly-once mode only: the transaction session (client is its
	// client), and what the open transaction has consumed and produced,
	// counted into the metrics only when it commits.
	txn      *kgo.GroupTransactSession
	txnCount *txnCounts
	backoff  time.Duration // the registry backoff of the last hold
	lastHold time.Time
}

// heldPartition is a partition paused because the schema of its next
// record could not be fetched: the registry is unreachable. Its records
// wait, in order, and are tried again with exponential backoff, while the
// other partitions go on. In exactly-once mode the records are not kept:
// the transaction aborts, which rewinds the partition, and they are
// fetched again when it resumes.
type heldPartition struct {
	records  []*kgo.Record
	polledAt time.Time
	backoff  time.Duration
	retryAt  time.Time
}

// Deps are what a Scorer is built from. Kafka connection and security
// options go in KafkaOpts; the Scorer adds its own consumer-group ones.
//
// The Scorer takes ownership of Model and ShadowModel when NewScorer
// succeeds, as of every model later passed to Swap and SwapShadow: it
// closes each once it no longer serves, and the serving ones when Run
// returns. If NewScorer fails they remain the caller's.
type Deps struct {
	KafkaOpts []kgo.Opt
	Decoder   Decoder
	Outputs   OutputSchemas
	Model     *model.Model
	// ShadowModel is the first shadow model, optional; it needs
	// Config.ShadowTopic.
	ShadowModel *model.Model
	Registry    prometheus.Registerer
	Logger      *slog.Logger
}

// NewScorer validates the configuration and connects. Run starts consuming.
func NewScorer(cfg Config, deps Deps) (*Scorer, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Decoder == nil || deps.Outputs == nil || deps.Model == nil {
		return nil, fmt.Errorf("%w: a decoder, output schemas and a model are required", ErrBadConfig)
	}
	if deps.ShadowModel != nil && cfg.ShadowTopic == "" {
		return nil, fmt.Errorf("%w: a shadow model needs a shadow topic", ErrBadConfig)
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Scorer{
		cfg:      cfg,
		metrics:  newMetrics(deps.Registry),
		logger:   logger.With("component", "scorer"),
		heldBack: map[partition]*heldPartition{},
		skips:    map[partition]kgo.EpochOffset{},
	}
	s.in = newTopicCounters(s.metrics.recordsIn, cfg.Topics)
	s.out = newTopicCounters(s.metrics.recordsOut, cfg.Topics)
	if cfg.ShadowTopic != "" {
		shadow, err := kgo.NewClient(append(shadowProducerOpts(), deps.KafkaOpts...)...)
		if err != nil {
			return nil, fmt.Errorf("kafka shadow producer: %w", err)
		}
		s.shadow, s.shadowAck = shadow, s.shadowAcknowledged
	}
	s.proc = newProcessor(cfg, deps.Decoder, deps.Outputs, deps.Model, s.metrics, s.logger)
	if s.shadow != nil {
		s.proc.shadow = newShadowStage(cfg, deps.Outputs, s.emitShadow, s.metrics, s.logger)
	}

	opts := []kgo.Opt{
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topics...),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(s.onAssigned),
		kgo.OnPartitionsRevoked(s.onRevoked),
		kgo.OnPartitionsLost(s.onLost),
		// Kafka's own default rather than kgo's 5 s: a fetch that is
		// waiting at the broker is not interrupted when a held-back
		// partition resumes, so this bounds how long that partition's
		// next records wait after the registry comes back.
		kgo.FetchMaxWait(500 * time.Millisecond),
		kgo.FetchMaxPartitionBytes(int32(cfg.FetchMaxPartitionBytes)),
		kgo.MaxDecompressBatchBytes(cfg.MaxDecompressedBatchBytes),
		// After a broker fault (a moved leader or coordinator), franz-go
		// refreshes metadata at most this often; its 5 s default made each
		// fault cost 5-20 s of stalled scoring in TestBrokerFaultsAndRebalancesLoseNothing,
		// 1 s costs 1-4 s.
		kgo.MetadataMinAge(time.Second),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0),
		kgo.ProducerBatchMaxBytes(MaxProduceBytes),
		// Bound what waits for acknowledgement, in bytes as well as
		// records: when the output is slow, Produce blocks, the pipeline
		// fills and polling stops.
		kgo.MaxBufferedBytes(maxBufferedBytes),
		// No kgo.RecordDeliveryTimeout: franz-go measures it from the
		// record's timestamp, and outputs keep their input's, so every
		// result of an input older than the timeout would fail at once
		// (a backlog after an outage would stop the scorer for good).
		// Retriable errors are retried until they pass; shutdown is
		// bounded by the drain timeout instead.
	}
	if cfg.ExactlyOnce {
		opts = append(opts,
			kgo.TransactionalID(cfg.transactionalID()),
			// Offsets are committed only inside transactions.
			kgo.DisableAutoCommit(),
			// Aborted input, from a transactional producer upstream, is
			// not scored.
			kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		)
	} else {
		opts = append(opts,
			kgo.AutoCommitMarks(), // commits only what the tracker marked
			// kgo's 5 s default made a scorer killed within seconds of
			// starting repeat all it had done; 1 s bounds that for one
			// commit request a second.
			kgo.AutoCommitInterval(cfg.commitInterval()),
		)
	}
	// How fast a dead scorer's partitions are scored again: see
	// membershipOpts and docs/reliability.md.
	opts = append(opts, cfg.membershipOpts(s.logger)...)
	opts = append(opts, deps.KafkaOpts...)
	// The tracker exists before the client, whose group callbacks use it
	// from the moment it joins.
	s.tracker = newTracker(s.markDone)
	var err error
	if cfg.ExactlyOnce {
		var txn *kgo.GroupTransactSession
		if txn, err = kgo.NewGroupTransactSession(opts...); err == nil {
			s.txn, s.client, s.txnCount = txn, txn.Client(), &txnCounts{}
		}
	} else {
		s.client, err = kgo.NewClient(opts...)
	}
	if err != nil {
		s.proc.closeBatches()
		if s.shadow != nil {
			s.shadow.Close()
		}
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	if deps.ShadowModel != nil {
		s.proc.shadow.swap(deps.ShadowModel)
	}
	return s, nil
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

// markDone marks the offsets of records whose results, and those of every
// record before them, are acknowledged, for the next commit. A skipped
// batch's record (oversize.go) is kept for drain to commit instead:
// franz-go took the batch's end as committed when the partition was moved
// past it, so its mark is ignored, and until a later record of the
// partition is marked only an explicit commit moves the group past the
// batch. (A crash before it repeats the batch's dead letter, as at least
// once repeats what was done since the last commit.) Exactly once, marks
// do nothing: offsets commit inside transactions.
func (s *Scorer) markDone(rs ...*kgo.Record) {
	s.client.MarkCommitRecords(rs...)
	if s.txn != nil {
		return
	}
	s.skipsMu.Lock()
	defer s.skipsMu.Unlock()
	for _, r := range rs {
		p := partitionOf(r)
		if big := oversizeBatchOf(r); big != nil {
			s.skips[p] = kgo.EpochOffset{Epoch: big.Epoch, Offset: big.NextOffset}
		} else if skip, ok := s.skips[p]; ok && r.Offset >= skip.Offset {
			delete(s.skips, p) // a later mark commits past the batch
		}
	}
}

// commitSkips commits the offsets past skipped batches that no later mark
// moved past (markDone).
func (s *Scorer) commitSkips(ctx context.Context, cl *kgo.Client) {
	s.skipsMu.Lock()
	skips := s.skips
	s.skips = map[partition]kgo.EpochOffset{}
	s.skipsMu.Unlock()
	if len(skips) == 0 {
		return
	}
	offsets := map[string]map[int32]kgo.EpochOffset{}
	for p, o := range skips {
		if offsets[p.topic] == nil {
			offsets[p.topic] = map[int32]kgo.EpochOffset{}
		}
		offsets[p.topic][p.id] = o
	}
	cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			s.logger.Error("commit past skipped batches failed; they will be dead-lettered again", "err", err)
		}
	})
}

// Ready reports whether the scorer owns partitions.
func (s *Scorer) Ready() bool { return s.assigned.Load() > 0 }

// Swap makes m the model of every batch begun after Swap returns; batches
// begun before are scored by the model they began with. It is safe from
// any goroutine and does not wait: Serving, streamscore_model_info and
// streamscore_model_swaps_total show m at once, the decoding stage takes
// it up when it next starts a batch, and the old model is closed once its
// last batch is scored. m must be loaded and validated; the Scorer owns it.
func (s *Scorer) Swap(m *model.Model) { s.proc.swap(m) }

// SwapShadow makes m the shadow model of every batch scored from now on
// (see Swap). Without a shadow topic it closes m and returns ErrShadowOff.
func (s *Scorer) SwapShadow(m *model.Model) error {
	if s.proc.shadow == nil {
		m.Close()
		return ErrShadowOff
	}
	s.proc.shadow.swap(m)
	return nil
}

// Serving returns the spec of the model that scores the batches begun
// from now on: the one given at start or the last one passed to Swap.
func (s *Scorer) Serving() model.Spec { return *s.proc.serving.Load() }

// ShadowServing returns the spec of the shadow model, if one serves.
func (s *Scorer) ShadowServing() (model.Spec, bool) {
	if s.proc.shadow == nil {
		return model.Spec{}, false
	}
	spec := s.proc.shadow.serving.Load()
	if spec == nil {
		return model.Spec{}, false
	}
	return *spec, true
}

// RecentRecords decodes the input records of the last batch scored (none
// before the first): real traffic to try a model on before swapping it
// in. Their bytes and fixed values alias the inputs: read them, never
// modify them.
func (s *Scorer) RecentRecords() []map[string]any { return s.proc.recentRecords() }

// Run consumes until ctx ends or a result cannot be produced, then drains
// in-flight results, commits what is done, leaves the group and closes the
// models. It must be called once.
func (s *Scorer) Run(ctx context.Context) error {
	ctx, s.stop = context.WithCancel(ctx)
	defer s.stop()
	go s.proc.scoreJobs()
	if s.proc.shadow != nil {
		go s.proc.shadow.run()
	}
	loop := s.loop
	if s.txn != nil {
		loop = s.loopTransactional
	}
	err := loop(ctx)
	if shutdownErr := s.shutdown(); err == nil {
		err = shutdownErr
	}
	s.proc.close()
	s.closeShadow()
	return err
}

// emitShadow hands a shadow result to the shadow producer without waiting:
// a full buffer fails it at once, counted, rather than hold up the shadow
// stage.
func (s *Scorer) emitShadow(res result) {
	s.shadow.TryProduce(context.Background(), res.out, s.shadowAck)
}

// shadowAcknowledged runs on the shadow producer's goroutine for every
// shadow result. A failure is counted and logged at most every 10 s: the
// primary stream goes on regardless.
func (s *Scorer) shadowAcknowledged(rec *kgo.Record, err error) {
	if err == nil {
		s.metrics.shadowOut.Inc()
		return
	}
	s.metrics.shadowFailures.WithLabelValues(ShadowProduce).Inc()
	now := time.Now().UnixNano()
	if last := s.shadowLastWarn.Load(); now-last > int64(10*time.Second) && s.shadowLastWarn.CompareAndSwap(last, now) {
		s.logger.Warn("shadow result not produced; the primary stream goes on", "topic", rec.Topic, "err", err)
	}
}

// closeShadow waits, up to the drain timeout, for the shadow results in
// flight and closes the shadow producer.
func (s *Scorer) closeShadow() {
	if s.shadow == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainTimeout)
	defer cancel()
	if err := s.shadow.Flush(ctx); err != nil {
		s.logger.Warn("shadow results not acknowledged before the drain timeout", "err", err)
	}
	s.shadow.Close()
}

func (s *Scorer) loop(ctx context.Context) error {
	pollSize := 4 * s.cfg.MaxBatch
	var retryAt time.Time // the first held-back partition's retry, if any
	for {
		if err := s.failed(); err != nil {
			return err
		}
		fetches := s.poll(ctx, pollSize, retryAt)
		if ctx.Err() != nil {
			s.client.AllowRebalance()
			return s.failed()
		}
		s.logFetchErrors(fetches)
		polledAt := time.Now()
		records := fetches.Records()
		skipped := oversizeBatches(fetches, polledAt)
		if len(records) < s.cfg.MaxBatch && s.cfg.MaxWait > 0 && len(records) > 0 && len(skipped) == 0 {
			more := s.topUp(ctx, len(records))
			s.logFetchErrors(more)
			records = append(records, more.Records()...)
			skipped = oversizeBatches(more, polledAt)
		}
		records = append(records, skipped...)
		s.observeLag(fetches)
		err := s.retryHeld(ctx, polledAt)
		if err == nil {
			err = s.handle(ctx, records, polledAt)
		}
		if err == nil && len(skipped) > 0 {
			// Their records stand for the batches now; fetching goes on
			// after them.
			s.client.SetOffsets(resumeAfter(skipped))
		}
		// Read before AllowRebalance: from then on the group callbacks may
		// change heldBack, until the next poll returns.
		retryAt = s.firstRetry()
		s.client.AllowRebalance()
		if err != nil {
			if ctx.Err() != nil {
				return s.failed()
			}
			return err
		}
	}
}

// poll waits for records; when partitions are held back, no longer than
// until retryAt, when the first of them is due to be retried.
func (s *Scorer) poll(ctx context.Context, n int, retryAt time.Time) kgo.Fetches {
	if !retryAt.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, retryAt)
		defer cancel()
	}
	return s.client.PollRecords(ctx, n)
}

// firstRetry returns when the first held-back partition is due, or the zero
// time if none is held back.
func (s *Scorer) firstRetry() time.Time {
	var first time.Time
	for _, h := range s.heldBack {
		if first.IsZero() || h.retryAt.Before(first) {
			first = h.retryAt
		}
	}
	return first
}

func (s *Scorer) logFetchErrors(fetches kgo.Fetches) {
	fetches.EachError(func(topic string, partition int32, err error) {
		var big *kgo.ErrDecompressTooLarge
		if errors.As(err, &big) {
			s.logger.Warn("a record batch would decompress past the limit; it is skipped and dead-lettered",
				"topic", topic, "partition", partition, "first_offset", big.Offset, "last_offset", big.NextOffset-1,
				"limit", s.cfg.MaxDecompressedBatchBytes)
			return
		}
		if !errors.Is(err, context.DeadlineExceeded) { // a poll cut short on purpose
			s.logger.Warn("fetch error", "topic", topic, "partition", partition, "err", err)
		}
	})
}

// topUp waits up to MaxWait for more records, beyond the have already
// polled, so that a trickle is scored in batches rather than one ONNX
// Runtime call per record.
func (s *Scorer) topUp(ctx context.Context, have int) kgo.Fetches {
	waitCtx, cancel := context.WithTimeout(ctx, s.cfg.MaxWait)
	defer cancel()
	return s.client.PollRecords(waitCtx, s.cfg.MaxBatch-have)
}

// handle scores one poll and hands every result to the producer, one run
// of consecutive records of a partition at a time. It fails only when ctx
// ends.
func (s *Scorer) handle(ctx context.Context, records []*kgo.Record, polledAt time.Time) error {
	defer s.proc.flush()
	for i := 0; i < len(records); {
		j := i + 1
		for j < len(records) && partitionOf(records[j]) == partitionOf(records[i]) {
			j++
		}
		run := records[i:j]
		i = j
		if s.txnCount != nil {
			s.txnCount.consumed(run[0].Topic, len(run)) // counted if it commits
		} else {
			s.in.add(run[0].Topic, len(run))
		}
		if h := s.heldBack[partitionOf(run[0])]; h != nil {
			// Fetched before the partition was paused: wait behind it.
			if s.txn != nil {
				return errAbort // the abort rewinds the partition to its commit
			}
			h.records = append(h.records, run...)
			continue
		}
		held, err := s.submit(ctx, run, polledAt)
		if len(held) > 0 {
			s.holdBack(held, polledAt, err)
			if s.txn != nil {
				return errAbort
			}
		} else if err != nil {
			return err
		}
	}
	return nil
}

// submit hands a run of consecutive records of one partition to the
// processor. When the registry cannot be reached for one of them, it
// returns that record and the rest of the run, not handed on, with the
// registry's error; when ctx ends, no records and ctx's error. Otherwise
// it returns neither: everything was handed on.
func (s *Scorer) submit(ctx context.Context, run []*kgo.Record, polledAt time.Time) (held []*kgo.Record, err error) {
	seg := s.tracker.open(run, polledAt)
	emit := func(res result) {
		s.client.Produce(context.Background(), res.out, func(_ *kgo.Record, err error) {
			s.acknowledged(seg, res, err)
		})
	}
	for i, rec := range run {
		err := s.proc.add(ctx, rec, emit)
		if err == nil {
			continue
		}
		s.tracker.truncate(seg, i)
		if errors.Is(err, serde.ErrRegistryUnavailable) {
			s.metrics.registryRetries.Inc()
			// Copied: the run shares its array with the rest of the poll.
			return slices.Clone(run[i:]), err
		}
		return nil, err
	}
	return held, nil
}

// holdBack pauses a partition whose next record's schema cannot be
// fetched, keeping that record and the ones after it, to be retried.
func (s *Scorer) holdBack(records []*kgo.Record, polledAt time.Time, cause error) {
	first := records[0]
	p := partitionOf(first)
	h := &heldPartition{
		records:  records,
		polledAt: polledAt,
		backoff:  s.cfg.RegistryBackoff,
		retryAt:  time.Now().Add(s.cfg.RegistryBackoff),
	}
	stillDown := false
	if s.txn != nil {
		// The records are fetched again after the abort; the backoff
		// carries over from the last hold while the registry stays down,
		// since the partition was released to find out.
		h.records = nil
		if stillDown = time.Since(s.lastHold) < 2*s.backoff+time.Second; stillDown {
			h.backoff = min(2*s.backoff, s.cfg.MaxRegistryBackoff)
			h.retryAt = time.Now().Add(h.backoff)
		}
		s.backoff, s.lastHold = h.backoff, time.Now()
	}
	s.heldBack[p] = h
	s.client.PauseFetchPartitions(map[string][]int32{p.topic: {p.id}})
	s.metrics.heldBack.Set(float64(len(s.heldBack)))
	log := s.logger.Warn
	if stillDown {
		log = s.logger.Debug
	}
	log("schema registry unreachable; holding the partition back, the others go on",
		"topic", p.topic, "partition", p.id, "offset", first.Offset, "retry_in", h.backoff, "err", cause)
}

// retryHeld tries the held-back partitions that are due again, in order,
// and resumes fetching each one whose records all went through.
func (s *Scorer) retryHeld(ctx context.Context, now time.Time) error {
	for p, h := range s.heldBack {
		if now.Before(h.retryAt) {
			continue
		}
		held, err := s.submit(ctx, h.records, h.polledAt)
		if len(held) > 0 {
			h.records = held
			h.backoff = min(2*h.backoff, s.cfg.MaxRegistryBackoff)
			h.retryAt = now.Add(h.backoff)
			s.logger.Debug("schema registry still unreachable", "topic", p.topic, "partition", p.id, "retry_in", h.backoff, "err", err)
			continue
		}
		if err != nil {
			return err
		}
		s.release(p)
		s.logger.Info("schema registry reachable again; partition resumed", "topic", p.topic, "partition", p.id)
	}
	return nil
}

// release forgets a held-back partition and resumes fetching it. Pauses
// outlive rebalances, so a revoked partition is released too, or it would
// stay paused when it comes back.
func (s *Scorer) release(p partition) {
	delete(s.heldBack, p)
	s.client.ResumeFetchPartitions(map[string][]int32{p.topic: {p.id}})
	s.metrics.heldBack.Set(float64(len(s.heldBack)))
}

// acknowledged runs on the producer's goroutine for every result.
func (s *Scorer) acknowledged(seg *segment, res result, err error) {
	if errors.Is(err, kerr.MessageTooLarge) && res.out.Value != nil {
		// The topic takes smaller records than the producer sends (its
		// max.message.bytes is lower): dead-letter the source without its
		// value, which always fits. TryProduce, because this runs on the
		// producer's own goroutine, where waiting for buffer space could
		// wait for itself.
		dl := deadLetter(s.cfg.DeadLetterTopic, res.source, fmt.Errorf("%s: %w", res.out.Topic, err))
		dl.out.Value = nil
		dl.out.Headers = append(dl.out.Headers, kgo.RecordHeader{Key: deadletter.HeaderValueDropped, Value: []byte(strconv.Itoa(len(res.source.Value)))})
		s.client.TryProduce(context.Background(), dl.out, func(_ *kgo.Record, err error) { s.acknowledged(seg, dl, err) })
		return
	}
	if err != nil {
		// Nothing of this poll, nor of any later one, will be marked: the
		// records are consumed again after a restart. Stopping beats
		// silently skipping a record whose result is not in Kafka.
		err = fmt.Errorf("produce to %s for %s/%d@%d: %w", res.out.Topic, res.source.Topic, res.source.Partition, res.source.Offset, err)
		if s.failure.CompareAndSwap(nil, &err) {
			s.stop()
		}
		return
	}
	switch {
	case s.txnCount != nil:
		s.txnCount.add(res) // counted if the transaction commits
	case res.reason == "":
		s.out.add(res.source.Topic, 1)
	default:
		s.metrics.deadLettered.WithLabelValues(res.reason).Inc()
	}
	now := time.Now()
	s.metrics.endToEnd.Observe(now.Sub(res.source.Timestamp).Seconds())
	s.metrics.processing.Observe(now.Sub(seg.polledAt).Seconds())
	s.tracker.ack(seg)
}

func (s *Scorer) failed() error {
	if p := s.failure.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *Scorer) observeLag(fetches kgo.Fetches) {
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) == 0 {
			return
		}
		last := p.Records[len(p.Records)-1].Offset
		s.metrics.lag.WithLabelValues(p.Topic, strconv.Itoa(int(p.Partition))).Set(float64(p.HighWatermark - last - 1))
	})
}

// drain waits until every produced result is acknowledged, then commits the
// marked offsets. It runs at shutdown and before partitions are revoked.
func (s *Scorer) drain(ctx context.Context, cl *kgo.Client) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.DrainTimeout)
	defer cancel()
	if err := s.proc.idle(ctx); err != nil {
		s.abandonInFlight("batches still scoring at the drain timeout", err)
	} else if err := cl.Flush(ctx); err != nil {
		s.abandonInFlight("results not acknowledged before the drain timeout", err)
	}
	if err := cl.CommitMarkedOffsets(ctx); err != nil {
		s.logger.Error("commit failed; the records since the last commit will be consumed again", "err", err)
	}
	s.commitSkips(ctx, cl)
}

// abandonInFlight forgets the records still waiting for results: once the
// partitions move, a late acknowledgement must not mark an offset of a
// partition another member owns. Their records will be consumed again.
func (s *Scorer) abandonInFlight(why string, err error) {
	s.tracker.reset()
	s.logger.Error(why+"; their records will be consumed again", "err", err)
}

// shutdown leaves the group. Leaving revokes every partition, and
// onRevoked drains and commits: one drain, bounded by DrainTimeout.
func (s *Scorer) shutdown() error {
	s.leaveGroup() // a static member's explicit leave; see leaveGroup
	if s.txn != nil {
		s.txn.Close()
	} else {
		s.client.Close()
	}
	return s.failed()
}

func (s *Scorer) onAssigned(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
	s.assigned.Add(int64(count(assigned)))
	s.metrics.assigned.Set(float64(s.assigned.Load()))
	s.logger.Info("partitions assigned", "partitions", assigned)
}

func (s *Scorer) onRevoked(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	s.releaseHeld(revoked)
	// A transaction never spans a rebalance (it ends before the loop
	// allows one), so in exactly-once mode there is nothing to drain and
	// no offset to commit outside a transaction.
	if s.txn == nil {
		s.drain(ctx, cl)
	}
	s.forget(revoked)
	s.logger.Info("partitions revoked", "partitions", revoked)
}

// onLost runs when the group kicked this member out: another member may
// already own the partitions, so nothing is committed and unfinished polls
// are forgotten; their records will be scored again by the new owner.
func (s *Scorer) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	s.releaseHeld(lost)
	s.tracker.reset()
	s.forget(lost)
	s.logger.Warn("partitions lost", "partitions", lost)
}

// releaseHeld lets go of the held-back records of partitions that are
// leaving: they were never handed on, so nothing of them is marked, and
// the partition's next owner consumes them.
func (s *Scorer) releaseHeld(partitions map[string][]int32) {
	for topic, ps := range partitions {
		for _, id := range ps {
			if p := (partition{topic, id}); s.heldBack[p] != nil {
				s.release(p)
			}
		}
	}
}

func (s *Scorer) forget(partitions map[string][]int32) {
	s.assigned.Add(-int64(count(partitions)))
	s.metrics.assigned.Set(float64(s.assigned.Load()))
	for topic, ps := range partitions {
		for _, p := range ps {
			s.metrics.lag.DeleteLabelValues(topic, strconv.Itoa(int(p)))
		}
	}
}

func count(m map[string][]int32) int {
	n := 0
	for _, ps := range m {
		n += len(ps)
	}
	return n
}
