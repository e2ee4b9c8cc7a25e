package scorer_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/testkit/ortkit"
	"github.com/streamscore/streamscore/internal/testkit/stackkit"

	"github.com/linkedin/goavro/v2"
	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/connect"
	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/scorer"
	"github.com/streamscore/streamscore/internal/train"
	"github.com/streamscore/streamscore/schemas"
)

func TestMain(m *testing.M) { os.Exit(ortkit.Main(m)) }

// env is one test's embedded stack, registry client and model file.
type env struct {
	t         *testing.T
	stack     *stackkit.Stack
	registry  *srclient.SchemaRegistryClient
	modelPath string
	client    *kgo.Client
}

// newEnv starts a broker and registry in memory and writes the shared
// sample sensor model (sensorModel) to a file of the test's own.
func newEnv(t *testing.T, topic string) *env {
	t.Helper()
	return newEnvWith(t, embedded.Config{Partitions: 3})
}

// newEnvWith is newEnv on a stack configured by cfg.
func newEnvWith(t *testing.T, cfg embedded.Config) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: a scorer end to end over an embedded stack; `make test` runs it")
	}
	stack := stackkit.Start(t, cfg)
	e := &env{t: t, stack: stack, registry: stack.Registry(), client: stack.Client(t)}
	e.modelPath = filepath.Join(t.TempDir(), "sensor.onnx")
	if err := os.WriteFile(e.modelPath, sensorModel(t), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// sensorModel returns the sample sensor model most tests score with
// (sensor-anomaly version 7, 20 trees of depth 4 fitted on 4,000 readings),
// trained once per test process: training is deterministic, so every test
// would train the same bytes. Tests that need another model train their
// own.
var sensorModel = func() func(t testing.TB) []byte {
	var (
		once      sync.Once
		onnxBytes []byte
		err       error
	)
	return func(t testing.TB) []byte {
		t.Helper()
		once.Do(func() {
			cfg := train.DefaultConfig()
			cfg.MaxIter, cfg.MaxDepth = 20, 4
			onnxBytes, err = sample.SensorModel(context.Background(), sample.SensorSpec("sensor-anomaly", "7"), cfg, 4000)
		})
		if err != nil {
			t.Fatalf("train the sample sensor model: %v", err)
		}
		return onnxBytes
	}
}()

// register registers schema text under subject and returns its id and codec.
func (e *env) register(subject, text string) (uint32, *goavro.Codec) {
	e.t.Helper()
	sch := e.stack.Register(e.t, subject, text)
	return sch.ID, sch.Codec
}

// frame encodes a native record in the Confluent wire format.
func frame(t *testing.T, id uint32, codec *goavro.Codec, native map[string]any) []byte {
	t.Helper()
	return stackkit.Schema{ID: id, Codec: codec}.Frame(t, native)
}

// produce writes records synchronously and returns them with their offsets.
func (e *env) produce(records ...*kgo.Record) []*kgo.Record {
	e.t.Helper()
	stackkit.ProduceSync(e.t, e.client, records...)
	return records
}

// config is a scorer configuration pointed at the test's stack.
func (e *env) config(topic string) scorer.Config {
	cfg := scorer.DefaultConfig()
	cfg.Kafka.Brokers = e.stack.Brokers()
	cfg.Registry.URL = e.stack.RegistryURL()
	cfg.Stream.Topics = []string{topic}
	cfg.Stream.Group = "scorer-" + topic
	cfg.Stream.DeadLetterTopic = topic + ".dlq"
	cfg.Model.Path = e.modelPath
	cfg.HTTPAddr = "127.0.0.1:0"
	return cfg
}

// start runs a scorer until the test ends; the returned function stops it
// and returns Run's error.
func (e *env) start(cfg scorer.Config) (*scorer.Service, func() error) {
	e.t.Helper()
	svc, err := scorer.New(cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		e.t.Fatalf("scorer.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	stopped := false
	var runErr error
	stop := func() error {
		if !stopped {
			cancel()
			runErr, stopped = <-done, true
		}
		return runErr
	}
	e.t.Cleanup(func() { stop() })
	return svc, stop
}

// consumeUntil reads topics from the start until want records arrived or
// the deadline passes.
func (e *env) consumeUntil(want int, topics ...string) []*kgo.Record {
	e.t.Helper()
	return e.consumeUntilWith(nil, want, topics...)
}

// consumeCommitted is consumeUntil for a read_committed consumer: it sees
// only results of committed transactions.
func (e *env) consumeCommitted(want int, topics ...string) []*kgo.Record {
	e.t.Helper()
	return e.consumeUntilWith([]kgo.Opt{kgo.FetchIsolationLevel(kgo.ReadCommitted())}, want, topics...)
}

func (e *env) consumeUntilWith(opts []kgo.Opt, want int, topics ...string) []*kgo.Record {
	e.t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(e.stack.Brokers()...), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got []*kgo.Record
	for len(got) < want {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			e.t.Fatalf("consumed %d of %d records from %v before the deadline", len(got), want, topics)
		}
		got = append(got, fetches.Records()...)
	}
	return got
}

// header returns a record header's value.
func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// sourceOf returns the input coordinates a result names.
func sourceOf(r *kgo.Record) string {
	return header(r, deadletter.HeaderSourceTopic) + "/" + header(r, deadletter.HeaderSourcePartition) + "@" + header(r, deadletter.HeaderSourceOffset)
}

func coordinates(r *kgo.Record) string {
	return r.Topic + "/" + strconv.Itoa(int(r.Partition)) + "@" + strconv.FormatInt(r.Offset, 10)
}

// sensorSchema is the sensor reading schema.
var sensorSchema = schemas.SensorReading

// endOffsets returns each partition's high watermark.
func (e *env) endOffsets(topic string) map[int32]int64 {
	e.t.Helper()
	adm := kadm.NewClient(e.client)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			out[o.Partition] = o.Offset
		}
	})
	return out
}

// committed returns a group's committed offsets of a topic, by partition.
func (e *env) committed(group, topic string) map[int32]int64 {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offsets, err := kadm.NewClient(e.client).FetchOffsets(ctx, group)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[int32]int64{}
	offsets.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil {
			out[o.Partition] = o.At
		}
	})
	return out
}

func mustCodec(t *testing.T, schema string) *goavro.Codec {
	t.Helper()
	codec, err := goavro.NewCodec(schema)
	if err != nil {
		t.Fatal(err)
	}
	return codec
}

// trainSmallModel writes a small sensor model to a temporary file.
func trainSmallModel(t *testing.T) string {
	t.Helper()
	cfg := train.DefaultConfig()
	cfg.MaxIter, cfg.MaxDepth = 10, 3
	onnxBytes, err := sample.SensorModel(context.Background(), sample.SensorSpec("sensor-anomaly", "7"), cfg, 2000)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sensor.onnx")
	if err := os.WriteFile(path, onnxBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func connectSASL(mechanism, user, pass string) connect.SASL {
	return connect.SASL{Mechanism: mechanism, Username: user, Password: pass}
}
