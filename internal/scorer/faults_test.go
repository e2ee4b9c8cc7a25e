package scorer_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/testkit"
)

// TestBrokerFaultsAndRebalancesLoseNothing streams records through scorers
// on a three-broker cluster while faults are injected through kfake's
// request hooks, coordinators and partition leaders move, and scorers
// join and leave the group. At least once, every input has a result; exactly
// once, every input has exactly one result for a read_committed consumer.
func TestBrokerFaultsAndRebalancesLoseNothing(t *testing.T) {
	for _, mode := range []string{"at-least-once", "exactly-once"} {
		t.Run(mode, func(t *testing.T) { runFaults(t, mode == "exactly-once") })
	}
}

func runFaults(t *testing.T, exactlyOnce bool) {
	const topic, chunk = "faults", 2000
	e := newEnvWith(t, embedded.Config{Partitions: 3, KafkaOpts: []kfake.Opt{kfake.NumBrokers(3), kfake.Ports(0, 0, 0)}})
	id, codec := e.register(topic+"-value", sensorSchema)
	cluster := e.stack.Cluster()
	results := []string{topic + ".scored", topic + ".dlq"}

	instances := 0
	startScorer := func() func() error {
		instances++
		cfg := e.config(topic)
		cfg.Stream.ExactlyOnce = exactlyOnce
		cfg.Stream.TransactionalID = fmt.Sprintf("faults-%d", instances)
		_, stop := e.start(cfg)
		return stop
	}

	gen := sample.NewSensors(5, 30, 0.05)
	produced := 0
	produce := func() {
		var records []*kgo.Record
		for i := range chunk {
			rec, _ := gen.Next()
			value := frame(t, id, codec, rec)
			if i%250 == 0 {
				value = value[:7] // truncated: a dead letter
			}
			records = append(records, &kgo.Record{Topic: topic, Key: []byte(rec["device_id"].(string)), Value: value})
		}
		e.produce(records...)
		produced += chunk
	}
	progress := newResultCounter(t, e, exactlyOnce, results...)

	// Each step produces a chunk, injects one fault while the chunk is
	// being scored, and waits until every input so far has a result.
	first := startScorer()
	var second, third func() error
	var failedProduces, droppedFetches atomic.Int32
	steps := []struct {
		fault string
		do    func()
	}{
		{"failed produces (NOT_LEADER_FOR_PARTITION on every 3rd produce of results)", func() { failProduces(cluster, e.topicIDs(results), 3, 30, &failedProduces) }},
		{"fetch connections dropped", func() { dropFetches(cluster, e.topicIDs([]string{topic}), 2, 10, &droppedFetches) }},
		{"group and transaction coordinators moved", cluster.RehashCoordinators},
		{"a second scorer joins", func() { second = startScorer() }},
		{"leaders of the result partitions moved", func() { moveLeaders(t, cluster, results) }},
		{"the first scorer leaves", func() {
			if err := first(); err != nil {
				t.Errorf("first scorer: %v", err)
			}
		}},
		{"coordinators moved again, failed produces again", func() {
			cluster.RehashCoordinators()
			failProduces(cluster, e.topicIDs(results), 2, 20, &failedProduces)
		}},
		{"a third scorer joins", func() { third = startScorer() }},
	}
	for _, s := range steps {
		start := time.Now()
		produce()
		s.do()
		progress.waitDistinct(produced, s.fault)
		t.Logf("%-70s scored in %v", s.fault, time.Since(start).Round(time.Millisecond))
	}
	for i, stop := range []func() error{second, third} {
		if err := stop(); err != nil {
			t.Errorf("scorer %d: %v", i+2, err)
		}
	}
	if failedProduces.Load() == 0 || droppedFetches.Load() == 0 {
		t.Fatalf("faults not injected: %d produces failed, %d fetches dropped", failedProduces.Load(), droppedFetches.Load())
	}
	t.Logf("injected: %d failed produces, %d dropped fetch connections", failedProduces.Load(), droppedFetches.Load())

	var all [][]*kgo.Record
	for _, topic := range results {
		all = append(all, e.readAllCommitted(topic))
	}
	lost, duplicated := e.tally(topic, all...)
	mode := "at-least-once"
	if exactlyOnce {
		mode = "exactly-once"
	}
	report(t, "kfake faults + rebalances", mode, produced, len(all[0]), len(all[1]), duplicated, lost)
	if lost > 0 {
		t.Fatalf("%d of %d inputs have no result", lost, produced)
	}
	if exactlyOnce && duplicated > 0 {
		t.Fatalf("%d duplicate results seen by a read_committed consumer in exactly-once mode", duplicated)
	}
}

// failProduces answers every nth produce request that writes results with
// NOT_LEADER_FOR_PARTITION, a retriable error, for the next count
// produce requests of results, counting them in injected.
func failProduces(c *kfake.Cluster, topics map[string][16]byte, nth, count int, injected *atomic.Int32) {
	match := func(req kmsg.Request) bool { return writesTo(req.(*kmsg.ProduceRequest), topics) }
	injectEvery(c, kmsg.Produce, match, nth, count, injected, func(req kmsg.Request) (kmsg.Response, error) {
		produce := req.(*kmsg.ProduceRequest)
		resp := produce.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range produce.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = 6 // NOT_LEADER_FOR_PARTITION
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil
	})
}

