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
// results and the offsets become visible together, or not at all.
//
// Rebalances are held off from the first poll until the transaction ends,
// so a transaction never spans one. An aborted transaction rewinds every
// partition to its committed offset; its records are consumed again.
func (s *Scorer) loopTransactional(ctx context.Context) error {
	pollSize := 4 * s.cfg.MaxBatch
	for {
		if err := s.failed(); err != nil {
			return err
		}
		fetches := s.poll(ctx, pollSize)
		if ctx.Err() != nil {
			s.client.AllowRebalance()
			return s.failed()
		}
		s.logFetchErrors(fetches)
		s.releaseDue(time.Now())
		if fetches.Empty() {
			s.client.AllowRebalance() // nothing to commit: no transaction
			continue
		}
		if err := s.txn.Begin(); err != nil {
			s.client.AllowRebalance()
			return fmt.Errorf("begin transaction: %w", err)
		}
		fillErr := s.fillTransaction(ctx, fetches)
		endErr := s.endTransaction(fillErr == nil && !s.abortTxn)
		s.client.AllowRebalance()
		switch {
		case endErr != nil:
			return endErr
		case ctx.Err() != nil:
			return s.failed()
		case fillErr != nil && !errors.Is(fillErr, errAbort):
			return fillErr
		}
	}
}

// fillTransaction hands the first poll's records on, then keeps polling
// until CommitInterval has passed since the transaction began.
func (s *Scorer) fillTransaction(ctx context.Context, fetches kgo.Fetches) error {
	deadline := time.Now().Add(s.cfg.commitInterval())
	for {
		s.observeLag(fetches)
		if err := s.handle(ctx, fetches.Records(), time.Now()); err != nil {
			return err
		}
		if !time.Now().Before(deadline) {
			return nil
		}
		pollCtx, cancel := context.WithDeadline(ctx, deadline)
		fetches = s.client.PollRecords(pollCtx, 4*s.cfg.MaxBatch)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.logFetchErrors(fetches)
	}
}

// endTransaction waits until every result of the transaction is produced
// and ends it, committing if commit is set and the group allows. A failed
// end is returned: franz-go documents that none is retryable.
func (s *Scorer) endTransaction(commit bool) error {
	defer func() { s.abortTxn = false }()
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainTimeout)
	defer cancel()
	s.proc.flush()
	if err := s.proc.idle(ctx); err != nil {
		commit = false
	}
	// Every result is acknowledged before the transaction ends, aborted
	// or not: an abort with results still buffered would fail their
	// promises, which reads as a produce failure.
	if err := s.client.Flush(ctx); err != nil {
		commit = false
	}
	how := kgo.TryAbort
	if commit && s.failed() == nil {
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

func (s *Scorer) logFetchErrors(fetches kgo.Fetches) {
	fetches.EachError(func(topic string, partition int32, err error) {
		if !errors.Is(err, context.DeadlineExceeded) { // a poll cut short on purpose
			s.logger.Warn("fetch error", "topic", topic, "partition", partition, "err", err)
		}
	})
}

// txnCounts are the results of the open transaction, per output kind;
// they reach the metrics only if it commits, so the metrics count what
// read_committed consumers see.
type txnCounts struct {
	mu sync.Mutex
	txnCountsSnapshot
}

type txnCountsSnapshot struct {
	out          map[string]int // by input topic
	deadLettered map[string]int // by reason
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
