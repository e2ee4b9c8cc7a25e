package stream

// Helpers for the tests that run one piece of the scorer against a kfake
// broker over TCP.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/testkit"
)

// newKafka starts a one-broker kfake cluster on a port of its own and
// returns it with the option that points a client at it.
func newKafka(t *testing.T, opts ...kfake.Opt) (*kfake.Cluster, kgo.Opt) {
	t.Helper()
	cluster, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	return cluster, kgo.SeedBrokers(cluster.ListenAddrs()...)
}

// newClient makes a client that is closed when the test ends.
func newClient(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// produce writes records and fails the test unless every one is
// acknowledged.
func produce(t *testing.T, cl *kgo.Client, rs ...*kgo.Record) {
	t.Helper()
	if err := cl.ProduceSync(context.Background(), rs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// reader consumes topics from their start, outside any group, and keeps
// every record it has seen.
type reader struct {
	cl  *kgo.Client
	got []*kgo.Record
}

func newReader(t *testing.T, seeds kgo.Opt, isolation kgo.IsolationLevel, topics ...string) *reader {
	t.Helper()
	return &reader{cl: newClient(t, seeds, kgo.ConsumeTopics(topics...), kgo.FetchIsolationLevel(isolation),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))}
}

// until polls until cond holds of the records seen so far, and returns
// them. A poll waits briefly so that the condition is checked often; the
// wait is on cond, never on the poll.
func (r *reader) until(t *testing.T, what string, cond func([]*kgo.Record) bool) []*kgo.Record {
	t.Helper()
	testkit.WaitFor(t, what, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		r.got = append(r.got, r.cl.PollFetches(ctx).Records()...)
		return cond(r.got)
	})
	return r.got
}

// committedOffsets returns a group's committed offsets by
// "topic/partition".
func committedOffsets(t *testing.T, admin *kadm.Client, group string) map[string]int64 {
	t.Helper()
	resps, err := admin.FetchOffsets(context.Background(), group)
	if err != nil {
		t.Fatalf("fetch offsets of %s: %v", group, err)
	}
	out := map[string]int64{}
	resps.Each(func(o kadm.OffsetResponse) {
		if o.Err != nil {
			t.Fatalf("offset of %s/%d: %v", o.Topic, o.Partition, o.Err)
		}
		out[fmt.Sprintf("%s/%d", o.Topic, o.Partition)] = o.At
	})
	return out
}

// sourceOf returns the input coordinates an output or dead letter names
// in its headers.
func sourceOf(r *kgo.Record) string {
	return header(r, deadletter.HeaderSourceTopic) + "/" + header(r, deadletter.HeaderSourcePartition) + "@" + header(r, deadletter.HeaderSourceOffset)
}

func gaugeValue(t *testing.T, g prometheus.Gauge) float64 {
	t.Helper()
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}

// testMetrics are the scorer's series on a registry of their own.
func testMetrics(t *testing.T) *metrics {
	t.Helper()
	met, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return met
}
