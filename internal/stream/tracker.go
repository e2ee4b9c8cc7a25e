package stream

import (
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// tracker turns produce acknowledgements, which arrive in any order across
// output partitions, into commit marks that respect input order: the records
// of a poll are marked only once every record of that poll and of every
// earlier poll has its output or dead letter acknowledged. So a committed
// offset never passes a record whose result is not safely in Kafka.
type tracker struct {
	mark func(...*kgo.Record)

	mu      sync.Mutex
	pending []*pollTicket // oldest first
}

// pollTicket is one poll's records and how many results are unacknowledged.
type pollTicket struct {
	records  []*kgo.Record
	waiting  int
	polledAt time.Time
}

func newTracker(mark func(...*kgo.Record)) *tracker {
	return &tracker{mark: mark}
}

// open registers a poll whose records will each be acknowledged once through
// the returned ticket. A poll of no records needs no ticket.
func (t *tracker) open(records []*kgo.Record) *pollTicket {
	p := &pollTicket{records: records, waiting: len(records), polledAt: time.Now()}
	t.mu.Lock()
	t.pending = append(t.pending, p)
	t.mu.Unlock()
	return p
}

// ack records that one result of the poll is safely in Kafka, and marks
// every leading poll that is now complete.
func (t *tracker) ack(p *pollTicket) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p.waiting--
	t.markComplete()
}

// shrink limits a poll to its first n records, when processing stopped
// before the rest were handed on: they will not be acknowledged, and must
// not be marked.
func (t *tracker) shrink(p *pollTicket, n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p.waiting -= len(p.records) - n
	p.records = p.records[:n]
	t.markComplete()
}

// markComplete marks and forgets the leading complete polls. Marking under
// the lock keeps marks in poll order even when two acknowledgements
// complete two polls at once.
func (t *tracker) markComplete() {
	for len(t.pending) > 0 && t.pending[0].waiting == 0 {
		if len(t.pending[0].records) > 0 {
			t.mark(t.pending[0].records...)
		}
		t.pending[0] = nil
		t.pending = t.pending[1:]
	}
}

// reset forgets every unfinished poll, after partitions are lost or a
// drain timed out: their records will be consumed again.
func (t *tracker) reset() {
	t.mu.Lock()
	t.pending = nil
	t.mu.Unlock()
}
