package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/internal/testkit/stackkit"
)

// stack is a test's embedded broker and registry, with a topic of
// labelled sensor readings.
type stack struct {
	t *testing.T
	s *stackkit.Stack
	// client spreads the records it writes over the partitions.
	client   *kgo.Client
	history  stackkit.Schema
	decoder  *serde.Decoder
	registry *srclient.SchemaRegistryClient
}

func newStack(t *testing.T) *stack {
	t.Helper()
	s := stackkit.Start(t, embedded.Config{Partitions: 3})
	dec, err := serde.NewDecoder(s.Registry(), serde.DecoderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return &stack{
		t: t, s: s, client: s.Client(t, kgo.RecordPartitioner(kgo.RoundRobinPartitioner())),
		history: s.Register(t, "history-value", labelledSensorSchema(t)), decoder: dec, registry: s.Registry(),
	}
}

// topic registers schema as topic's value schema, to produce records of it
// with produceTo.
func (s *stack) topic(topic, schema string) topicSchema {
	s.t.Helper()
	return topicSchema{topic: topic, schema: s.s.Register(s.t, topic+"-value", schema)}
}

// topicSchema is a topic and the schema its records are written with.
type topicSchema struct {
	topic  string
	schema stackkit.Schema
}

// produceTo writes records of ts's schema, each stamped with its "ts",
// spread over the partitions.
func (s *stack) produceTo(ts topicSchema, rows []map[string]any) {
	s.t.Helper()
	stackkit.ProduceSync(s.t, s.client, stackkit.Records(s.t, ts.topic, ts.schema, rows)...)
}

func (s *stack) kafkaOpts() []kgo.Opt { return s.s.KafkaOpts() }

// produce writes rows to topic, each with the timestamp of its "ts" field,
// spread over the partitions; a nil row is written as a value that is not
// Confluent-framed.
func (s *stack) produce(topic string, rows []map[string]any) {
	s.t.Helper()
	records := make([]*kgo.Record, len(rows))
	for i, row := range rows {
		if row == nil {
			records[i] = &kgo.Record{Topic: topic, Value: []byte("not avro"), Timestamp: time.Now()}
			continue
		}
		records[i] = stackkit.Records(s.t, topic, s.history, rows[i:i+1])[0]
	}
	stackkit.ProduceSync(s.t, s.client, records...)
}

// catalog opens the model catalog on the stack.
func (s *stack) catalog() *catalog.Catalog {
	s.t.Helper()
	c, err := catalog.New(s.kafkaOpts(), "", nil)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.EnsureTopic(ctx); err != nil {
		s.t.Fatal(err)
	}
	if err := c.Sync(ctx); err != nil {
		s.t.Fatal(err)
	}
	return c
}

// runner is a runner that checks jobs against the stack's registry.
func (s *stack) runner(c *catalog.Catalog) *jobs.Runner {
	return &jobs.Runner{KafkaOpts: s.kafkaOpts(), Decoder: s.decoder, Schemas: jobs.RegistrySchemas{Registry: s.registry}, Catalog: c}
}
