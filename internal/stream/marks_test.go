package stream

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/testkit"
)

// marksEnv is the at-least-once committer of a group member ("g", over
// topic "in") of a kfake broker, with a tracker marking through it, the
// processor it drains and a sink. Offsets commit only when the test has
// the committer commit them: the background commit is an hour away.
type marksEnv struct {
	seeds   kgo.Opt
	client  *kgo.Client // the member's, as in the Scorer: it consumes and produces
	admin   *kadm.Client
	marks   *marks
	tracker *tracker
	proc    *processor
	sink    *sink
	polled  []*kgo.Record
}

func newMarksEnv(t *testing.T, partitions int32, opts ...kgo.Opt) *marksEnv {
	t.Helper()
	_, seeds := newKafka(t, kfake.SeedTopics(partitions, "in", "out"))
	cfg := Config{Topics: []string{"in"}, Group: "g", DeadLetterTopic: "dlq", DrainTimeout: time.Minute}.WithDefaults()
	cl := newClient(t, append([]kgo.Opt{seeds, kgo.ConsumerGroup("g"), kgo.ConsumeTopics("in"),
		kgo.AutoCommitMarks(), kgo.AutoCommitInterval(time.Hour)}, opts...)...)
	e := &marksEnv{seeds: seeds, client: cl, admin: kadm.NewClient(cl), proc: idleProcessor(2)}
	e.tracker = newTracker(func(rs ...*kgo.Record) { e.marks.mark(rs...) })
	e.marks = newMarks(cfg, cl, e.proc, e.tracker.reset, slog.New(slog.DiscardHandler))
	met := testMetrics(t)
	e.sink = newSink(cl, "dlq", e.tracker, newLiveTally(met, cfg.Topics), met)
	return e
}

// idleProcessor is a processor of n batches, none of them filled or
// scored, which is all a drain asks of it: a batch taken from free stands
// for one being scored until it is put back.
func idleProcessor(n int) *processor {
	p := &processor{free: make(chan *slot, n), size: n}
	for range n {
		p.free <- &slot{}
	}
	return p
}

// poll consumes until the member has polled n records, and keeps them.
func (e *marksEnv) poll(t *testing.T, n int) {
	t.Helper()
	testkit.WaitFor(t, "the records are polled", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		e.polled = append(e.polled, e.client.PollFetches(ctx).Records()...)
		return len(e.polled) >= n
	})
}

// open opens a segment for each polled record, by its coordinates.
func (e *marksEnv) open() map[string]*segment {
	segs := map[string]*segment{}
	for _, r := range e.polled {
		segs[coords(r.Topic, r.Partition, r.Offset)] = e.tracker.open([]*kgo.Record{r}, time.Now())
	}
	return segs
}

// revoke runs the committer's revoke, which drains and commits.
func (e *marksEnv) revoke() {
	e.marks.revoked(context.Background())
}

func (e *marksEnv) wantCommitted(t *testing.T, when string, want map[string]int64) {
	t.Helper()
	if got := committedOffsets(t, e.admin, "g"); !maps.Equal(got, want) {
		t.Errorf("%s: committed %v, want %v", when, got, want)
	}
}

