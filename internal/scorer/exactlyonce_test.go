package scorer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/testkit"
)

// headerFence marks the records readAllCommitted writes behind the results.
const headerFence = "test.fence"

// readAllCommitted returns every record of topic that a read_committed
// consumer sees. The end offset does not say when that is (transaction
// markers take offsets too), so it writes a fence record to each partition
// and reads until every fence has come by: what a scorer committed before
// stopping is ahead of it.
func (e *env) readAllCommitted(topic string) []*kgo.Record {
	e.t.Helper()
	fencer, err := kgo.NewClient(kgo.SeedBrokers(e.stack.Brokers()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		e.t.Fatal(err)
	}
	defer fencer.Close()
	partitions := e.endOffsets(topic)
	for p := range partitions {
		fence := &kgo.Record{Topic: topic, Partition: p, Headers: []kgo.RecordHeader{{Key: headerFence}}}
		if err := fencer.ProduceSync(context.Background(), fence).FirstErr(); err != nil {
			e.t.Fatal(err)
		}
	}
	reader, err := kgo.NewClient(kgo.SeedBrokers(e.stack.Brokers()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		e.t.Fatal(err)
	}
	defer reader.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got []*kgo.Record
	fenced := map[int32]bool{}
	for len(fenced) < len(partitions) {
		fetches := reader.PollFetches(ctx)
		if ctx.Err() != nil {
			e.t.Fatalf("read %d records of %s; fences seen in %d of %d partitions before the deadline", len(got), topic, len(fenced), len(partitions))
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if len(r.Headers) > 0 && r.Headers[0].Key == headerFence {
				fenced[r.Partition] = true
				return
			}
			got = append(got, r)
		})
	}
	return got
}

// bySource counts results per input coordinates.
func bySource(results ...[]*kgo.Record) map[string]int {
	seen := map[string]int{}
	for _, rs := range results {
		for _, r := range rs {
			seen[sourceOf(r)]++
		}
	}
	return seen
}

// tally counts the inputs of topic without a result among results, and
// the results beyond the first for an input.
func (e *env) tally(topic string, results ...[]*kgo.Record) (lost, duplicated int) {
	e.t.Helper()
	seen := bySource(results...)
	for p, end := range e.endOffsets(topic) {
		for o := range end {
			switch c := seen[fmt.Sprintf("%s/%d@%d", topic, p, o)]; {
			case c == 0:
				lost++
			case c > 1:
				duplicated += c - 1
			}
		}
	}
	return lost, duplicated
}

// TestExactlyOnceAcrossRestarts scores a stream with bad records mixed in,
// in exactly-once mode, stopping the scorer mid-stream and starting it
// again, and checks that a read_committed consumer sees exactly one result
// per input: none lost, none twice, so the offsets were committed with the
// results. (A stop lands between transactions; a crash inside one is the
// kill -9 test of internal/chaos.)
func TestExactlyOnceAcrossRestarts(t *testing.T) {
	const topic, n = "eos", 4000
	e := newEnv(t, topic)
	id, codec := e.register(topic+"-value", sensorSchema)
	cfg := e.config(topic)
	cfg.Stream.ExactlyOnce = true
	cfg.Stream.TransactionalID = "scorer-eos-test"

	gen := sample.NewSensors(11, 40, 0.05)
	produce := func(count int) {
		var records []*kgo.Record
		for i := range count {
			rec, _ := gen.Next()
			value := frame(t, id, codec, rec)
			if i%100 == 7 {
				value[0] = 9 // bad magic byte: a dead letter
			}
			records = append(records, &kgo.Record{Topic: topic, Key: []byte(rec["device_id"].(string)), Value: value})
		}
		e.produce(records...)
	}

	produce(n / 2)
	svc, stop := e.start(cfg)
	e.consumeCommitted(n/4, topic+".scored") // stopped mid-stream, part scored
	if err := stop(); err != nil {
		t.Fatalf("first run: %v", err)
	}
	if metricValue(t, svc.Metrics(), "streamscore_transactions_total") == 0 {
		t.Fatal("no transaction was counted")
	}
	produce(n / 2)
	_, stop = e.start(cfg)
	e.consumeCommitted(n-n/100, topic+".scored")
	if err := stop(); err != nil {
		t.Fatalf("second run: %v", err)
	}

	outputs, dlq := e.readAllCommitted(topic+".scored"), e.readAllCommitted(cfg.Stream.DeadLetterTopic)
	if len(dlq) != n/100 {
		t.Errorf("%d dead letters, want %d", len(dlq), n/100)
	}
	if lost, duplicated := e.tally(topic, outputs, dlq); lost > 0 || duplicated > 0 || len(outputs)+len(dlq) != n {
		t.Fatalf("%d results for %d inputs: %d inputs without one, %d duplicates", len(outputs)+len(dlq), n, lost, duplicated)
	}
}

// TestExactlyOnceRegistryOutage holds a partition back during a registry
// outage in exactly-once mode, where holding back aborts the transaction
// and rewinds: the other partitions keep being scored, and afterwards a
// read_committed consumer sees each input once, in order.
func TestExactlyOnceRegistryOutage(t *testing.T) {
	o := newOutage(t, "eos-outage")
	cfg := o.config()
	cfg.Stream.ExactlyOnce = true
	svc, stop := o.start(cfg)
	scored := o.topic + ".scored"

	o.produce(0, 5, o.known)
	o.produce(1, 5, o.known)
	o.consumeCommitted(10, scored)

	o.down.Store(true)
	o.evolve()
	o.produce(0, 1, o.novel)
	o.produce(0, 5, o.known)
	o.produce(1, 10, o.known)
	during := o.consumeCommitted(20, scored)
	if n := len(fromPartition(during, "0")); n != 5 {
		t.Fatalf("%d committed outputs of partition 0 during the outage, want the 5 from before it", n)
	}
	o.down.Store(false)
	o.consumeCommitted(26, scored)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if aborted := labeledValue(t, svc.Metrics(), "streamscore_transactions_total", "result", "aborted"); aborted == 0 {
		t.Fatal("holding a partition back aborted no transaction; the test did not exercise the rewind")
	}

	outputs := o.readAllCommitted(scored)
	if len(outputs) != 26 {
		t.Fatalf("%d committed outputs, want 26: each input once", len(outputs))
	}
	for _, part := range []string{"0", "1"} {
		for i, r := range fromPartition(outputs, part) {
			if got := header(r, deadletter.HeaderSourceOffset); got != fmt.Sprint(i) {
				t.Fatalf("partition %s: output %d is from offset %s: order lost or a duplicate", part, i, got)
			}
		}
	}
}

// labeledValue sums the samples of a counter or gauge family that carry
// a label with the given value; an empty label sums them all.
func labeledValue(t *testing.T, g prometheus.Gatherer, name, label, value string) float64 {
	t.Helper()
	if label == "" {
		return testkit.MetricSum(t, g, name)
	}
	return testkit.MetricSum(t, g, name, label, value)
}
