package stream

import (
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestTrackerMarksOnlyCompletePollsInOrder acknowledges results out of
// order and checks that a poll is marked only once it and every earlier
// poll are complete.
func TestTrackerMarksOnlyCompletePollsInOrder(t *testing.T) {
	recs := func(offsets ...int64) []*kgo.Record {
		out := make([]*kgo.Record, len(offsets))
		for i, o := range offsets {
			out[i] = &kgo.Record{Offset: o}
		}
		return out
	}
	var marked []int64
	tr := newTracker(func(rs ...*kgo.Record) {
		for _, r := range rs {
			marked = append(marked, r.Offset)
		}
	})
	first := tr.open(recs(0, 1))
	second := tr.open(recs(2))
	third := tr.open(recs(3, 4))

	steps := []struct {
		name   string
		ack    *pollTicket
		marked []int64
	}{
		{"second poll done, first not", second, nil},
		{"half of the first", first, nil},
		{"first done: first and second marked", first, []int64{0, 1, 2}},
		{"half of the third", third, []int64{0, 1, 2}},
		{"third done", third, []int64{0, 1, 2, 3, 4}},
	}
	for _, s := range steps {
		tr.ack(s.ack)
		if !reflect.DeepEqual(marked, s.marked) {
			t.Fatalf("after %s: marked %v, want %v", s.name, marked, s.marked)
		}
	}
	if n := len(tr.pending); n != 0 {
		t.Fatalf("%d polls still in flight", n)
	}
}

// TestTrackerResetForgetsUnfinishedPolls checks that after partitions are
// lost, late acknowledgements of old polls mark nothing.
func TestTrackerResetForgetsUnfinishedPolls(t *testing.T) {
	var marks int
	tr := newTracker(func(rs ...*kgo.Record) { marks += len(rs) })
	old := tr.open([]*kgo.Record{{Offset: 7}})
	tr.reset()
	tr.ack(old)
	if marks != 0 {
		t.Fatalf("a poll forgotten by reset was marked")
	}
	fresh := tr.open([]*kgo.Record{{Offset: 8}})
	tr.ack(fresh)
	if marks != 1 {
		t.Fatalf("a poll after reset was not marked")
	}
}

// TestTrackerShrinkMarksOnlyTheHandedPrefix checks a poll cut short: only
// the records handed on are marked, once they are acknowledged.
func TestTrackerShrinkMarksOnlyTheHandedPrefix(t *testing.T) {
	var marked []int64
	tr := newTracker(func(rs ...*kgo.Record) {
		for _, r := range rs {
			marked = append(marked, r.Offset)
		}
	})
	p := tr.open([]*kgo.Record{{Offset: 0}, {Offset: 1}, {Offset: 2}, {Offset: 3}})
	tr.ack(p)
	tr.shrink(p, 2)
	if len(marked) != 0 {
		t.Fatalf("marked %v before the second handed record was acknowledged", marked)
	}
	tr.ack(p)
	if !reflect.DeepEqual(marked, []int64{0, 1}) {
		t.Fatalf("marked %v, want [0 1]", marked)
	}
}

func TestConfigValidate(t *testing.T) {
	valid := Config{Topics: []string{"in"}, Group: "g", DeadLetterTopic: "dlq"}.WithDefaults()
	cases := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"valid", func(*Config) {}, ""},
		{"no topics", func(c *Config) { c.Topics = nil }, "topics: at least one"},
		{"empty topic", func(c *Config) { c.Topics = []string{""} }, "topics: empty topic name"},
		{"no group", func(c *Config) { c.Group = "" }, "group: a consumer group id"},
		{"no dead-letter topic", func(c *Config) { c.DeadLetterTopic = "" }, "dlq-topic: a dead-letter topic"},
		{"output into input", func(c *Config) { c.OutputTopic = "in" }, "would write back into its own input"},
		{"huge batch", func(c *Config) { c.MaxBatch = 1 << 20 }, "batch-max-rows"},
		{"negative wait", func(c *Config) { c.MaxWait = -1 }, "batch-max-wait"},
		{"tiny records", func(c *Config) { c.MaxRecordBytes = 4 }, "max-record-bytes"},
		{"backoff upside down", func(c *Config) { c.MaxRegistryBackoff = c.RegistryBackoff / 2 }, "the longest backoff at least the first"},
		{"no delivery timeout", func(c *Config) { c.DeliveryTimeout = -1 }, "delivery"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := valid
			c.change(&cfg)
			err := cfg.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, c.want)
			}
		})
	}
}
