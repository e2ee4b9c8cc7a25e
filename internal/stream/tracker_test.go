package stream

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// records returns records of one partition at the given offsets.
func records(topic string, part int32, offsets ...int64) []*kgo.Record {
	out := make([]*kgo.Record, len(offsets))
	for i, o := range offsets {
		out[i] = &kgo.Record{Topic: topic, Partition: part, Offset: o}
	}
	return out
}

// markLog collects what a tracker markLog, as "topic/partition@offset".
type markLog []string

func (m *markLog) mark(rs ...*kgo.Record) {
	for _, r := range rs {
		*m = append(*m, fmt.Sprintf("%s/%d@%d", r.Topic, r.Partition, r.Offset))
	}
}

// TestTrackerMarksOnlyCompleteSegmentsInOrder acknowledges results out of
// order and checks that a partition is marked only to the end of its
// leading complete segments, whatever other partitions do.
func TestTrackerMarksOnlyCompleteSegmentsInOrder(t *testing.T) {
	var got markLog
	tr := newTracker(got.mark)
	now := time.Now()
	first := tr.open(records("t", 0, 0, 1), now)
	second := tr.open(records("t", 0, 2), now)
	third := tr.open(records("t", 0, 3, 4), now)
	other := tr.open(records("t", 1, 0), now)

	steps := []struct {
		name   string
		ack    *segment
		marked markLog
	}{
		{"second segment done, first not", second, nil},
		{"half of the first", first, nil},
		{"another partition is not held up by the first", other, markLog{"t/1@0"}},
		{"first done: first and second marked", first, markLog{"t/1@0", "t/0@2"}},
		{"half of the third", third, markLog{"t/1@0", "t/0@2"}},
		{"third done", third, markLog{"t/1@0", "t/0@2", "t/0@4"}},
	}
	for _, s := range steps {
		tr.ack(s.ack)
		if !slices.Equal(got, s.marked) {
			t.Fatalf("after %s: marked %v, want %v", s.name, got, s.marked)
		}
	}
	if n := len(tr.pending); n != 0 {
		t.Fatalf("%d partitions still pending", n)
	}
}

// TestTrackerResetForgetsUnfinishedSegments checks that after partitions
// are lost, late acknowledgements of old segments mark nothing.
func TestTrackerResetForgetsUnfinishedSegments(t *testing.T) {
	var got markLog
	tr := newTracker(got.mark)
	old := tr.open(records("t", 0, 7, 8), time.Now())
	tr.ack(old)
	tr.reset()
	tr.ack(old)
	if len(got) != 0 {
		t.Fatalf("a segment forgotten by reset was marked: %v", got)
	}
	fresh := tr.open(records("t", 0, 9), time.Now())
	tr.ack(fresh)
	if !slices.Equal(got, markLog{"t/0@9"}) {
		t.Fatalf("after reset, marked %v, want [t/0@9]", got)
	}
}

// TestTrackerTruncateMarksOnlyHandedRecords checks a segment cut short:
// only the records handed on are marked, once they are acknowledged, and
// a later segment of the partition is not held up by the rest.
func TestTrackerTruncateMarksOnlyHandedRecords(t *testing.T) {
	var got markLog
	tr := newTracker(got.mark)
	seg := tr.open(records("t", 0, 0, 1, 2, 3), time.Now())
	tr.ack(seg)
	tr.truncate(seg, 2)
	if len(got) != 0 {
		t.Fatalf("marked %v before the second handed record was acknowledged", got)
	}
	tr.ack(seg)
	if !slices.Equal(got, markLog{"t/0@1"}) {
		t.Fatalf("marked %v, want [t/0@1]", got)
	}
	retried := tr.open(records("t", 0, 2, 3), time.Now())
	tr.ack(retried)
	tr.ack(retried)
	if !slices.Equal(got, markLog{"t/0@1", "t/0@3"}) {
		t.Fatalf("marked %v, want [t/0@1 t/0@3]", got)
	}
}

// TestTrackerTruncateToNothing checks that a segment of which nothing was
// handed on markLog nothing and does not hold up the next one.
func TestTrackerTruncateToNothing(t *testing.T) {
	var got markLog
	tr := newTracker(got.mark)
	seg := tr.open(records("t", 0, 5), time.Now())
	next := tr.open(records("t", 0, 6), time.Now())
	tr.truncate(seg, 0)
	tr.ack(next)
	if !slices.Equal(got, markLog{"t/0@6"}) {
		t.Fatalf("marked %v, want [t/0@6]", got)
	}
}
