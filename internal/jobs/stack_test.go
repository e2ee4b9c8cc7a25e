package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/serde"
)

// stack is a test's embedded broker and registry, with a topic of
// labelled sensor readings.
type stack struct {
	t        *testing.T
	s        *embedded.Stack
	client   *kgo.Client
	schema   uint32
	codec    *goavro.Codec
	decoder  *serde.Decoder
	registry *srclient.SchemaRegistryClient
}

func newStack(t *testing.T) *stack {
	t.Helper()
	s, err := embedded.Start(embedded.Config{Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	registry := srclient.NewSchemaRegistryClient(s.RegistryURL())
	registry.CodecCreationEnabled(false)
	text := labelledSensorSchema(t)
	sch, err := registry.CreateSchema("history-value", text, srclient.Avro)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := goavro.NewCodec(text)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := serde.NewDecoder(registry, serde.DecoderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	client, err := kgo.NewClient(kgo.SeedBrokers(s.Brokers()...), kgo.AllowAutoTopicCreation(), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	return &stack{t: t, s: s, client: client, schema: uint32(sch.ID()), codec: codec, decoder: dec, registry: registry}
}

// topic registers schema as topic's value schema, to produce records of it
// with produceTo.
func (s *stack) topic(topic, schema string) topicSchema {
	s.t.Helper()
	sch, err := s.registry.CreateSchema(topic+"-value", schema, srclient.Avro)
	if err != nil {
		s.t.Fatal(err)
	}
	codec, err := goavro.NewCodec(schema)
	if err != nil {
		s.t.Fatal(err)
	}
	return topicSchema{topic: topic, id: uint32(sch.ID()), codec: codec}
}

// topicSchema is a topic and the schema its records are written with.
type topicSchema struct {
	topic string
	id    uint32
	codec *goavro.Codec
}

// produceTo writes records of ts's schema, each stamped with its "ts".
func (s *stack) produceTo(ts topicSchema, rows []map[string]any) {
	s.t.Helper()
	records := make([]*kgo.Record, len(rows))
	for i, row := range rows {
		value, err := ts.codec.BinaryFromNative(serde.AppendFrame(nil, ts.id), row)
		if err != nil {
			s.t.Fatalf("row %d: %v", i, err)
		}
		records[i] = &kgo.Record{Topic: ts.topic, Value: value, Timestamp: row["ts"].(time.Time)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.client.ProduceSync(ctx, records...).FirstErr(); err != nil {
		s.t.Fatal(err)
	}
}

func (s *stack) kafkaOpts() []kgo.Opt { return []kgo.Opt{kgo.SeedBrokers(s.s.Brokers()...)} }

// produce writes rows to topic, each with the timestamp of its "ts" field,
// spread over the partitions; a nil row is written as a value that is not
// Confluent-framed.
func (s *stack) produce(topic string, rows []map[string]any) {
	s.t.Helper()
	records := make([]*kgo.Record, len(rows))
	for i, row := range rows {
		value := []byte("not avro")
		ts := time.Now()
		if row != nil {
			value = serde.AppendFrame(nil, s.schema)
			var err error
			if value, err = s.codec.BinaryFromNative(value, row); err != nil {
				s.t.Fatal(err)
			}
			ts = row["ts"].(time.Time)
		}
		records[i] = &kgo.Record{Topic: topic, Value: value, Timestamp: ts}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.client.ProduceSync(ctx, records...).FirstErr(); err != nil {
		s.t.Fatal(err)
	}
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
