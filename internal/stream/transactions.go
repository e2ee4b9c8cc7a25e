package stream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// errAbort ends the filling of a transaction that must abort: a partition
// had to be held back, and only an abort rewinds it to its committed
// offset.
var errAbort = errors.New("transaction must abort")

// loopTransactional is the exactly-once loop. Each transaction gathers
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
func (s *Scorer) loopTransactional(ctx context.Context) error {
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
		s.releaseDue(time.Now())
		if fetches.NumRecords() == 0 && len(oversizeBatches(fetches, time.Time{})) == 0 {
			retryAt = s.firstRetry()
			s.client.AllowRebalance() // nothing to commit: no transaction
			continue
		}
		if err := s.txn.Begin(); err != nil {
			s.client.AllowRebalance()
			return fmt.Errorf("begin transaction: %w", err)
		}
		skipped, fillErr := s.fillTransaction(ctx, fetches)
		settled := s.settle() // aborting or not: see settle
		commit := fillErr == nil && settled
		retryAt = s.firstRetry()
		s.client.AllowRebalance()
		if err := s.endTransaction(commit, skipped); err != nil {
			return err
		}
		if commit && len(skipped) > 0 {
			// Only now: an aborted transaction rewinds the partitions to
			// their commits, and each batch is met again.
			s.client.SetOffsets(resumeAfter(skipped))
		}
		switch {
		case ctx.Err() != nil:
			return s.failed()
		case fillErr != nil && !errors.Is(fillErr, errAbort):
			return fillErr
		}
	}
}

// fillTransaction hands the first poll's records on, then keeps polling
// until CommitInterval has passed since the transaction began. It returns
// the records standing for batches too large to decompress (oversize.go),
// whose partitions resume after them once the transaction commits.
func (s *Scorer) fillTransaction(ctx context.Context, fetches kgo.Fetches) ([]*kgo.Record, error) {
	deadline := time.Now().Add(s.cfg.commitInterval())
	var skipped []*kgo.Record
	for {
		s.observeLag(fetches)
		polledAt := time.Now()
		batches := oversizeBatches(fetches, polledAt)
		skipped = append(skipped, batches...)
		if err := s.handle(ctx, append(fetches.Records(), batches...), polledAt); err != nil {
			return skipped, err
		}
		if !time.Now().Before(deadline) {
			return skipped, nil
		}
		pollCtx, cancel := context.WithDeadline(ctx, deadline)
		fetches = s.client.PollRecords(pollCtx, 4*s.cfg.MaxBatch)
		cancel()
		if ctx.Err() != nil {
			return skipped, ctx.Err()
		}
		s.logFetchErrors(fetches)
	}
}

// settle waits until every result of the transaction is produced and
// acknowledged, and reports whether it was. An abort with results still
// buffered would fail their promises, which reads as a produce failure.
func (s *Scorer) settle() bool {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainTimeout)
	defer cancel()
	s.proc.flush()
	if err := s.proc.idle(ctx); err != nil {
		s.logger.Error("batches still scoring at the drain timeout; aborting the transaction", "err", err)
		return false
	}
	if err := s.client.Flush(ctx); err != nil {
		s.logger.Error("results not acknowledged before the drain timeout; aborting the transaction", "err", err)
		return false
	}
	return s.failed() == nil
}

// endTransaction ends the open transaction, committing if commit is set
// and the group allows. A failed end is returned: franz-go documents that
// none is retryable.
func (s *Scorer) endTransaction(commit bool, skipped []*kgo.Record) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainTimeout)
	defer cancel()
	if len(skipped) > 0 {
		ctx = kgo.PreTxnCommitFnContext(ctx, commitSkipped(skipped))
	}
	how := kgo.TryAbort
	if commit {
		how = kgo.TryCommit
	}
	committed, err := s.txn.End(ctx, how)
	s.tracker.reset()
	counts := s.txnCount.take()
	if err != nil {
		return fmt.Errorf("end transaction: %w", err)
	}
	if !committed {
		s.metrics.transactions.WithLabelValues("aborted").Inc()
		return nil
	}
	s.metrics.transactions.WithLabelValues("committed").Inc()
	for topic, n := range counts.in {
		s.in.add(topic, n)
	}
	for topic, n := range counts.out {
		s.out.add(topic, n)
	}
	for reason, n := range counts.deadLettered {
		s.metrics.deadLettered.WithLabelValues(reason).Add(float64(n))
	}
	return nil
}

// releaseDue resumes held-back partitions whose backoff is over; in
// exactly-once mode their records come again from the broker.
func (s *Scorer) releaseDue(now time.Time) {
	for p, h := range s.heldBack {
		if !now.Before(h.retryAt) {
			s.release(p)
		}
	}
}

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

// add runs on the producer's goroutine.
func (c *txnCounts) add(res result) {
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
