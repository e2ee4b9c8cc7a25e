package stream

// Consuming: the poll loop, topping a poll up to a batch (at least once)
// or gathering polls into a transaction (exactly once), handing records to
// the processor one run of a partition at a time, moving fetching past
// skipped batches, and the group's rebalances (assigned, revoked, lost).
// Held-back partitions are holdback.go's; committing what was handed on is
// the committer's (marks.go, transactions.go).

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/serde"
)

// committer makes what the consumer hands on durable, with its input
// offsets. marks (marks.go) commits, at least once, the offsets of
// acknowledged results as they come; transactions (transactions.go)
// commits results and offsets together, exactly once, a transaction at a
// time. Exactly once, the consumer calls begin before handing on, settle
// with rebalances still held off, and end once they are allowed again; at
// least once it calls none of the three, and marks leaves them empty.
type committer interface {
	// begin opens a transaction for what is handed on until end.
	begin() error
	// settle waits until every result handed on since begin is
	// acknowledged, and reports whether it was, with no produce failed.
	settle() bool
	// end ends the transaction: it commits it with its offsets, those
	// past its skipped batches (oversize.go) included, or aborts it, and
	// reports whether it committed. Asked to commit, it may not: the
	// session aborts a transaction a rebalance overlapped.
	end(commit bool, skipped []*kgo.Record) (committed bool, err error)
	// mark is the tracker's: the records given, and every one before
	// them in their partitions, have their results in Kafka.
	mark(rs ...*kgo.Record)
	// revoked runs before partitions move to another member: what was
	// handed on for them is finished and committed, or dropped.
	revoked(ctx context.Context)
}

// scoring is the processor as a committer waits on it.
type scoring interface {
	flush()                         // queues the batch being filled
	idle(ctx context.Context) error // waits until every queued batch is scored
}

// consumer polls the input topics as a group member and hands what it
// polls to the processor. Its loop runs on one goroutine (Run's); the group
// callbacks run on franz-go's, never while a poll's records are being
// handed on (kgo.BlockRebalanceOnPoll).
type consumer struct {
	cfg      Config
	metrics  *metrics
	logger   *slog.Logger
	assigned atomic.Int64

	// built is closed once the fields below are set. The client calls the
	// group callbacks from the moment it is made, before the parts made
	// with it exist: the callbacks wait on built, which also orders their
	// reads after NewScorer's writes.
	built   chan struct{}
	client  *kgo.Client
	proc    *processor
	sink    *sink
	tracker *tracker
	held    *heldPartitions
	commit  committer
	counts  tally
}

func newConsumer(cfg Config, met *metrics, logger *slog.Logger) *consumer {
	return &consumer{cfg: cfg, metrics: met, logger: logger, built: make(chan struct{})}
}

// assemble gives the consumer the parts made with its client, and lets the
// group callbacks run.
func (c *consumer) assemble(cl *kgo.Client, proc *processor, sink *sink, inFlight *tracker, commit committer, counts tally) {
	c.client, c.proc, c.sink, c.tracker, c.commit, c.counts = cl, proc, sink, inFlight, commit, counts
	// Exactly once, a held partition's records are not kept: the abort
	// rewinds it, and they come again from the broker.
	c.held = newHeldPartitions(c.cfg, cl, c.cfg.ExactlyOnce, c.metrics, c.logger)
	close(c.built)
}

// run polls until ctx ends, a result cannot be produced, or the committer
// fails.
func (c *consumer) run(ctx context.Context) error {
	var retryAt time.Time // the first held-back partition's retry, if any
	for {
		if err := c.sink.failed(); err != nil {
			return err
		}
		fetches := c.poll(ctx, retryAt)
		if ctx.Err() != nil {
			c.client.AllowRebalance()
			return c.sink.failed()
		}
		c.logFetchErrors(fetches)
		c.observeLag(fetches)
		t, err := c.handOn(ctx, fetches)
		// Read before AllowRebalance: from then on the group callbacks may
		// release held partitions, until the next poll returns.
		retryAt = c.held.firstRetry()
		c.client.AllowRebalance()
		if endErr := c.end(t); endErr != nil {
			return endErr
		}
		if err != nil {
			if ctx.Err() != nil {
				return c.sink.failed()
			}
			return err
		}
	}
}

// turn is what handOn leaves for end: exactly once, the transaction it
// began, whether to commit it, and the batches it skipped.
type turn struct {
	begun   bool
	commit  bool
	skipped []*kgo.Record
}

