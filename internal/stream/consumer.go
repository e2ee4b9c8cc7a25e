package stream

// Consuming: the poll loop, handing records to the processor one run of a
// partition at a time, and the group's rebalances (assigned, revoked,
// lost). Held-back partitions are holdback.go's; when what was handed on
// commits is the committer's (marks.go, transactions.go).

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

// committer decides when the results of what the consumer hands on become
// durable, together with their input offsets. marks (marks.go) commits
// the offsets of acknowledged results in the background, at least once;
// transactions (transactions.go) commits results and offsets together,
// exactly once. The consumer's loop calls handOn with rebalances held off
// and end once they are allowed again.
type committer interface {
	// handOn hands on the records of a poll, and of any further polls
	// its commit takes in, through c.handle. An error ends the loop.
	handOn(ctx context.Context, c *consumer, fetches kgo.Fetches) error
	// end finishes what handOn began, after rebalances are allowed.
	end(c *consumer) error
	// mark is the tracker's: the records given, and every one before
	// them in their partitions, have their results in Kafka.
	mark(rs ...*kgo.Record)
	// revoked runs before partitions move to another member: what was
	// handed on for them is finished and committed, or dropped.
	revoked(ctx context.Context, c *consumer, cl *kgo.Client)
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
		err := c.commit.handOn(ctx, c, fetches)
		// Read before AllowRebalance: from then on the group callbacks may
		// release held partitions, until the next poll returns.
		retryAt = c.held.firstRetry()
		c.client.AllowRebalance()
		if endErr := c.commit.end(c); endErr != nil {
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

// abandonInFlight forgets the records still waiting for results: once the
// partitions move, a late acknowledgement must not mark an offset of a
// partition another member owns. Their records will be consumed again.
func (c *consumer) abandonInFlight(why string, err error) {
	c.tracker.reset()
	c.logger.Error(why+"; their records will be consumed again", "err", err)
}

func (c *consumer) onAssigned(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
	<-c.built
	c.assigned.Add(int64(count(assigned)))
	c.metrics.assigned.Set(float64(c.assigned.Load()))
	c.logger.Info("partitions assigned", "partitions", assigned)
}

func (c *consumer) onRevoked(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	<-c.built
	c.held.releaseAll(revoked)
	c.commit.revoked(ctx, c, cl)
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