// dropFetches closes the connection of every nth fetch request of the
// topics (the scorers' fetches, not the test's readers'), for the next
// count such requests, counting them in injected.
func dropFetches(c *kfake.Cluster, topics map[string][16]byte, nth, count int, injected *atomic.Int32) {
	match := func(req kmsg.Request) bool { return fetchesFrom(req.(*kmsg.FetchRequest), topics) }
	injectEvery(c, kmsg.Fetch, match, nth, count, injected, func(kmsg.Request) (kmsg.Response, error) {
		return nil, errors.New("fetch connection dropped by the test")
	})
}

// injectEvery answers every nth request of key that match accepts with
// answer (an error closes the connection), for the next count such
// requests, counting the answered ones in injected; kfake handles the rest.
func injectEvery(c *kfake.Cluster, key kmsg.Key, match func(kmsg.Request) bool, nth, count int, injected *atomic.Int32, answer func(kmsg.Request) (kmsg.Response, error)) {
	var seen atomic.Int32
	c.ControlKey(int16(key), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if !match(req) {
			return nil, nil, false
		}
		n := seen.Add(1)
		if int(n) >= count {
			c.DropControl()
		}
		if int(n)%nth != 0 {
			return nil, nil, false
		}
		injected.Add(1)
		resp, err := answer(req)
		return resp, err, true
	})
}

// writesTo reports whether a produce request writes to one of the topics,
// named (before produce v13) or by id.
func writesTo(req *kmsg.ProduceRequest, topics map[string][16]byte) bool {
	return slices.ContainsFunc(req.Topics, func(t kmsg.ProduceRequestTopic) bool { return isOneOf(t.Topic, t.TopicID, topics) })
}

// isOneOf reports whether a request's topic, named (older versions) or by
// id, is one of topics.
func isOneOf(name string, id [16]byte, topics map[string][16]byte) bool {
	for n, i := range topics {
		if name == n || id == i {
			return true
		}
	}
	return false
}

// fetchesFrom reports whether a fetch request reads one of the topics.
func fetchesFrom(req *kmsg.FetchRequest, topics map[string][16]byte) bool {
	return slices.ContainsFunc(req.Topics, func(t kmsg.FetchRequestTopic) bool { return isOneOf(t.Topic, t.TopicID, topics) })
}

// topicIDs returns the ids of existing topics.
func (e *env) topicIDs(topics []string) map[string][16]byte {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	details, err := kadm.NewClient(e.client).ListTopics(ctx, topics...)
	if err != nil {
		e.t.Fatal(err)
	}
	ids := map[string][16]byte{}
	for name, d := range details {
		if d.Err != nil {
			e.t.Fatalf("topic %s: %v", name, d.Err)
		}
		ids[name] = d.ID
	}
	return ids
}

// moveLeaders moves every partition of the topics to the next broker.
// Input partitions stay: after a move, kfake answers the consumer's
// OffsetForLeaderEpoch for the old epoch with offset 0, which franz-go
// reports as lost records and consumes again from the start, a broker
// truncation that real Kafka does not do on a clean leader change.
func moveLeaders(t *testing.T, c *kfake.Cluster, topics []string) {
	t.Helper()
	for _, topic := range topics {
		for p := range int32(3) {
			leader := c.LeaderFor(topic, p)
			if leader < 0 {
				continue
			}
			if err := c.MoveTopicPartition(topic, p, (leader+1)%3); err != nil {
				t.Fatalf("move %s/%d: %v", topic, p, err)
			}
		}
	}
}

// resultCounter follows the result topics from the start and counts the
// distinct inputs that have a result.
type resultCounter struct {
	t       *testing.T
	mu      sync.Mutex
	sources map[string]bool
}

func newResultCounter(t *testing.T, e *env, readCommitted bool, topics ...string) *resultCounter {
	opts := []kgo.Opt{kgo.SeedBrokers(e.stack.Brokers()...), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}
	if readCommitted {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	rc := &resultCounter{t: t, sources: map[string]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fetches := cl.PollFetches(ctx)
			rc.mu.Lock()
			fetches.EachRecord(func(r *kgo.Record) { rc.sources[sourceOf(r)] = true })
			rc.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		cl.Close()
	})
	return rc
}

// waitDistinct waits until n inputs have a result.
func (rc *resultCounter) waitDistinct(n int, after string) {
	rc.t.Helper()
	rc.waitFor(func(sources map[string]bool) bool { return len(sources) >= n },
		fmt.Sprintf("%d inputs have results after: %s", n, after))
}

// waitFor waits until cond holds of the inputs that have results.
func (rc *resultCounter) waitFor(cond func(sources map[string]bool) bool, what string) {
	rc.t.Helper()
	testkit.WaitFor(rc.t, what, func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return cond(rc.sources)
	})
}

// snapshot copies the inputs that have results.
func (rc *resultCounter) snapshot() map[string]bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return maps.Clone(rc.sources)
}

// countPartitions counts the inputs of the given partitions of topic.
func countPartitions(sources map[string]bool, topic string, partitions ...int32) int {
	n := 0
	for src := range sources {
		for _, p := range partitions {
			if strings.HasPrefix(src, fmt.Sprintf("%s/%d@", topic, p)) {
				n++
			}
		}
	}
	return n
}

// report logs one line of the fault table, and appends it to the file
// named by CHAOS_REPORT, for docs/reliability.md.
func report(t *testing.T, fault, mode string, in, out, dlq, duplicated, lost int) {
	// The format of internal/chaos's report, so that one file collects both.
	line := fmt.Sprintf("%s | %s | %d | %d | %d | %d | %d", fault, mode, in, out, dlq, duplicated, lost)
	t.Log(line)
	if path := os.Getenv("CHAOS_REPORT"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Errorf("CHAOS_REPORT: %v", err)
			return
		}
		defer f.Close()
		fmt.Fprintln(f, line)
	}
}
