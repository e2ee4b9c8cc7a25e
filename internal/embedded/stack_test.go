package embedded_test

import (
	"context"
	"testing"
	"time"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/schemas"
)

// TestRestartKeepsTopicsOffsetsAndSchemas stops the stack and starts it
// again on the same directory: records, committed offsets and schema ids
// must all still be there.
func TestRestartKeepsTopicsOffsetsAndSchemas(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	first, err := embedded.Start(embedded.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	schema, err := srclient.NewSchemaRegistryClient(first.RegistryURL()).CreateSchema("kept-value", schemas.SensorReading, srclient.Avro)
	if err != nil {
		t.Fatal(err)
	}
	cl := client(t, first, kgo.ConsumerGroup("keeper"), kgo.ConsumeTopics("kept"))
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 2, -1, nil, "kept"); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "kept", Value: []byte{byte(i)}}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	consumed := 0
	for consumed < 4 {
		consumed += len(cl.PollRecords(ctx, 4-consumed).Records())
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second, err := embedded.Start(embedded.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	got, err := srclient.NewSchemaRegistryClient(second.RegistryURL()).GetLatestSchema("kept-value")
	if err != nil || got.ID() != schema.ID() {
		t.Fatalf("schema after restart: %v, id %d; want id %d", err, idOf(got), schema.ID())
	}
	adm := kadm.NewClient(client(t, second))
	ends, err := adm.ListEndOffsets(ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != 10 {
		t.Fatalf("topic holds %d records after restart, want 10", total)
	}
	committed, err := adm.FetchOffsets(ctx, "keeper")
	if err != nil {
		t.Fatal(err)
	}
	sum := int64(0)
	committed.Each(func(o kadm.OffsetResponse) { sum += o.At })
	if sum != 4 {
		t.Fatalf("group keeper has %d records committed after restart, want 4", sum)
	}
}

func client(t *testing.T, s *embedded.Stack, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(s.Brokers()...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func idOf(s *srclient.Schema) int {
	if s == nil {
		return 0
	}
	return s.ID()
}
