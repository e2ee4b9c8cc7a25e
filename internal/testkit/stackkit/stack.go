// Package stackkit gives a test the embedded broker and schema registry and
// writes Confluent-framed Avro rows to it, so that every package sets up
// and feeds a stack the same way. It stands apart from testkit because it
// imports the embedded stack and serde, whose own tests import testkit. It
// is imported by tests only.
package stackkit

import (
	"context"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/serde"
)

// produceLimit bounds one synchronous produce: an embedded broker
// acknowledges in milliseconds, so reaching it means the broker is gone.
const produceLimit = 30 * time.Second

// Stack is a test's in-memory broker and registry. Its embedded.Stack
// methods (Brokers, RegistryURL, Cluster) are promoted; it is closed when
// the test ends.
type Stack struct {
	*embedded.Stack
	registry *srclient.SchemaRegistryClient
	producer *kgo.Client
}

// Start starts a stack configured by cfg, closed when the test ends.
func Start(t testing.TB, cfg embedded.Config) *Stack {
	t.Helper()
	s, err := embedded.Start(cfg)
	if err != nil {
		t.Fatalf("start the embedded stack: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	registry := srclient.NewSchemaRegistryClient(s.RegistryURL())
	registry.CodecCreationEnabled(false)
	stack := &Stack{Stack: s, registry: registry}
	stack.producer = stack.Client(t)
	return stack
}

// KafkaOpts are the client options that reach the broker.
func (s *Stack) KafkaOpts() []kgo.Opt { return []kgo.Opt{kgo.SeedBrokers(s.Brokers()...)} }

// Registry is a client of the stack's registry, shared by the test, that
// leaves codecs to the caller.
func (s *Stack) Registry() *srclient.SchemaRegistryClient { return s.registry }

// Client is a client of the broker that creates the topics it writes to,
// with opts after the kit's; it is closed when the test ends.
func (s *Stack) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	all := append(s.KafkaOpts(), kgo.AllowAutoTopicCreation())
	client, err := kgo.NewClient(append(all, opts...)...)
	if err != nil {
		t.Fatalf("kafka client: %v", err)
	}
	t.Cleanup(client.Close)
	return client
}

// Register registers schema under subject in the stack's registry.
func (s *Stack) Register(t testing.TB, subject, schema string) Schema {
	t.Helper()
	return Register(t, s.registry, subject, schema)
}

// Produce writes rows to topic as records of sch (see Records), through a
// client of the stack's own, and returns them once the broker has
// acknowledged every one.
func (s *Stack) Produce(t testing.TB, topic string, sch Schema, rows []map[string]any) []*kgo.Record {
	t.Helper()
	records := Records(t, topic, sch, rows)
	s.ProduceRecords(t, records...)
	return records
}

// ProduceRecords writes records through the stack's own client and
// returns when the broker has acknowledged every one.
func (s *Stack) ProduceRecords(t testing.TB, records ...*kgo.Record) {
	t.Helper()
	ProduceSync(t, s.producer, records...)
}

// Registrar is the one registry call Register makes; srclient's client and
// a client with credentials both have it.
type Registrar interface {
	CreateSchema(subject, schema string, schemaType srclient.SchemaType, references ...srclient.Reference) (*srclient.Schema, error)
}

// Schema is a registered Avro schema: its id, framed into each value, and
// the codec that writes its bodies.
type Schema struct {
	ID    uint32
	Codec *goavro.Codec
}

// Register registers the Avro schema under subject in registry.
func Register(t testing.TB, registry Registrar, subject, schema string) Schema {
	t.Helper()
	registered, err := registry.CreateSchema(subject, schema, srclient.Avro)
	if err != nil {
		t.Fatalf("register %s: %v", subject, err)
	}
	codec, err := goavro.NewCodec(schema)
	if err != nil {
		t.Fatalf("codec of %s: %v", subject, err)
	}
	return Schema{ID: uint32(registered.ID()), Codec: codec}
}

// Frame encodes a native record in the Confluent wire format.
func (sch Schema) Frame(t testing.TB, native map[string]any) []byte {
	t.Helper()
	value, err := sch.Codec.BinaryFromNative(serde.AppendFrame(nil, sch.ID), native)
	if err != nil {
		t.Fatalf("encode a record of schema %d: %v", sch.ID, err)
	}
	return value
}

// Records frames each row as a record of topic, stamped with the row's
// "ts" when that is a time.Time (and left to the client to stamp when it
// is not).
func Records(t testing.TB, topic string, sch Schema, rows []map[string]any) []*kgo.Record {
	t.Helper()
	records := make([]*kgo.Record, len(rows))
	for i, row := range rows {
		ts, _ := row["ts"].(time.Time)
		records[i] = &kgo.Record{Topic: topic, Value: sch.Frame(t, row), Timestamp: ts}
	}
	return records
}

// ProduceSync writes records through client and returns when the broker
// has acknowledged all of them, failing the test on the first error.
func ProduceSync(t testing.TB, client *kgo.Client, records ...*kgo.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), produceLimit)
	defer cancel()
	if err := client.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatalf("produce %d records: %v", len(records), err)
	}
}
