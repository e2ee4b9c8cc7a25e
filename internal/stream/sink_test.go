package stream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/internal/testkit"
)

// marked collects a tracker's marks, which come from the producer's
// goroutines, as "topic/partition@offset".
type marked struct {
	mu  sync.Mutex
	got []string
}

func (m *marked) mark(rs ...*kgo.Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rs {
		m.got = append(m.got, coords(r.Topic, r.Partition, r.Offset))
	}
}

// list returns the marks so far, sorted.
func (m *marked) list() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(slices.Values(m.got))
}

// sinkEnv is a sink producing through a client of a kfake broker, counting
// into metrics of its own (input topic "in") and acknowledging to a
// tracker whose marks it collects.
type sinkEnv struct {
	seeds   kgo.Opt
	client  *kgo.Client
	met     *metrics
	marks   *marked
	tracker *tracker
	sink    *sink
}

func newSinkEnv(t *testing.T, seeds kgo.Opt, opts ...kgo.Opt) *sinkEnv {
	t.Helper()
	e := &sinkEnv{seeds: seeds, client: newClient(t, append([]kgo.Opt{seeds}, opts...)...), met: testMetrics(t), marks: &marked{}}
	e.tracker = newTracker(e.marks.mark)
	e.sink = newSink(e.client, "dlq", e.tracker, newLiveTally(e.met, []string{"in"}), e.met)
	return e
}

// scored is a result of source bound for topic "out".
func scored(source *kgo.Record, seg *segment, value []byte) result {
	return result{out: &kgo.Record{Topic: "out", Key: source.Key, Value: value}, source: source, seg: seg}
}

func (e *sinkEnv) scoredOut(t *testing.T) float64 {
	t.Helper()
	return counterValue(t, e.met.recordsOut.WithLabelValues("in"))
}

func (e *sinkEnv) deadLettered(t *testing.T, reason string) float64 {
	t.Helper()
	return counterValue(t, e.met.deadLettered.WithLabelValues(reason))
}

// noise returns n bytes that do not compress: the producer compresses
// batches, and the broker measures them compressed.
func noise(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{}).Read(b)
	return b
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestSinkAcknowledgedResultsReachTallyAndMarks sends the results of two
// input partitions (three outputs, one dead letter) and checks that, once
// Kafka acknowledges them, the tracker marks each partition's last input
// offset exactly once, the tally counts outputs and dead letters apart,
// and the records are in their topics.
func TestSinkAcknowledgedResultsReachTallyAndMarks(t *testing.T) {
	_, seeds := newKafka(t, kfake.SeedTopics(2, "out", "dlq"))
	e := newSinkEnv(t, seeds)
	now := time.Now()
	in0, in1 := records("in", 0, 10, 11, 12), records("in", 1, 5)
	seg0, seg1 := e.tracker.open(in0, now), e.tracker.open(in1, now)
	for _, rec := range in0 {
		e.sink.send(scored(rec, seg0, fmt.Appendf(nil, "score of %d", rec.Offset)))
	}
	e.sink.send(deadLetter("dlq", in1[0], seg1, fmt.Errorf("%w: a test record", serde.ErrCorruptAvro)))

	testkit.WaitFor(t, "both input partitions are marked", func() bool { return len(e.marks.list()) >= 2 })
	if got, want := e.marks.list(), []string{"in/0@12", "in/1@5"}; !slices.Equal(got, want) {
		t.Errorf("marked %v, want %v", got, want)
	}
	if got := e.scoredOut(t); got != 3 {
		t.Errorf("counted %v outputs, want 3", got)
	}
	if got := e.deadLettered(t, deadletter.CorruptAvro); got != 1 {
		t.Errorf("counted %v corrupt_avro dead letters, want 1", got)
	}
	got := newReader(t, seeds, kgo.ReadUncommitted(), "out", "dlq").until(t, "four records in Kafka", func(rs []*kgo.Record) bool { return len(rs) >= 4 })
	in := map[string][]string{}
	for _, r := range got {
		in[r.Topic] = append(in[r.Topic], string(r.Value))
	}
	slices.Sort(in["out"])
	if want := []string{"score of 10", "score of 11", "score of 12"}; !slices.Equal(in["out"], want) {
		t.Errorf("out holds %q, want %q", in["out"], want)
	}
	if len(in["dlq"]) != 1 {
		t.Errorf("dlq holds %d records, want 1", len(in["dlq"]))
	}
	if err := e.sink.failed(); err != nil {
		t.Errorf("failed: %v", err)
	}
}

