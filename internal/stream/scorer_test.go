package stream

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/testkit"
)

// TestScorerScoresEndToEnd builds a Scorer over a kfake broker, at least
// once and exactly once, produces framed readings to its input topic, and
// checks that every input has exactly one output in the output topic and
// that the group's committed offsets reach the end of the input.
func TestScorerScoresEndToEnd(t *testing.T) {
	for _, exactlyOnce := range []bool{false, true} {
		t.Run(map[bool]string{false: "at least once", true: "exactly once"}[exactlyOnce], func(t *testing.T) {
			const n = 300
			f := newFixture(t, n)
			cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "bench", "bench.scored", "dlq"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(cluster.Close)
			seeds := kgo.SeedBrokers(cluster.ListenAddrs()...)
			client, err := kgo.NewClient(seeds, kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeTopics("bench.scored"),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
				kgo.RecordPartitioner(kgo.ManualPartitioner())) // every input partition gets records
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(client.Close)
			inputs := make([]*kgo.Record, n)
			for i, r := range f.records {
				inputs[i] = &kgo.Record{Topic: "bench", Partition: r.Partition, Value: r.Value}
			}
			if err := client.ProduceSync(context.Background(), inputs...).FirstErr(); err != nil {
				t.Fatal(err)
			}

			cfg := Config{Topics: []string{"bench"}, Group: "scorers", DeadLetterTopic: "dlq", ExactlyOnce: exactlyOnce, TransactionalID: "scorer-0"}
			s, err := NewScorer(cfg, Deps{
				KafkaOpts: []kgo.Opt{seeds}, Decoder: f.dec, Outputs: f.outputs,
				Model: f.model(t, "1", smallModel(), 2000), Registry: prometheus.NewRegistry(),
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx) }()
			t.Cleanup(func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Run: %v", err)
				}
			})
			testkit.WaitFor(t, "the scorer owns partitions", s.Ready)

			scored := map[string]int{}
			testkit.WaitFor(t, "an output for every input", func() bool {
				pollCtx, pollCancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
				defer pollCancel()
				client.PollFetches(pollCtx).EachRecord(func(r *kgo.Record) {
					if version := header(r, deadletter.HeaderModel); version != "bench@1" {
						t.Errorf("output %s/%d@%d names model %q, want bench@1", r.Topic, r.Partition, r.Offset, version)
					}
					scored[header(r, deadletter.HeaderSourcePartition)+"@"+header(r, deadletter.HeaderSourceOffset)]++
				})
				return len(scored) >= n
			})
			for src, times := range scored {
				if times != 1 {
					t.Errorf("input %s has %d outputs, want 1", src, times)
				}
			}

			admin := kadm.NewClient(client)
			ends, err := admin.ListEndOffsets(context.Background(), "bench")
			if err != nil {
				t.Fatal(err)
			}
			testkit.WaitFor(t, "the group's commits reach the end of the input", func() bool {
				committed, err := admin.FetchOffsets(context.Background(), "scorers")
				if err != nil {
					return false
				}
				reached := true
				ends.Each(func(end kadm.ListedOffset) {
					c, ok := committed.Lookup(end.Topic, end.Partition)
					reached = reached && (end.Offset == 0 || ok && c.At == end.Offset)
				})
				return reached
			})
		})
	}
}

// TestNewScorerReturnsRegistrationErrors builds two Scorers on one
// registry: the second cannot register its metrics, and NewScorer says so
// with an error, without a panic.
func TestNewScorerReturnsRegistrationErrors(t *testing.T) {
	f := newFixture(t, 1)
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	reg := prometheus.NewRegistry()
	deps := func() Deps {
		return Deps{KafkaOpts: []kgo.Opt{kgo.SeedBrokers(cluster.ListenAddrs()...)}, Decoder: f.dec, Outputs: f.outputs,
			Model: f.model(t, "1", smallModel(), 500), Registry: reg}
	}
	cfg := Config{Topics: []string{"bench"}, Group: "g", DeadLetterTopic: "dlq"}
	first, err := NewScorer(cfg, deps())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(first.client.Close)
	_, err = NewScorer(cfg, deps())
	var already prometheus.AlreadyRegisteredError
	if !errors.As(err, &already) {
		t.Fatalf("second NewScorer on one registry: %v, want an AlreadyRegisteredError", err)
	}
}

// TestFailedNewScorerLeavesTheRegistryFree: a NewScorer that fails after
// registering its metrics (here, at its Kafka client, given options kgo
// refuses) takes them back, so
// building it again on the same registry works.
func TestFailedNewScorerLeavesTheRegistryFree(t *testing.T) {
	f := newFixture(t, 1)
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	reg := prometheus.NewRegistry()
	cfg := Config{Topics: []string{"bench"}, Group: "g", DeadLetterTopic: "dlq"}
	deps := Deps{Decoder: f.dec, Outputs: f.outputs, Model: f.model(t, "1", smallModel(), 500), Registry: reg,
		KafkaOpts: []kgo.Opt{kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.MaxProduceRequestsInflightPerBroker(5)}}
	if _, err := NewScorer(cfg, deps); err == nil || !strings.Contains(err.Error(), "kafka client") {
		t.Fatalf("NewScorer with options kgo refuses: %v, want a kafka client error", err)
	}
	deps.KafkaOpts = []kgo.Opt{kgo.SeedBrokers(cluster.ListenAddrs()...)}
	s, err := NewScorer(cfg, deps)
	if err != nil {
		t.Fatalf("NewScorer again on the same registry: %v", err)
	}
	t.Cleanup(s.client.Close)
}
