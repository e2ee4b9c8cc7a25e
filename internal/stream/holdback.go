package stream

// Holding back: a partition whose next record's schema cannot be fetched
// (the registry is unreachable) is paused, and tried again with
// exponential backoff, while the other partitions go on.

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// errAbort ends the handing-on of records when a partition had to be held
// back and its records are fetched again rather than kept: only an abort
// of the open transaction rewinds it to its committed offset.
var errAbort = errors.New("transaction must abort")

// heldPartitions owns the held-back partitions. The polling goroutine
// holds, queues and retries them between a poll and AllowRebalance; the
// group callbacks release them, outside that window. The mutex guards the
// set and each partition's pause with it, so the set and the client's
// paused partitions always agree. That a retry hands records on for a
// partition still owned rests on the window (kgo.BlockRebalanceOnPoll):
// records are handed on outside the lock, and no release can come
// between.
//
// At least once, a held partition keeps its records, in order, and they
// are handed on again when it is retried. Exactly once (refetch) it keeps
// none: holding fails with errAbort, the transaction aborts, which rewinds
// the partition, and once its backoff is over it resumes and its records
// come again from the broker.
type heldPartitions struct {
	cfg     Config
	client  *kgo.Client
	refetch bool
	metrics *metrics
	logger  *slog.Logger
	now     func() time.Time // when a hold begins; tests set their own clock

	mu    sync.Mutex
	parts map[partition]*heldPartition
	// Refetch only: the backoff of the last hold and when it began. The
	// partition was released to find out whether the registry is back, so
	// while it stays down the backoff carries over from one hold to the
	// next.
	backoff  time.Duration
	lastHold time.Time
}

// heldPartition is one paused partition: its records waiting (none when
// refetched) and when it is next tried.
type heldPartition struct {
	records  []*kgo.Record
	polledAt time.Time
	backoff  time.Duration
	retryAt  time.Time
}

func newHeldPartitions(cfg Config, cl *kgo.Client, refetch bool, met *metrics, logger *slog.Logger) *heldPartitions {
	return &heldPartitions{cfg: cfg, client: cl, refetch: refetch, metrics: met, logger: logger, now: time.Now, parts: map[partition]*heldPartition{}}
}

// holds reports whether p is held back.
func (h *heldPartitions) holds(p partition) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.parts[p] != nil
}

// queue puts records fetched before their partition was paused behind
// those it holds; refetching, it fails with errAbort instead.
func (h *heldPartitions) queue(records []*kgo.Record) error {
	if h.refetch {
		return errAbort
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if held := h.parts[partitionOf(records[0])]; held != nil {
		held.records = append(held.records, records...)
	}
	return nil
}

// hold pauses the partition of records, whose first record's schema could
// not be fetched, keeping them to be retried. Refetching, it keeps none
// and fails with errAbort.
func (h *heldPartitions) hold(records []*kgo.Record, polledAt time.Time, cause error) error {
	first := records[0]
	p := partitionOf(first)
	now := h.now()
	held := &heldPartition{
		records:  records,
		polledAt: polledAt,
		backoff:  h.cfg.RegistryBackoff,
		retryAt:  now.Add(h.cfg.RegistryBackoff),
	}
	h.mu.Lock()
	stillDown := false
	if h.refetch {
		held.records = nil
		if stillDown = now.Sub(h.lastHold) < 2*h.backoff+time.Second; stillDown {
			held.backoff = min(2*h.backoff, h.cfg.MaxRegistryBackoff)
			held.retryAt = now.Add(held.backoff)
		}
		h.backoff, h.lastHold = held.backoff, now
	}
	h.parts[p] = held
	h.metrics.heldBack.Set(float64(len(h.parts)))
	h.client.PauseFetchPartitions(map[string][]int32{p.topic: {p.id}})
	h.mu.Unlock()
	log := h.logger.Warn
	if stillDown {
		log = h.logger.Debug
	}
	log("schema registry unreachable; holding the partition back, the others go on",
		"topic", p.topic, "partition", p.id, "offset", first.Offset, "retry_in", held.backoff, "err", cause)
	if h.refetch {
		return errAbort
	}
	return nil
}

// resubmitter hands a partition's held records on again, returning those
// it could not (consumer.submit).
type resubmitter func(ctx context.Context, records []*kgo.Record, polledAt time.Time) (held []*kgo.Record, err error)

// retryDue tries the held partitions that are due again, in order, and
// resumes fetching each one whose records all went through; a partition
// holding no records (refetch) resumes as soon as it is due.
func (h *heldPartitions) retryDue(ctx context.Context, now time.Time, resubmit resubmitter) error {
	for _, p := range h.due(now) {
		h.mu.Lock()
		held := h.parts[p]
		h.mu.Unlock()
		if held == nil {
			continue
		}
		if len(held.records) > 0 {
			records, err := resubmit(ctx, held.records, held.polledAt)
			if len(records) > 0 {
				h.mu.Lock()
				held.records = records
				held.backoff = min(2*held.backoff, h.cfg.MaxRegistryBackoff)
				held.retryAt = now.Add(held.backoff)
				h.mu.Unlock()
				h.logger.Debug("schema registry still unreachable", "topic", p.topic, "partition", p.id, "retry_in", held.backoff, "err", err)
				continue
			}
			if err != nil {
				return err
			}
			h.logger.Info("schema registry reachable again; partition resumed", "topic", p.topic, "partition", p.id)
		}
		h.release(p)
	}
	return nil
}

// due returns the held partitions whose retry is due at now.
func (h *heldPartitions) due(now time.Time) []partition {
	h.mu.Lock()
	defer h.mu.Unlock()
	var due []partition
	for p, held := range h.parts {
		if !now.Before(held.retryAt) {
			due = append(due, p)
		}
	}
	return due
}

// firstRetry returns when the first held partition is due, or the zero
// time if none is held back.
func (h *heldPartitions) firstRetry() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	var first time.Time
	for _, held := range h.parts {
		if first.IsZero() || held.retryAt.Before(first) {
			first = held.retryAt
		}
	}
	return first
}

// releaseAll lets go of the held records of partitions that are leaving:
// they were never handed on, so nothing of them is marked, and the
// partition's next owner consumes them.
func (h *heldPartitions) releaseAll(partitions map[string][]int32) {
	for topic, ps := range partitions {
		for _, id := range ps {
			h.release(partition{topic, id})
		}
	}
}

// release forgets a held partition, if held, and resumes fetching it.
// Pauses outlive rebalances, so a revoked partition is released too, or
// it would stay paused when it comes back.
func (h *heldPartitions) release(p partition) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.parts[p]; ok {
		delete(h.parts, p)
		h.metrics.heldBack.Set(float64(len(h.parts)))
		h.client.ResumeFetchPartitions(map[string][]int32{p.topic: {p.id}})
	}
}