// TestSinkTooLargeResultDeadLettersItsSourceWithoutValue sends a result
// larger than its topic's max.message.bytes: the broker refuses it, and
// the sink dead-letters its source instead, with the source's key and
// coordinates and the size of the value it leaves out, counts the dead
// letter under too_large_to_produce, and marks the source's offset.
func TestSinkTooLargeResultDeadLettersItsSourceWithoutValue(t *testing.T) {
	_, seeds := newKafka(t, kfake.SeedTopics(1, "dlq"))
	e := newSinkEnv(t, seeds)
	admin := kadm.NewClient(e.client)
	maxBytes := "1024"
	created, err := admin.CreateTopic(context.Background(), 1, 1, map[string]*string{"max.message.bytes": &maxBytes}, "out")
	if err == nil {
		err = created.Err
	}
	if err != nil {
		t.Fatalf("create topic out: %v", err)
	}

	now := time.Now()
	source := &kgo.Record{Topic: "in", Partition: 2, Offset: 41, Key: []byte("sensor-7"), Value: bytes.Repeat([]byte{'x'}, 3000), Timestamp: now}
	e.sink.send(scored(source, e.tracker.open([]*kgo.Record{source}, now), noise(4096)))

	testkit.WaitFor(t, "the source is marked", func() bool { return len(e.marks.list()) > 0 })
	if got := e.marks.list(); !slices.Equal(got, []string{"in/2@41"}) {
		t.Errorf("marked %v, want [in/2@41]", got)
	}
	dl := newReader(t, seeds, kgo.ReadUncommitted(), "dlq").until(t, "a dead letter", func(rs []*kgo.Record) bool { return len(rs) > 0 })[0]
	if len(dl.Value) != 0 {
		t.Errorf("the dead letter carries a value of %d bytes, want none", len(dl.Value))
	}
	if string(dl.Key) != "sensor-7" {
		t.Errorf("the dead letter's key is %q, want the source's", dl.Key)
	}
	for key, want := range map[string]string{
		deadletter.HeaderErrorClass:      deadletter.TooLarge,
		deadletter.HeaderSourceTopic:     "in",
		deadletter.HeaderSourcePartition: "2",
		deadletter.HeaderSourceOffset:    "41",
		deadletter.HeaderValueDropped:    "3000",
	} {
		if got := header(dl, key); got != want {
			t.Errorf("header %s is %q, want %q", key, got, want)
		}
	}
	if reason := header(dl, deadletter.HeaderErrorReason); !strings.HasPrefix(reason, "out: MESSAGE_TOO_LARGE") {
		t.Errorf("reason %q does not name the topic and the broker's refusal", reason)
	}
	if got := e.deadLettered(t, deadletter.TooLarge); got != 1 {
		t.Errorf("counted %v too_large_to_produce dead letters, want 1", got)
	}
	if got := e.scoredOut(t); got != 0 {
		t.Errorf("counted %v outputs, want none", got)
	}
	ends, err := admin.ListEndOffsets(context.Background(), "out")
	if err != nil {
		t.Fatal(err)
	}
	if end, _ := ends.Lookup("out", 0); end.Offset != 0 {
		t.Errorf("out holds %d records, want none", end.Offset)
	}
	if err := e.sink.failed(); err != nil || closed(e.sink.broken) {
		t.Errorf("the sink failed (%v) on a result it could dead-letter", err)
	}
}

// TestSinkProduceFailures fails the produce requests to the output topic
// with a broker error: one that is not retriable stops the sink (failed
// names the first result that failed, broken is closed, nothing is marked
// or counted), and a later failure does not close broken twice; a
// retriable one is retried until the result goes through.
func TestSinkProduceFailures(t *testing.T) {
	tests := []struct {
		name      string
		err       *kerr.Error
		faults    int // produce requests failed; -1 for all
		wantFail  bool
		wantMarks []string
	}{
		{name: "not retriable", err: kerr.InvalidRecord, faults: -1, wantFail: true},
		{name: "retriable", err: kerr.NotEnoughReplicas, faults: 2, wantMarks: []string{"in/0@7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cluster, seeds := newKafka(t, kfake.SeedTopics(1, "out", "dlq"))
			fault := cluster.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "out", Err: tt.err, Count: tt.faults})
			// Quick retries: each waits for a metadata refresh.
			e := newSinkEnv(t, seeds, kgo.RetryBackoffFn(func(int) time.Duration { return time.Millisecond }), kgo.MetadataMinAge(10*time.Millisecond))
			now := time.Now()
			first := records("in", 0, 7)
			e.sink.send(scored(first[0], e.tracker.open(first, now), []byte("score")))

			if !tt.wantFail {
				testkit.WaitFor(t, "the result is marked", func() bool { return len(e.marks.list()) > 0 })
				if got := e.marks.list(); !slices.Equal(got, tt.wantMarks) {
					t.Errorf("marked %v, want %v", got, tt.wantMarks)
				}
				if hits := fault.Hits(); hits != tt.faults {
					t.Errorf("%d produce requests failed, want %d", hits, tt.faults)
				}
				if err := e.sink.failed(); err != nil || closed(e.sink.broken) {
					t.Errorf("the sink failed on a retriable error: %v", err)
				}
				return
			}

			testkit.WaitFor(t, "the sink is broken", func() bool { return closed(e.sink.broken) })
			err := e.sink.failed()
			if !errors.Is(err, tt.err) {
				t.Fatalf("failed: %v, want %v", err, tt.err)
			}
			if !strings.Contains(err.Error(), "in/0@7") {
				t.Errorf("failure %q does not name the source", err)
			}
			second := records("in", 0, 8)
			e.sink.send(scored(second[0], e.tracker.open(second, now), []byte("score"))) // closing broken again would panic
			if err := e.client.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := e.sink.failed(); !strings.Contains(err.Error(), "in/0@7") {
				t.Errorf("after a second failure, failed is %q, want the first", err)
			}
			if got := e.marks.list(); len(got) != 0 {
				t.Errorf("marked %v after failures", got)
			}
			if got := e.scoredOut(t); got != 0 {
				t.Errorf("counted %v outputs after failures", got)
			}
		})
	}
}
