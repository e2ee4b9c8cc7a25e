package stream

import (
	"context"
	"fmt"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/internal/testkit"
)

// txnEnv is an exactly-once Scorer's consumer and transactions over a
// kfake broker, with n framed readings in its input topic "bench" (three
// partitions). The test drives it a transaction at a time, as the
// consumer's loop would, instead of running the Scorer.
type txnEnv struct {
	seeds kgo.Opt
	admin *kadm.Client
	c     *consumer
	open  turn             // the transaction handOn left for end
	ends  map[string]int64 // the input's end offsets, by "topic/partition"
}

func newTxnEnv(t *testing.T, n int, dec func(Decoder) Decoder) *txnEnv {
	t.Helper()
	f := newFixture(t, n)
	_, seeds := newKafka(t, kfake.SeedTopics(3, "bench", "bench.scored", "dlq"))
	producer := newClient(t, seeds, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	e := &txnEnv{seeds: seeds, admin: kadm.NewClient(producer), ends: map[string]int64{}}
	for _, r := range f.records {
		produce(t, producer, &kgo.Record{Topic: "bench", Partition: r.Partition, Value: r.Value})
		e.ends[fmt.Sprintf("bench/%d", r.Partition)]++
	}
	cfg := Config{Topics: []string{"bench"}, Group: "scorers", DeadLetterTopic: "dlq", ExactlyOnce: true,
		TransactionalID: "scorer-0", RegistryBackoff: 10 * time.Millisecond}
	s, err := NewScorer(cfg, Deps{KafkaOpts: []kgo.Opt{seeds}, Decoder: dec(f.dec), Outputs: f.outputs,
		Model: f.model(t, "1", smallModel(), 500), Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	go s.proc.scoreJobs()
	t.Cleanup(func() {
		s.client.Close()
		s.proc.close()
	})
	if _, ok := s.consumer.commit.(*transactions); !ok {
		t.Fatalf("the exactly-once committer is a %T", s.consumer.commit)
	}
	e.c = s.consumer
	return e
}

func asIs(d Decoder) Decoder { return d }

// handOn polls until records come and hands them on in a transaction,
// which it leaves open, as the consumer's loop does before it allows
// rebalances.
func (e *txnEnv) handOn(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a bound, not a wait
	defer cancel()
	fetches := e.c.poll(ctx, time.Time{})
	for fetches.NumRecords() == 0 && ctx.Err() == nil {
		e.c.client.AllowRebalance()
		fetches = e.c.poll(ctx, time.Time{})
	}
	var err error
	if e.open, err = e.c.handOn(ctx, fetches); err != nil {
		t.Fatalf("handOn: %v", err)
	}
	if !e.open.begun {
		t.Fatal("handOn began no transaction for a poll with records")
	}
}

// end ends the open transaction, as the loop does once it has allowed
// rebalances.
func (e *txnEnv) end(t *testing.T) {
	t.Helper()
	e.c.client.AllowRebalance()
	if err := e.c.end(e.open); err != nil {
		t.Fatalf("end: %v", err)
	}
	e.open = turn{}
}

// counted returns what the metrics count: records in and out of topic
// "bench", and transactions committed and aborted.
func (e *txnEnv) counted(t *testing.T) (in, out, committed, aborted float64) {
	t.Helper()
	m := e.c.metrics
	return counterValue(t, m.recordsIn.WithLabelValues("bench")), counterValue(t, m.recordsOut.WithLabelValues("bench")),
		counterValue(t, m.transactions.WithLabelValues("committed")), counterValue(t, m.transactions.WithLabelValues("aborted"))
}

// outputOffsets returns the output topic's end offsets and last stable
// offsets (the end a read_committed consumer can read to), summed over
// its partitions.
func (e *txnEnv) outputOffsets(t *testing.T) (end, stable int64) {
	t.Helper()
	ctx := context.Background()
	ends, err := e.admin.ListEndOffsets(ctx, "bench.scored")
	if err != nil {
		t.Fatal(err)
	}
	stables, err := e.admin.ListCommittedOffsets(ctx, "bench.scored")
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(o kadm.ListedOffset) { end += o.Offset })
	stables.Each(func(o kadm.ListedOffset) { stable += o.Offset })
	return end, stable
}

// outputsOnce reads the output topic read_committed until it has an
// output for each of want (source coordinates), and checks that it has
// one for each, and no other.
func (e *txnEnv) outputsOnce(t *testing.T, want map[string]bool) {
	t.Helper()
	got := map[string]int{}
	newReader(t, e.seeds, kgo.ReadCommitted(), "bench.scored").until(t, "an output for each input committed", func(rs []*kgo.Record) bool {
		clear(got)
		for _, r := range rs {
			got[sourceOf(r)]++
		}
		covered := 0
		for src := range want {
			if got[src] > 0 {
				covered++
			}
		}
		return covered == len(want)
	})
	for src, n := range got {
		if !want[src] {
			t.Errorf("an output of %s is visible, whose offset is not committed", src)
		} else if n != 1 {
			t.Errorf("%s has %d visible outputs, want 1", src, n)
		}
	}
}

// below returns the input coordinates below committed offsets.
func below(committed map[string]int64) map[string]bool {
	out := map[string]bool{}
	for tp, end := range committed {
		for o := range end {
			out[fmt.Sprintf("%s@%d", tp, o)] = true
		}
	}
	return out
}

// TestTransactionCommitsResultsWithTheirOffsets runs one transaction and
// checks that, before it ends, its results are in the output topic but
// not readable committed and no input offset is committed; and that once
// it commits, the offsets committed and the outputs visible to a
// read_committed consumer cover the same inputs, each once, and the
// metrics count them.
func TestTransactionCommitsResultsWithTheirOffsets(t *testing.T) {
	e := newTxnEnv(t, 60, asIs)
	e.handOn(t)
	if got := committedOffsets(t, e.admin, "scorers"); len(got) != 0 {
		t.Errorf("offsets %v committed before the transaction ended", got)
	}
	end, stable := e.outputOffsets(t)
	if end == 0 || stable != 0 {
		t.Errorf("before the end, the output topic ends at %d and is stable to %d; want results written, none stable", end, stable)
	}

	e.end(t)
	committed := committedOffsets(t, e.admin, "scorers")
	var consumed int64
	for _, o := range committed {
		consumed += o
	}
	if consumed == 0 {
		t.Fatal("the transaction committed no offset")
	}
	if end, stable := e.outputOffsets(t); stable != end {
		t.Errorf("after the commit, the output topic ends at %d but is stable to %d", end, stable)
	}
	e.outputsOnce(t, below(committed))
	in, out, commits, aborts := e.counted(t)
	if in != float64(consumed) || out != float64(consumed) || commits != 1 || aborts != 0 {
		t.Errorf("counted %v in, %v out, %v commits, %v aborts; want %d, %d, 1, 0", in, out, commits, aborts, consumed, consumed)
	}
}

// unreachable is a decoder whose registry goes away, while down is set,
// after the first records it checked: ErrRegistryUnavailable, which
// exactly once aborts the transaction.
type unreachable struct {
	Decoder
	after  int64
	down   atomic.Bool
	checks atomic.Int64
}

func (d *unreachable) Check(value []byte) (serde.Checked, error) {
	if d.checks.Add(1) > d.after && d.down.Load() {
		return serde.Checked{}, fmt.Errorf("fetch schema: %w", serde.ErrRegistryUnavailable)
	}
	return d.Decoder.Check(value)
}

// abortFirst runs a transaction that scores and produces after results,
// then finds the registry gone and aborts, and checks that it counted as
// aborted and counted nothing else.
func abortFirst(t *testing.T, n int, after int64) (*txnEnv, *unreachable) {
	t.Helper()
	dec := &unreachable{after: after}
	dec.down.Store(true)
	e := newTxnEnv(t, n, func(d Decoder) Decoder { dec.Decoder = d; return dec })
	e.handOn(t)
	e.end(t)
	if in, out, commits, aborts := e.counted(t); in != 0 || out != 0 || commits != 0 || aborts != 1 {
		t.Fatalf("after an abort, counted %v in, %v out, %v commits, %v aborts; want 0, 0, 0, 1", in, out, commits, aborts)
	}
	return e, dec
}

// TestAbortedTransactionLeavesNeitherResultsNorOffsets aborts a
// transaction that had produced results and checks that they were written
// but that a read_committed consumer reads none of them, up to records
// written after the abort, and that no input offset is committed.
func TestAbortedTransactionLeavesNeitherResultsNorOffsets(t *testing.T) {
	const produced = 20
	e, _ := abortFirst(t, 60, produced)
	newReader(t, e.seeds, kgo.ReadUncommitted(), "bench.scored").until(t, "the aborted results, read uncommitted", func(rs []*kgo.Record) bool {
		return len(rs) >= produced
	})
	if got := committedOffsets(t, e.admin, "scorers"); len(got) != 0 {
		t.Errorf("offsets %v committed by an aborted transaction", got)
	}

	// Committed readers see a partition in order: once they reach a
	// record written after the abort, they have passed every aborted one.
	after := newClient(t, e.seeds, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for p := range int32(3) {
		produce(t, after, &kgo.Record{Topic: "bench.scored", Partition: p, Value: []byte("after the abort")})
	}
	seen := newReader(t, e.seeds, kgo.ReadCommitted(), "bench.scored").until(t, "the records written after the abort", func(rs []*kgo.Record) bool {
		return len(rs) >= 3
	})
	for _, r := range seen {
		if string(r.Value) != "after the abort" {
			t.Errorf("read committed: the aborted output of %s", sourceOf(r))
		}
	}
}

// TestTransactionCountsOnlyWhatCommits aborts a transaction, brings the
// registry back and lets the consumer's loop score the rest, and checks
// that the records the aborted transaction consumed and produced are
// counted once, when consumed again and committed, not twice, and that
// each input has one visible output.
func TestTransactionCountsOnlyWhatCommits(t *testing.T) {
	const n = 60
	e, dec := abortFirst(t, n, 20)
	dec.down.Store(false)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.c.run(ctx) }()
	testkit.WaitFor(t, "the group's commits reach the end of the input", func() bool {
		return maps.Equal(committedOffsets(t, e.admin, "scorers"), e.ends)
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if in, out, commits, _ := e.counted(t); in != n || out != n || commits == 0 {
		t.Errorf("counted %v in and %v out in %v commits; want %d each", in, out, commits, n)
	}
	e.outputsOnce(t, below(e.ends))
}
