package stream

import (
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// tracker turns produce acknowledgements, which arrive in any order across
// output partitions, into commit marks that respect input order: a
// partition's offset is marked only up to the end of its oldest run of
// records whose results are all acknowledged. So a committed offset never
// passes a record whose result is not safely in Kafka.
//
// Partitions are tracked apart, so one partition held back (its schema
// cannot be fetched while the registry is down) does not hold back the
// commits, or the memory, of the others.
type tracker struct {
	mark func(...*kgo.Record)

	mu      sync.Mutex
	pending map[partition][]*segment // per partition, oldest first
}

// segment is a run of consecutive records of one partition, handed on
// together, and how many of their results are unacknowledged.
type segment struct {
	part     partition
	records  []*kgo.Record
	waiting  int
	polledAt time.Time
}

// partition identifies a topic partition.
type partition struct {
	topic string
	id    int32
}

func partitionOf(r *kgo.Record) partition { return partition{r.Topic, r.Partition} }

func newTracker(mark func(...*kgo.Record)) *tracker {
	return &tracker{mark: mark, pending: map[partition][]*segment{}}
}

// open registers a run of consecutive records of one partition, each of
// which will be acknowledged once through the returned segment.
func (t *tracker) open(records []*kgo.Record, polledAt time.Time) *segment {
	s := &segment{part: partitionOf(records[0]), records: records, waiting: len(records), polledAt: polledAt}
	t.mu.Lock()
	t.pending[s.part] = append(t.pending[s.part], s)
	t.mu.Unlock()
	return s
}

// ack records that one result of the segment is safely in Kafka.
func (t *tracker) ack(s *segment) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s.waiting--
	if s.waiting == 0 {
		t.markComplete(s.part)
	}
}

// truncate keeps only the first n records of a segment, when the rest
// were not handed on (shutdown, or the registry went away): they will not
// be acknowledged, and must not be marked.
func (t *tracker) truncate(s *segment, n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s.waiting -= len(s.records) - n
	s.records = s.records[:n]
	t.markComplete(s.part)
}

// markComplete forgets a partition's leading complete segments and marks
// the last record among them, which commits all of them.
func (t *tracker) markComplete(p partition) {
	queue := t.pending[p]
	var last *kgo.Record
	for len(queue) > 0 && queue[0].waiting == 0 {
		if n := len(queue[0].records); n > 0 {
			last = queue[0].records[n-1]
		}
		queue[0] = nil
		queue = queue[1:]
	}
	if last != nil {
		t.mark(last)
	}
	if len(queue) == 0 {
		delete(t.pending, p)
	} else {
		t.pending[p] = queue
	}
}

// reset forgets every unfinished segment, after partitions are lost or a
// drain timed out: their records will be consumed again, and a late
// acknowledgement must not mark an offset of a partition that moved.
func (t *tracker) reset() {
	t.mu.Lock()
	clear(t.pending)
	t.mu.Unlock()
}
