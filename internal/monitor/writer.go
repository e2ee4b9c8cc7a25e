package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/schemas"
)

// DefaultTopic is the monitor topic of an input topic unless configured.
const DefaultTopic = "{topic}.monitor"

// Failure reasons of streamscore_monitor_failures_total.
const (
	FailEncode   = "encode"
	FailRegistry = "registry"
	FailProduce  = "produce"
)

// SchemaRegistry registers the monitor schema; *srclient.SchemaRegistryClient
// is the one in use.
type SchemaRegistry interface {
	CreateSchema(subject, schema string, schemaType srclient.SchemaType, references ...srclient.Reference) (*srclient.Schema, error)
}

// WriterDeps are what a Writer is built from.
type WriterDeps struct {
	// Topic is the monitor topic, "{topic}" standing for the input topic
	// (DefaultTopic when empty).
	Topic    string
	Client   *kgo.Client // produces the records; the Writer closes it
	Registry SchemaRegistry
	Metrics  prometheus.Registerer
	Logger   *slog.Logger
}

// Writer writes closed windows: one Avro record each to the monitor topic,
// and the gauges. Monitor records are best effort, like shadow results:
// produced without waiting and outside the input's commits, a failure
// counted and logged, never holding up the stream. It is safe for
// concurrent use.
type Writer struct {
	topic    string
	client   *kgo.Client
	registry SchemaRegistry
	codec    *goavro.Codec
	gauges   *gauges
	logger   *slog.Logger
	lastWarn atomic.Int64

	mu  sync.Mutex
	ids map[string]uint32 // subject -> the monitor schema's id there
}

// NewWriter builds a Writer and registers its gauges.
func NewWriter(deps WriterDeps) (*Writer, error) {
	codec, err := newCodec()
	if err != nil {
		return nil, err
	}
	if deps.Metrics == nil {
		deps.Metrics = prometheus.NewRegistry()
	}
	g, err := newGauges(deps.Metrics)
	if err != nil {
		return nil, err
	}
	if deps.Topic == "" {
		deps.Topic = DefaultTopic
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	return &Writer{
		topic: deps.Topic, client: deps.Client, registry: deps.Registry, codec: codec,
		gauges: g, logger: deps.Logger, ids: map[string]uint32{},
	}, nil
}

// TopicFor is the monitor topic of an input topic.
func (w *Writer) TopicFor(input string) string { return TopicFor(w.topic, input) }

// TopicFor expands a monitor topic template for an input topic.
func TopicFor(template, input string) string {
	return strings.ReplaceAll(template, "{topic}", input)
}

// Write sets the gauges of a closed window and produces its record.
func (w *Writer) Write(win Window) {
	w.gauges.observe(win)
	topic := w.TopicFor(win.Topic)
	id, err := w.schemaID(topic + "-value")
	if err != nil {
		w.fail(FailRegistry, topic, err)
		return
	}
	value, err := w.codec.BinaryFromNative(serde.AppendFrame(nil, id), win.native())
	if err != nil {
		w.fail(FailEncode, topic, err)
		return
	}
	rec := &kgo.Record{
		Topic: topic,
		// Keyed by what the window is of, so a window written twice (by
		// two replicas, or again after a restart) has one key.
		Key:       fmt.Appendf(nil, "%s/%s/%s/%s/%d", win.Kind, win.Model, win.Version, win.Role, win.Start.UnixMilli()),
		Value:     value,
		Timestamp: win.End,
	}
	w.client.TryProduce(context.Background(), rec, func(r *kgo.Record, err error) {
		if err != nil {
			w.fail(FailProduce, r.Topic, err)
		}
	})
	w.logger.Info("monitoring window", win.logAttrs()...)
}

// Labels counts labels read from a topic's labels, by outcome.
func (w *Writer) Labels(topic, outcome string, n int64) {
	if n > 0 {
		w.gauges.labels.WithLabelValues(topic, outcome).Add(float64(n))
	}
}

// schemaID registers the monitor schema under subject once, and again
// after a failure.
func (w *Writer) schemaID(subject string) (uint32, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if id, ok := w.ids[subject]; ok {
		return id, nil
	}
	s, err := w.registry.CreateSchema(subject, schemas.Monitor, srclient.Avro)
	if err != nil {
		return 0, fmt.Errorf("register %s: %w", subject, err)
	}
	w.ids[subject] = uint32(s.ID())
	return uint32(s.ID()), nil
}

func (w *Writer) fail(reason, topic string, err error) {
	w.gauges.failures.WithLabelValues(reason).Inc()
	now := time.Now().UnixNano()
	if last := w.lastWarn.Load(); now-last > int64(10*time.Second) && w.lastWarn.CompareAndSwap(last, now) {
		w.logger.Warn("monitor record not written; the stream goes on", "topic", topic, "reason", reason, "err", err)
	}
}

// Close waits up to timeout for the records in flight and closes the
// producer.
func (w *Writer) Close(timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := w.client.Flush(ctx); err != nil {
		w.logger.Warn("monitor records not acknowledged before the drain timeout", "err", err)
	}
	w.client.Close()
}
