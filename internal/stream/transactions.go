package stream

// Exactly once: the committer that gathers polls into Kafka transactions,
// so that results and input offsets commit together or not at all.

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// transactions is the exactly-once committer. Each transaction gathers
// polls for up to CommitInterval (the consumer's handOnTransaction), waits
// until every result is in the producer (settle), and ends with franz-go's
// GroupTransactSession, which flushes, commits the polled offsets within
// the transaction and ends it: the results and the offsets become visible
// together, or not at all. An aborted transaction rewinds every partition
// to its committed offset; its records are consumed again.
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
	client  *kgo.Client // the session's
	proc    scoring
	failed  func() error // the sink's first produce failure
	forget  func()       // the tracker's reset
	counts  *txnCounts   // what the open transaction consumed and produced
	live    liveTally    // where counts go once it commits
	metrics *metrics
	logger  *slog.Logger
}

// newTransactions returns the committer of the session's transactions.
// settle waits on proc and the producer and asks failed; end hands counts
// to live when a transaction commits, and forgets what it handed on.
func newTransactions(cfg Config, session *kgo.GroupTransactSession, proc scoring, failed func() error, forget func(),
	counts *txnCounts, live liveTally, met *metrics, logger *slog.Logger,
) *transactions {
	return &transactions{
		cfg: cfg, session: session, client: session.Client(), proc: proc, failed: failed, forget: forget,
		counts: counts, live: live, metrics: met, logger: logger,
	}
}

func (t *transactions) begin() error {
	if err := t.session.Begin(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	return nil
}

// settle waits until every result of the transaction is produced and
// acknowledged, and reports whether it was. It runs whether the
// transaction is to commit or abort: an abort with results still buffered
// would fail their promises, which reads as a produce failure.
func (t *transactions) settle() bool {
	ctx, cancel := context.WithTimeout(context.Background(), t.cfg.DrainTimeout)
	defer cancel()
	t.proc.flush()
	if err := t.proc.idle(ctx); err != nil {
		t.logger.Error("batches still scoring at the drain timeout; aborting the transaction", "err", err)
		return false
	}
	if err := t.client.Flush(ctx); err != nil {
		t.logger.Error("results not acknowledged before the drain timeout; aborting the transaction", "err", err)
		return false
	}
	return t.failed() == nil
}

// end ends the open transaction: it tries to commit it, the group allowing,
// with the offsets past the batches it skipped, or aborts it. Either way
// what it handed on is done with, and its counts reach the metrics only if
// it committed.
func (t *transactions) end(commit bool, skipped []*kgo.Record) (committed bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), t.cfg.DrainTimeout)
	defer cancel()
	if len(skipped) > 0 {
		ctx = kgo.PreTxnCommitFnContext(ctx, commitSkipped(skipped))
	}
	how := kgo.TryAbort
	if commit {
		how = kgo.TryCommit
	}
	committed, err = t.session.End(ctx, how)
	t.forget() // what the transaction handed on is committed or rewound
	counts := t.counts.take()
	if err != nil {
		return false, fmt.Errorf("end transaction: %w", err)
	}
	if !committed {
		t.metrics.transactions.WithLabelValues("aborted").Inc()
		return false, nil
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
	return true, nil
}

// mark does nothing: offsets commit inside transactions.
func (t *transactions) mark(...*kgo.Record) {}

// revoked has nothing to do: see transactions.
func (t *transactions) revoked(context.Context) {}

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
