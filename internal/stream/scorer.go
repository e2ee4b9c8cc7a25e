package stream

// The Scorer: what the rest of streamscore sees. It builds the pieces,
// each owning one concern, in the order they depend on each other, and
// runs them:
//
//   - consumer.go: polling, held-back partitions (holdback.go), rebalances;
//   - processor.go: records to results, through model batches;
//   - sink.go: producing results, acknowledgements, the too-large fallback;
//   - marks.go or transactions.go: the committer, at least once or exactly
//     once;
//   - shadow.go: the shadow model and its own producer.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/model"
)

// ErrShadowOff is returned by SwapShadow when the Scorer has no shadow
// topic configured.
var ErrShadowOff = errors.New("shadow scoring is off")

// Scorer consumes the input topics as a group member, scores every record
// and produces its output or dead letter. At least once (the default), an
// input offset is committed only after its result is acknowledged by Kafka,
// through the tracker (marks.go). Exactly once, results and offsets commit
// together in Kafka transactions (transactions.go).
//
// The model can be swapped while the Scorer runs (Swap): between batches,
// so no record is dropped, repeated or scored by a model not fully loaded,
// and every output names the version that scored it. With a shadow topic,
// a second model scores the same batches too (SwapShadow); its results go
// to the shadow topics through a producer of their own, best effort, never
// holding up or failing the primary outputs (see shadowStage).
type Scorer struct {
	cfg      Config
	client   *kgo.Client
	consumer *consumer
	proc     *processor
	sink     *sink
	shadow   *shadowSink // nil when shadow scoring is off
	logger   *slog.Logger
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
	// Monitoring, when set, profiles every scored row (champion and
	// shadow) in windows and writes each closed window.
	Monitoring *Monitoring
}

// NewScorer validates the configuration and connects. Run starts consuming.
//
// The client joins the group as soon as it is made, and its group
// callbacks use the consumer from then on; but the consumer's parts (the
// sink, the processor) are made with the client. So the callbacks wait
// for the consumer to be complete (consumer.built) before doing anything.
// Nothing between making the client and assemble can fail; a step that
// could would have to close built and the client on its way out, or the
// client's group goroutine would wait for ever.
func NewScorer(cfg Config, deps Deps) (*Scorer, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Decoder == nil || deps.Outputs == nil || deps.Model == nil {
		return nil, fmt.Errorf("%w: a decoder, output schemas and a model are required", ErrBadConfig)
	}
	if deps.Monitoring != nil && deps.Monitoring.Writer == nil {
		return nil, fmt.Errorf("%w: monitoring needs a window writer", ErrBadConfig)
	}
	if deps.ShadowModel != nil && cfg.ShadowTopic == "" {
		return nil, fmt.Errorf("%w: a shadow model needs a shadow topic", ErrBadConfig)
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "scorer")
	met, err := newMetrics(deps.Registry)
	if err != nil {
		return nil, err
	}
	s := &Scorer{cfg: cfg, logger: logger}
	c := newConsumer(cfg, met, logger)

	if cfg.ShadowTopic != "" {
		shadow, err := kgo.NewClient(append(shadowProducerOpts(), deps.KafkaOpts...)...)
		if err != nil {
			met.unregister()
			return nil, fmt.Errorf("kafka shadow producer: %w", err)
		}
		s.shadow = newShadowSink(shadow, cfg.DrainTimeout, met, logger)
	}

	opts := append(clientOpts(cfg, c, logger), deps.KafkaOpts...)
	var session *kgo.GroupTransactSession
	if cfg.ExactlyOnce {
		if session, err = kgo.NewGroupTransactSession(opts...); err == nil {
			s.client = session.Client()
		}
	} else {
		s.client, err = kgo.NewClient(opts...)
	}
	if err != nil {
		s.shadow.close()
		met.unregister()
		return nil, fmt.Errorf("kafka client: %w", err)
	}

	// The committer is made last, as it waits on the processor, which
	// sends to the sink, which acknowledges to the tracker, which marks
	// through the committer.
	var commit committer
	inFlight := newTracker(func(rs ...*kgo.Record) { commit.mark(rs...) })
	live := newLiveTally(met, cfg.Topics)
	// Exactly once, what a transaction counts reaches the metrics only
	// once it commits.
	var counts tally = live
	inTxn := &txnCounts{}
	if cfg.ExactlyOnce {
		counts = inTxn
	}
	s.sink = newSink(s.client, cfg.DeadLetterTopic, inFlight, counts, met)
	s.proc = newProcessor(cfg, deps.Decoder, deps.Outputs, deps.Model, s.sink, met, logger)
	if deps.Monitoring != nil {
		s.proc.monitor = newMonitoring(*deps.Monitoring)
	}
	if s.shadow != nil {
		s.proc.shadow = newShadowStage(cfg, deps.Outputs, s.shadow, met, logger)
		s.proc.shadow.monitor = s.proc.monitor
		if deps.ShadowModel != nil {
			s.proc.shadow.swap(deps.ShadowModel)
		}
	}
	if cfg.ExactlyOnce {
		commit = newTransactions(cfg, session, s.proc, s.sink.failed, inFlight.reset, inTxn, live, met, logger)
	} else {
		commit = newMarks(cfg, s.client, s.proc, inFlight.reset, logger)
	}
	c.assemble(s.client, s.proc, s.sink, inFlight, commit, counts)
	s.consumer = c
	return s, nil
}

// clientOpts are the Scorer's own options for its group client.
func clientOpts(cfg Config, c *consumer, logger *slog.Logger) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topics...),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(c.onAssigned),
		kgo.OnPartitionsRevoked(c.onRevoked),
		kgo.OnPartitionsLost(c.onLost),
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
	return append(opts, cfg.membershipOpts(logger)...)
}

// Ready reports whether the scorer owns partitions.
func (s *Scorer) Ready() bool { return s.consumer.assigned.Load() > 0 }

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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // a failed produce wakes the loop
		select {
		case <-s.sink.broken:
			cancel()
		case <-ctx.Done():
		}
	}()
	go s.proc.scoreJobs()
	go s.proc.monitor.run(ctx)
	if s.proc.shadow != nil {
		go s.proc.shadow.run()
	}
	err := s.consumer.run(ctx)
	if shutdownErr := s.shutdown(); err == nil {
		err = shutdownErr
	}
	s.proc.close()
	s.shadow.close()
	return err
}

// shutdown leaves the group. Leaving revokes every partition, and the
// consumer's onRevoked drains and commits: one drain, bounded by
// DrainTimeout.
func (s *Scorer) shutdown() error {
	s.leaveGroup() // a static member's explicit leave; see leaveGroup
	// A GroupTransactSession's Close is its client's.
	s.client.Close()
	return s.sink.failed()
}
