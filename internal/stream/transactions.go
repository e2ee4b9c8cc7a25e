package stream

// Exactly once: the committer that gathers polls into Kafka transactions,
// so that results and input offsets commit together or not at all.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// transactions is the exactly-once committer. Each transaction gathers
// polls for up to CommitInterval, waits until every result is in the
// producer, and ends with franz-go's GroupTransactSession, which flushes,
// commits the polled offsets within the transaction and ends it: the
// results and the offsets become visible together, or not at all. An
// aborted transaction rewinds every partition to its committed offset; its
// records are consumed again.
//
// Rebalances are held off while a transaction fills, and let through just
// before it ends: a member kicked out of the group then learns it at once
// (the session's lost callback) and aborts, where waiting for the end would
// stall it. The session aborts a transaction that a rebalance overlapped.
//
// Marks do nothing (the client has no kgo.AutoCommitMarks), and a
// transaction never spans a rebalance, so a revoke finds nothing to drain
// and no offset to commit outside a transaction.
type transactions struct {
	cfg     Config
	session *kgo.GroupTransactSession
	counts  *txnCounts // what the open transaction consumed and produced
	live    liveTally  // where counts go once it commits
	metrics *metrics
	logger  *slog.Logger

	// The open transaction, between handOn and end; only the polling
	// goroutine touches it.
	open    bool
	commit  bool          // whether end is to commit it
	skipped []*kgo.Record // its batches too large to decompress (oversize.go)
}

func newTransactions(cfg Config, session *kgo.GroupTransactSession, live liveTally, met *metrics, logger *slog.Logger) *transactions {
	return &transactions{cfg: cfg, session: session, counts: &txnCounts{}, live: live, metrics: met, logger: logger}
}

// handOn resumes the held partitions that are due (their records come
// again from the broker), and, if the poll brought anything, begins a
// transaction, fills it and waits until its results are acknowledged.
func (t *transactions) handOn(ctx context.Context, c *consumer, fetches kgo.Fetches) error {
	if err := c.held.retryDue(ctx, time.Now(), c.submit); err != nil {
		return err
	}
	if fetches.NumRecords() == 0 && len(oversizeBatches(fetches, time.Time{})) == 0 {
		return nil // nothing to commit: no transaction
	}
	if err := t.session.Begin(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	t.open = true
	skipped, fillErr := t.fill(ctx, c, fetches)
	settled := t.settle(c) // aborting or not: see settle
	t.commit, t.skipped = fillErr == nil && settled, skipped
	if errors.Is(fillErr, errAbort) {
		return nil // end aborts
	}
	return fillErr
}

// fill hands the first poll's records on, then keeps polling until
// CommitInterval has passed since the transaction began. It returns the
// records standing for batches too large to decompress (oversize.go),
// whose partitions resume after them once the transaction commits.
func (t *transactions) fill(ctx context.Context, c *consumer, fetches kgo.Fetches) ([]*kgo.Record, error) {
	deadline := time.Now().Add(t.cfg.commitInterval())
	var skipped []*kgo.Record
	for {
		c.observeLag(fetches)
		polledAt := time.Now()
		batches := oversizeBatches(fetches, polledAt)
		skipped = append(skipped, batches...)
		if err := c.handle(ctx, append(fetches.Records(), batches...), polledAt); err != nil {
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
	}
}

// settle waits until every result of the transaction is produced and
// acknowledged, and reports whether it was. An abort with results still
// buffered would fail their promises, which reads as a produce failure.
func (t *transactions) settle(c *consumer) bool {
	ctx, cancel := context.WithTimeout(context.Background(), t.cfg.DrainTimeout)
	defer cancel()
	c.proc.flush()
	if err := c.proc.idle(ctx); err != nil {
		t.logger.Error("batches still scoring at the drain timeout; aborting the transaction", "err", err)
		return false
	}
	if err := c.client.Flush(ctx); err != nil {
		t.logger.Error("results not acknowledged before the drain timeout; aborting the transaction", "err", err)
		return false
	}
	return c.sink.failed() == nil
}

// end ends the open transaction, if any, committing if handOn settled it
// and the group allows, and moves the partitions past the batches it
// skipped. A failed end is returned: franz-go documents that none is
// retryable.
func (t *transactions) end(c *consumer) error {
	if !t.open {
		return nil
	}
	commit, skipped := t.commit, t.skipped
	t.open, t.commit, t.skipped = false, false, nil
	if err := t.endTransaction(c, commit, skipped); err != nil {
		return err
	}
	if commit && len(skipped) > 0 {
		// Only now: an aborted transaction rewinds the partitions to
		// their commits, and each batch is met again.
		c.client.SetOffsets(resumeAfter(skipped))
	}
	return nil
}

func (t *transactions) endTransaction(c *consumer, commit bool, skipped []*kgo.Record) error {
	ctx, cancel := context.WithTimeout(context.Background(), t.cfg.DrainTimeout)
	defer cancel()
	if len(skipped) > 0 {
		ctx = kgo.PreTxnCommitFnContext(ctx, commitSkipped(skipped))
	}
	how := kgo.TryAbort
	if commit {
		how = kgo.TryCommit
	}
	committed, err := t.session.End(ctx, how)
	c.tracker.reset() // what the transaction handed on is committed or rewound
	counts := t.counts.take()
	if err != nil {
		return fmt.Errorf("end transaction: %w", err)
	}
	if !committed {
		t.metrics.transactions.WithLabelValues("aborted").Inc()
		return nil
	}
	t.metrics.transactions.WithLabelValues("committed").Inc()
	for topic, n := range counts.in {
		t.live.in.add(topic, n)
	}
	for topic, n := range counts.out {
		t.live.out.add(topic, n)
	}
	for reason, n := range counts.deadLettered {
		t.live.deadLettered.WithLabelValues(reason).Add(float64(n))
	}
	return nil
}

// mark does nothing: offsets commit inside transactions.
func (t *transactions) mark(...*kgo.Record) {}

// revoked has nothing to do: see transactions.
func (t *transactions) revoked(context.Context, *consumer, *kgo.Client) {}

// txnCounts are the records the open transaction consumed and the results
// it produced; they reach the metrics only if it commits, so the metrics
// count what read_committed consumers see, and a record consumed again
// after an abort is not counted twice.
type txnCounts struct {
	mu sync.Mutex
	txnCountsSnapshot
}

type txnCountsSnapshot struct {
	in           map[string]int // by input topic
	out          map[string]int // by input topic
	deadLettered map[string]int // by reason
}

// consumed runs on the polling goroutine.
func (c *txnCounts) consumed(topic string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.in == nil {
		c.in = map[string]int{}
	}
	c.in[topic] += n
}

// acknowledged runs on the producer's goroutine.
func (c *txnCounts) acknowledged(res result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if res.reason == "" {
		if c.out == nil {
			c.out = map[string]int{}
		}
		c.out[res.source.Topic]++
		return
	}
	if c.deadLettered == nil {
		c.deadLettered = map[string]int{}
	}
	c.deadLettered[res.reason]++
}

// take returns the counts and starts afresh.
func (c *txnCounts) take() txnCountsSnapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	snap := c.txnCountsSnapshot
	c.txnCountsSnapshot = txnCountsSnapshot{}
	return snap
}