// handOn hands on a poll's records, as the delivery mode requires.
func (c *consumer) handOn(ctx context.Context, fetches kgo.Fetches) (turn, error) {
	if c.cfg.ExactlyOnce {
		return c.handOnTransaction(ctx, fetches)
	}
	return turn{}, c.handOnPoll(ctx, fetches)
}

// handOnPoll hands on one poll at least once: topped up to a batch when
// MaxWait allows, after the held partitions that are due. Fetching resumes
// after the batches it skipped at once: the records standing for them
// commit through the tracker like any other.
func (c *consumer) handOnPoll(ctx context.Context, fetches kgo.Fetches) error {
	polledAt := time.Now()
	if n := fetches.NumRecords(); n > 0 && n < c.cfg.MaxBatch && c.cfg.MaxWait > 0 && !hasOversizeBatch(fetches) {
		more := c.topUp(ctx, n)
		c.logFetchErrors(more)
		fetches = slices.Concat(fetches, more)
	}
	if err := c.held.retryDue(ctx, polledAt, c.submit); err != nil {
		return err
	}
	skipped, err := c.handOnFetches(ctx, fetches, polledAt)
	if err == nil && len(skipped) > 0 {
		c.client.SetOffsets(resumeAfter(skipped))
	}
	return err
}

// handOnTransaction resumes the held partitions that are due (exactly
// once their records come again from the broker), and, if the poll
// brought anything, begins a transaction, hands on polls until
// CommitInterval has passed since it began, and settles it. A hand-on
// that must abort (errAbort) is not an error: end aborts.
func (c *consumer) handOnTransaction(ctx context.Context, fetches kgo.Fetches) (turn, error) {
	if err := c.held.retryDue(ctx, time.Now(), c.submit); err != nil {
		return turn{}, err
	}
	if fetches.NumRecords() == 0 && !hasOversizeBatch(fetches) {
		return turn{}, nil // nothing to commit: no transaction
	}
	if err := c.commit.begin(); err != nil {
		return turn{}, err
	}
	skipped, err := c.gather(ctx, fetches, time.Now().Add(c.cfg.commitInterval()))
	settled := c.commit.settle() // aborting or not: see transactions.settle
	t := turn{begun: true, commit: err == nil && settled, skipped: skipped}
	if errors.Is(err, errAbort) {
		return t, nil
	}
	return t, err
}

// gather hands on fetches, then polls and hands on again until deadline.
// It returns the records standing for the batches skipped.
func (c *consumer) gather(ctx context.Context, fetches kgo.Fetches, deadline time.Time) ([]*kgo.Record, error) {
	var skipped []*kgo.Record
	for {
		batches, err := c.handOnFetches(ctx, fetches, time.Now())
		skipped = append(skipped, batches...)
		if err != nil {
			return skipped, err
		}
		if !time.Now().Before(deadline) {
			return skipped, nil
		}
		pollCtx, cancel := context.WithDeadline(ctx, deadline)
		fetches = c.client.PollRecords(pollCtx, c.pollSize())
		cancel()
		if ctx.Err() != nil {
			return skipped, ctx.Err()
		}
		c.logFetchErrors(fetches)
		c.observeLag(fetches)
	}
}

// handOnFetches hands on the records of fetches, then a record standing
// for each batch too large to decompress (oversize.go); it returns those.
func (c *consumer) handOnFetches(ctx context.Context, fetches kgo.Fetches, polledAt time.Time) ([]*kgo.Record, error) {
	skipped := oversizeBatches(fetches, polledAt)
	return skipped, c.handle(ctx, append(fetches.Records(), skipped...), polledAt)
}

// end ends the transaction handOn began, if any, once rebalances are
// allowed. Only once it has committed (asked to, it may not) does fetching
// resume after the batches it skipped: an aborted transaction rewinds the
// partitions to their commits, the batches' dead letters with it, and each
// batch is met again. A failed end is returned: franz-go
// documents that none is retryable.
func (c *consumer) end(t turn) error {
	if !t.begun {
		return nil
	}
	committed, err := c.commit.end(t.commit, t.skipped)
	if err != nil {
		return err
	}
	if committed && len(t.skipped) > 0 {
		c.client.SetOffsets(resumeAfter(t.skipped))
	}
	return nil
}

// pollSize is how many records one poll takes: a few batches' worth.
func (c *consumer) pollSize() int { return 4 * c.cfg.MaxBatch }

