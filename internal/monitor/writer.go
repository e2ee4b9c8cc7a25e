package monitor

import (
	"context"
	"errors"
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
	// FailBehind: the writer was still busy with earlier windows (a slow
	// registry or broker), and the window was dropped rather than wait.
	FailBehind = "behind"
)

// writeQueue is how many closed windows may wait for the writer: far more
// than close at once (a few per topic and version), so only a writer stuck
// on a slow registry or broker drops any.
const writeQueue = 1024

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
// written by a goroutine of the Writer's own (Write only queues, so the
// scoring stages that close windows never wait on the registry or the
// broker), produced outside the input's commits, a failure counted and
// logged. It is safe for concurrent use.
type Writer struct {
	topic    string
	client   *kgo.Client
	registry SchemaRegistry
	codec    *goavro.Codec
	gauges   *gauges
	logger   *slog.Logger
	lastWarn atomic.Int64

	queue   chan Window
	done    chan struct{} // closed when the writing goroutine ends
	stop    chan struct{} // closed when Close gives up waiting for it
	closeMu sync.RWMutex  // Write holds it to send, Close to close queue
	closed  bool

	ids map[string]uint32 // subject -> the monitor schema's id there; the writing goroutine's
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
	w := &Writer{
		topic: deps.Topic, client: deps.Client, registry: deps.Registry, codec: codec,
		gauges: g, logger: deps.Logger, ids: map[string]uint32{},
		queue: make(chan Window, writeQueue), done: make(chan struct{}), stop: make(chan struct{}),
	}
	go w.run()
	return w, nil
}

// TopicFor is the monitor topic of an input topic.
func (w *Writer) TopicFor(input string) string { return TopicFor(w.topic, input) }

// TopicFor expands a monitor topic template for an input topic.
func TopicFor(template, input string) string {
	return strings.ReplaceAll(template, "{topic}", input)
}

// Write sets the gauges of a closed window and queues its record, without
// waiting: a record the writer has no room for is dropped and counted
// (FailBehind), as is one written after Close. The gauges are set here,
// by the caller, so that they follow the windows in the order they close
// (and Idle after them), whatever the writer's backlog.
func (w *Writer) Write(win Window) {
	w.gauges.observe(win)
	w.closeMu.RLock()
	defer w.closeMu.RUnlock()
	if w.closed {
		w.fail(FailBehind, w.TopicFor(win.Topic), errors.New("the writer is closed"))
		return
	}
	select {
	case w.queue <- win:
	default:
		w.fail(FailBehind, w.TopicFor(win.Topic), errors.New("earlier windows are still being written"))
	}
}

// run writes the queued windows until Close; after Close has given up
// waiting, what is left is counted and dropped without writing.
func (w *Writer) run() {
	defer close(w.done)
	for win := range w.queue {
		select {
		case <-w.stop:
			w.fail(FailBehind, w.TopicFor(win.Topic), errors.New("the writer was closed before the window was written"))
		default:
			w.write(win)
		}
	}
}

// write produces a closed window's record.
func (w *Writer) write(win Window) {
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

// Idle deletes the drift series of a version's window that saw no rows in
// its span (an idle topic, a version swapped out): a gauge that kept the
// last window's figure would keep an alert on drift firing on data that
// is no longer there.
func (w *Writer) Idle(topic, model, version, role string) {
	w.gauges.mu.Lock()
	defer w.gauges.mu.Unlock()
	w.gauges.forget(KindDrift, prometheus.Labels{"topic": topic, "model": model, "version": version, "role": role})
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

// Close writes the windows queued, waits up to timeout for the records in
// flight, and closes the producer. Windows written after it are dropped.
func (w *Writer) Close(timeout time.Duration) {
	w.closeMu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.closeMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	select {
	case <-w.done:
	case <-ctx.Done():
		close(w.stop)
		w.logger.Warn("monitor windows not written before the drain timeout")
	}
	if err := w.client.Flush(ctx); err != nil {
		w.logger.Warn("monitor records not acknowledged before the drain timeout", "err", err)
	}
	w.client.Close()
}
