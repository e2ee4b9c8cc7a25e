package stream

// At least once: the committer that commits the offsets of records whose
// results, and those of every record before them, are acknowledged. The
// tracker (tracker.go) finds those records; franz-go commits what is
// marked every CommitInterval (kgo.AutoCommitMarks) and the consumer's
// revoke commits the rest.

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// marks is the at-least-once committer.
type marks struct {
	cfg    Config
	client *kgo.Client
	logger *slog.Logger

	// skipsMu guards skips: the offsets past skipped batches (oversize.go)
	// that are done, for the drain to commit.
	skipsMu sync.Mutex
	skips   map[partition]kgo.EpochOffset
}

func newMarks(cfg Config, cl *kgo.Client, logger *slog.Logger) *marks {
	return &marks{cfg: cfg, client: cl, logger: logger, skips: map[partition]kgo.EpochOffset{}}
}

// handOn hands on one poll, topped up to a batch when MaxWait allows,
// after the held partitions that are due. Batches too large to decompress
// go down their partitions' runs as records of their own, and fetching
// resumes after them.
func (m *marks) handOn(ctx context.Context, c *consumer, fetches kgo.Fetches) error {
	polledAt := time.Now()
	records := fetches.Records()
	skipped := oversizeBatches(fetches, polledAt)
	if len(records) < m.cfg.MaxBatch && m.cfg.MaxWait > 0 && len(records) > 0 && len(skipped) == 0 {
		more := c.topUp(ctx, len(records))
		c.logFetchErrors(more)
		records = append(records, more.Records()...)
		skipped = oversizeBatches(more, polledAt)
	}
	records = append(records, skipped...)
	c.observeLag(fetches)
	err := c.held.retryDue(ctx, polledAt, c.submit)
	if err == nil {
		err = c.handle(ctx, records, polledAt)
	}
	if err == nil && len(skipped) > 0 {
		// Their records stand for the batches now; fetching goes on
		// after them.
		c.client.SetOffsets(resumeAfter(skipped))
	}
	return err
}

// end has nothing to do: marks commit in the background.
func (m *marks) end(*consumer) error { return nil }

// mark marks the offsets of records whose results, and those of every
// record before them, are acknowledged, for the next commit. A skipped
// batch's record (oversize.go) is kept for the drain to commit instead:
// franz-go took the batch's end as committed when the partition was moved
// past it, so its mark is ignored, and until a later record of the
// partition is marked only an explicit commit moves the group past the
// batch. (A crash before it repeats the batch's dead letter, as at least
// once repeats what was done since the last commit.)
func (m *marks) mark(rs ...*kgo.Record) {
	m.client.MarkCommitRecords(rs...)
	m.skipsMu.Lock()
	defer m.skipsMu.Unlock()
	for _, r := range rs {
		p := partitionOf(r)
		if big := oversizeBatchOf(r); big != nil {
			m.skips[p] = kgo.EpochOffset{Epoch: big.Epoch, Offset: big.NextOffset}
		} else if skip, ok := m.skips[p]; ok && r.Offset >= skip.Offset {
			delete(m.skips, p) // a later mark commits past the batch
		}
	}
}

// revoked drains: it waits until every produced result is acknowledged,
// then commits the marked offsets. It runs before partitions are revoked,
// shutdown included.
func (m *marks) revoked(ctx context.Context, c *consumer, cl *kgo.Client) {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.DrainTimeout)
	defer cancel()
	if err := c.proc.idle(ctx); err != nil {
		c.abandonInFlight("batches still scoring at the drain timeout", err)
	} else if err := cl.Flush(ctx); err != nil {
		c.abandonInFlight("results not acknowledged before the drain timeout", err)
	}
	if err := cl.CommitMarkedOffsets(ctx); err != nil {
		m.logger.Error("commit failed; the records since the last commit will be consumed again", "err", err)
	}
	m.commitSkips(ctx, cl)
}

// commitSkips commits the offsets past skipped batches that no later mark
// moved past (mark).
func (m *marks) commitSkips(ctx context.Context, cl *kgo.Client) {
	m.skipsMu.Lock()
	skips := m.skips
	m.skips = map[partition]kgo.EpochOffset{}
	m.skipsMu.Unlock()
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
			m.logger.Error("commit past skipped batches failed; they will be dead-lettered again", "err", err)
		}
	})
}