// poll waits for records; when partitions are held back, no longer than
// until retryAt, when the first of them is due to be retried.
func (c *consumer) poll(ctx context.Context, retryAt time.Time) kgo.Fetches {
	if !retryAt.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, retryAt)
		defer cancel()
	}
	return c.client.PollRecords(ctx, c.pollSize())
}

// topUp waits up to MaxWait for more records, beyond the have already
// polled, so that a trickle is scored in batches rather than one ONNX
// Runtime call per record.
func (c *consumer) topUp(ctx context.Context, have int) kgo.Fetches {
	waitCtx, cancel := context.WithTimeout(ctx, c.cfg.MaxWait)
	defer cancel()
	return c.client.PollRecords(waitCtx, c.cfg.MaxBatch-have)
}

func (c *consumer) logFetchErrors(fetches kgo.Fetches) {
	fetches.EachError(func(topic string, partition int32, err error) {
		var big *kgo.ErrDecompressTooLarge
		if errors.As(err, &big) {
			c.logger.Warn("a record batch would decompress past the limit; it is skipped and dead-lettered",
				"topic", topic, "partition", partition, "first_offset", big.Offset, "last_offset", big.NextOffset-1,
				"limit", c.cfg.MaxDecompressedBatchBytes)
			return
		}
		if !errors.Is(err, context.DeadlineExceeded) { // a poll cut short on purpose
			c.logger.Warn("fetch error", "topic", topic, "partition", partition, "err", err)
		}
	})
}

func (c *consumer) observeLag(fetches kgo.Fetches) {
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) == 0 {
			return
		}
		last := p.Records[len(p.Records)-1].Offset
		c.metrics.lag.WithLabelValues(p.Topic, strconv.Itoa(int(p.Partition))).Set(float64(p.HighWatermark - last - 1))
	})
}

// handle hands polled records to the processor, one run of consecutive
// records of a partition at a time; a partition whose schema cannot be
// fetched is held back. It fails when ctx ends, or with errAbort when a
// held partition's records are to be fetched again (holdback.go).
func (c *consumer) handle(ctx context.Context, records []*kgo.Record, polledAt time.Time) error {
	defer c.proc.flush()
	for i := 0; i < len(records); {
		j := i + 1
		for j < len(records) && partitionOf(records[j]) == partitionOf(records[i]) {
			j++
		}
		run := records[i:j]
		i = j
		c.counts.consumed(run[0].Topic, len(run))
		if c.held.holds(partitionOf(run[0])) {
			// Fetched before the partition was paused: wait behind it.
			if err := c.held.queue(run); err != nil {
				return err
			}
			continue
		}
		held, err := c.submit(ctx, run, polledAt)
		if len(held) > 0 {
			if err := c.held.hold(held, polledAt, err); err != nil {
				return err
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
func (c *consumer) submit(ctx context.Context, run []*kgo.Record, polledAt time.Time) (held []*kgo.Record, err error) {
	seg := c.tracker.open(run, polledAt)
	for i, rec := range run {
		err := c.proc.add(ctx, rec, seg)
		if err == nil {
			continue
		}
		c.tracker.truncate(seg, i)
		if errors.Is(err, serde.ErrRegistryUnavailable) {
			c.metrics.registryRetries.Inc()
			// Copied: the run shares its array with the rest of the poll.
			return slices.Clone(run[i:]), err
		}
		return nil, err
	}
	return nil, nil
}

func (c *consumer) onAssigned(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
	<-c.built
	c.assigned.Add(int64(count(assigned)))
	c.metrics.assigned.Set(float64(c.assigned.Load()))
	c.logger.Info("partitions assigned", "partitions", assigned)
}

func (c *consumer) onRevoked(ctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
	<-c.built
	c.held.releaseAll(revoked)
	c.commit.revoked(ctx)
	c.forget(revoked)
	c.logger.Info("partitions revoked", "partitions", revoked)
}

// onLost runs when the group kicked this member out: another member may
// already own the partitions, so nothing is committed and unfinished polls
// are forgotten; their records will be scored again by the new owner.
func (c *consumer) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	<-c.built
	c.held.releaseAll(lost)
	c.tracker.reset()
	c.forget(lost)
	c.logger.Warn("partitions lost", "partitions", lost)
}

func (c *consumer) forget(partitions map[string][]int32) {
	c.assigned.Add(-int64(count(partitions)))
	c.metrics.assigned.Set(float64(c.assigned.Load()))
	for topic, ps := range partitions {
		for _, p := range ps {
			c.metrics.lag.DeleteLabelValues(topic, strconv.Itoa(int(p)))
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
