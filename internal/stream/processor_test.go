package stream

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/streamscore/streamscore/internal/drift"
	"github.com/streamscore/streamscore/internal/testkit/ortkit"

	"github.com/linkedin/goavro/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/registry"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/internal/train"
	"github.com/streamscore/streamscore/schemas"
)

func TestMain(m *testing.M) { os.Exit(ortkit.Main(m)) }

// BenchmarkProcess measures the scorer's work per record without Kafka:
// frame and schema lookup (cached), Avro decoding, feature mapping, the
// ONNX Runtime run of a 100-tree depth-6 ensemble in batches of 128, and
// the output encoding, through both pipeline stages; with the model's
// margin in the output, and without.
//
// The monitor case adds live drift profiles against the model's reference
// (monitoring.go), as a scorer runs by default: its cost is the difference
// from no-margin.
func BenchmarkProcess(b *testing.B) {
	for _, c := range []struct {
		name            string
		margin, monitor bool
	}{{"no-margin", false, false}, {"margin", true, false}, {"monitor", false, true}} {
		b.Run(c.name, func(b *testing.B) {
			benchmarkProcess(b, c.margin, c.monitor)
		})
	}
}

func benchmarkProcess(b *testing.B, margin, monitor bool) {
	emitted := 0
	p, records := benchProcessor(b, 4096, margin, sinkFunc(func(result) { emitted++ }))
	if monitor {
		ref := referenceOf(b, p.cur.model, records)
		p.monitor = newMonitoring(Monitoring{Writer: &windowLog{}, Reference: func(model.Spec) *drift.Profile { return ref }})
	}
	ctx := context.Background()
	go p.scoreJobs()
	defer p.close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := p.add(ctx, records[i%len(records)], nil); err != nil {
			b.Fatal(err)
		}
	}
	p.flush()
	if err := p.idle(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if emitted != b.N {
		b.Fatalf("emitted %d results for %d records", emitted, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// benchProcessor builds a processor over the project's registry (served
// over HTTP) and a trained sensor model, whose spec declares its margin
// output if margin, and frames n sample readings.
func benchProcessor(tb testing.TB, n int, margin bool, sink resultSink) (*processor, []*kgo.Record) {
	tb.Helper()
	f := newFixture(tb, n)
	spec := sample.SensorSpec("bench", "1")
	if margin {
		spec.Outputs.Margin = train.OutputMargin
	}
	onnxBytes, err := sample.SensorModel(context.Background(), spec, train.DefaultConfig(), 5000)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := model.Load(onnxBytes, model.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return f.processor(Config{}, m, sink), f.records
}

// fixture is a registry served over HTTP with the sensor schema, a decoder
// and output encoder over it, and framed sample readings.
type fixture struct {
	client  *srclient.SchemaRegistryClient
	dec     *serde.Decoder
	outputs *serde.OutputEncoder
	records []*kgo.Record
	metrics *metrics
}

// newFixture registers the sensor schema and frames n readings, spread
// over three partitions of topic "bench".
func newFixture(tb testing.TB, n int) *fixture {
	tb.Helper()
	reg, err := registry.New(registry.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	server := httptest.NewServer(reg.Handler())
	tb.Cleanup(server.Close)
	client := srclient.NewSchemaRegistryClient(server.URL)
	schema, err := client.CreateSchema("bench-value", schemas.SensorReading, srclient.Avro)
	if err != nil {
		tb.Fatal(err)
	}
	met, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		tb.Fatal(err)
	}
	f := &fixture{client: client, metrics: met}
	if f.dec, err = serde.NewDecoder(client, serde.DecoderConfig{}); err != nil {
		tb.Fatal(err)
	}
	if f.outputs, err = serde.NewOutputEncoder(client, serde.OutputEncoderConfig{}); err != nil {
		tb.Fatal(err)
	}
	codec, err := goavro.NewCodec(schemas.SensorReading)
	if err != nil {
		tb.Fatal(err)
	}
	gen := sample.NewSensors(1, 100, 0.05)
	f.records = make([]*kgo.Record, n)
	for i := range f.records {
		rec, _ := gen.Next()
		value := serde.AppendFrame(nil, uint32(schema.ID()))
		if value, err = codec.BinaryFromNative(value, rec); err != nil {
			tb.Fatal(err)
		}
		f.records[i] = &kgo.Record{Topic: "bench", Partition: int32(i % 3), Offset: int64(i / 3), Value: value}
	}
	return f
}

// model trains a sensor model of the given version and loads it; the
// test closes it at the end if the processor has not.
func (f *fixture) model(tb testing.TB, version string, cfg train.Config, rows int) *model.Model {
	tb.Helper()
	onnxBytes, err := sample.SensorModel(context.Background(), sample.SensorSpec("bench", version), cfg, rows)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := model.Load(onnxBytes, model.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

// processor builds a processor over the fixture, sending its results to
// sink; cfg's zero fields take the test defaults (topic "bench", dead
// letters to "dlq").
func (f *fixture) processor(cfg Config, m *model.Model, sink resultSink) *processor {
	cfg.Topics, cfg.Group, cfg.DeadLetterTopic = []string{"bench"}, "g", "dlq"
	return newProcessor(cfg.WithDefaults(), f.dec, f.outputs, m, sink, f.metrics, slog.New(slog.DiscardHandler))
}

// sinkFunc makes a function the processor's sink.
type sinkFunc func(result)

func (f sinkFunc) send(r result) { f(r) }