// TestMarksCommitTheAcknowledgedPrefix acknowledges the results of two
// partitions out of order and checks that what the committer commits is,
// per partition, the end of the records acknowledged with every record
// before them, and nothing for a partition whose first record is not.
func TestMarksCommitTheAcknowledgedPrefix(t *testing.T) {
	e := newMarksEnv(t, 2)
	producer := newClient(t, e.seeds, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for p, n := range []int{5, 3} {
		for range n {
			produce(t, producer, &kgo.Record{Topic: "in", Partition: int32(p), Value: []byte("reading")})
		}
	}
	e.poll(t, 8)
	segs := e.open()
	for _, k := range []string{"in/0@0", "in/0@1", "in/0@3", "in/0@4", "in/1@1", "in/1@2"} {
		e.tracker.ack(segs[k])
	}
	e.revoke()
	e.wantCommitted(t, "with in/0@2 and in/1@0 unacknowledged", map[string]int64{"in/0": 2})

	e.tracker.ack(segs["in/0@2"])
	e.tracker.ack(segs["in/1@0"])
	e.revoke()
	e.wantCommitted(t, "with all acknowledged", map[string]int64{"in/0": 5, "in/1": 3})
}

// TestMarksCommitPastSkippedBatch writes a compressed batch that would
// decompress past the member's limit between two small records, skips it
// as the consumer does (one record standing for it, fetching moved past
// it), and checks that once its dead letter is acknowledged the revoke
// commits the offset after the batch, which franz-go's own marks would
// not, and that a later record's mark then commits past that.
func TestMarksCommitPastSkippedBatch(t *testing.T) {
	const limit = 64 << 10
	e := newMarksEnv(t, 1, kgo.MaxDecompressBatchBytes(limit))
	plain := newClient(t, e.seeds, kgo.ProducerBatchCompression(kgo.NoCompression()))
	bomb := newClient(t, e.seeds, kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	produce(t, plain, &kgo.Record{Topic: "in", Value: []byte("before")})
	produce(t, bomb, &kgo.Record{Topic: "in", Value: make([]byte, 4*limit)})
	produce(t, plain, &kgo.Record{Topic: "in", Value: []byte("after")})

	var skipped []*kgo.Record
	testkit.WaitFor(t, "the record before the batch and the batch's error are polled", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		fetches := e.client.PollFetches(ctx)
		e.polled = append(e.polled, fetches.Records()...)
		skipped = append(skipped, oversizeBatches(fetches, time.Now())...)
		return len(e.polled) > 0 && len(skipped) > 0
	})
	big := oversizeBatchOf(skipped[0])
	if len(e.polled) != 1 || big.Offset != 1 {
		t.Fatalf("polled %d records and a batch at %d, want the record before it and the batch at 1", len(e.polled), big.Offset)
	}
	e.polled = append(e.polled, skipped...)
	e.client.SetOffsets(resumeAfter(skipped))
	for _, seg := range e.open() {
		e.tracker.ack(seg)
	}
	e.revoke()
	e.wantCommitted(t, "after the batch's dead letter", map[string]int64{"in/0": big.NextOffset})

	e.polled = nil
	e.poll(t, 1)
	if got := e.polled[0]; !bytes.Equal(got.Value, []byte("after")) || got.Offset != big.NextOffset {
		t.Fatalf("polled %q at %d after the batch, want \"after\" at %d", got.Value, got.Offset, big.NextOffset)
	}
	for _, seg := range e.open() {
		e.tracker.ack(seg)
	}
	e.revoke()
	e.wantCommitted(t, "after the record after the batch", map[string]int64{"in/0": big.NextOffset + 1})
}

// TestMarksRevokeDrainsThenCommits revokes while a batch is still being
// scored and its results are yet to be produced, behind a producer that
// lingers a minute: the revoke waits for the batch, flushes its results,
// and commits their inputs' offsets once they are acknowledged.
func TestMarksRevokeDrainsThenCommits(t *testing.T) {
	e := newMarksEnv(t, 1, kgo.ProducerLinger(time.Minute))
	producer := newClient(t, e.seeds)
	for range 3 {
		produce(t, producer, &kgo.Record{Topic: "in", Value: []byte("reading")})
	}
	e.poll(t, 3)
	seg := e.tracker.open(e.polled, time.Now())
	scoring := <-e.proc.free

	revoked := make(chan struct{})
	go func() {
		e.revoke()
		close(revoked)
	}()
	testkit.WaitFor(t, "the drain waits for the batch being scored", func() bool { return len(e.proc.free) == 0 || closed(revoked) })
	if closed(revoked) {
		t.Fatal("the revoke finished while a batch was being scored")
	}
	for _, r := range e.polled {
		e.sink.send(scored(r, seg, []byte("score")))
	}
	e.proc.free <- scoring // the batch is scored
	testkit.WaitFor(t, "the revoke finishes", func() bool { return closed(revoked) })
	e.wantCommitted(t, "after the revoke", map[string]int64{"in/0": 3})
}
