package stream

// At least once: the committer that commits the offsets of records whose
// results, and those of every record before them, are acknowledged. The
// tracker (tracker.go) finds those records; franz-go commits what is
// marked every CommitInterval (kgo.AutoCommitMarks) and revoked commits
// the rest.

import (
	"context"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// marks is the at-least-once committer.
type marks struct {
	cfg    Config
	client *kgo.Client
	proc   scoring
	forget func() // the tracker's reset
	logger *slog.Logger

	// skipsMu guards skips: the offsets past skipped batches (oversize.go)
	// that are done, for the drain to commit.
	skipsMu sync.Mutex
	skips   map[partition]kgo.EpochOffset
}

// newMarks returns the committer of what is marked through cl. A revoke
// drains proc; forget drops what is in flight when the drain times out.
func newMarks(cfg Config, cl *kgo.Client, proc scoring, forget func(), logger *slog.Logger) *marks {
	return &marks{cfg: cfg, client: cl, proc: proc, forget: forget, logger: logger, skips: map[partition]kgo.EpochOffset{}}
}

// begin, settle and end have nothing to do: at least once there is no
// transaction, and marks commit in the background.
func (m *marks) begin() error                          { return nil }
func (m *marks) settle() bool                          { return true }
func (m *marks) end(bool, []*kgo.Record) (bool, error) { return false, nil }

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
func (m *marks) revoked(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.DrainTimeout)
	defer cancel()
	if err := m.proc.idle(ctx); err != nil {
		m.abandon("batches still scoring at the drain timeout", err)
	} else if err := m.client.Flush(ctx); err != nil {
		m.abandon("results not acknowledged before the drain timeout", err)
	}
	if err := m.client.CommitMarkedOffsets(ctx); err != nil {
		m.logger.Error("commit failed; the records since the last commit will be consumed again", "err", err)
	}
	m.commitSkips(ctx)
}

// abandon forgets the records still waiting for results: once the
// partitions move, a late acknowledgement must not mark an offset of a
// partition another member owns. Their records will be consumed again.
func (m *marks) abandon(why string, err error) {
	m.forget()
	m.logger.Error(why+"; their records will be consumed again", "err", err)
}

// commitSkips commits the offsets past skipped batches that no later mark
// moved past (mark).
func (m *marks) commitSkips(ctx context.Context) {
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
	m.client.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			m.logger.Error("commit past skipped batches failed; they will be dead-lettered again", "err", err)
		}
	})
}
