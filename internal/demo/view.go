package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/serde"
)

// view consumes the scorers' outputs, dead letters and the sensor
// scorer's monitoring windows, and prints a line of progress a second, now
// and then an enriched record, every monitoring window, and what the loop
// does (loopWatch).
type view struct {
	client   *kgo.Client
	registry *srclient.SchemaRegistryClient
	outputs  []string
	monitor  string
	loop     *loopWatch
	out      io.Writer

	// counts come from the scorer's own metrics, which are exact; the
	// consumer above only samples records and measures latency.
	metrics []gatherer

	start     time.Time
	latencies []time.Duration // since the last progress line
	lastIn    float64
	explained map[string]bool
	until     func(Totals) bool        // Config.Until
	codecs    map[uint32]*goavro.Codec // by schema id (decode)
}

// errEnough ends the view, and so the demo, when Config.Until says so.
var errEnough = errors.New("the demo has shown enough")

// gatherer is where the view reads a scorer's counts.
type gatherer = prometheus.Gatherer

// viewDeps are what the view reads and where it writes.
type viewDeps struct {
	brokers  []string
	registry *srclient.SchemaRegistryClient
	scorers  []gatherer
	outputs  []string
	dlq      string
	monitor  string
	loop     *loopWatch
	out      io.Writer
}

func newView(d viewDeps) (*view, error) {
	topics := append(slices.Clone(d.outputs), d.dlq, d.monitor)
	client, err := kgo.NewClient(kgo.SeedBrokers(d.brokers...), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
	if err != nil {
		return nil, fmt.Errorf("view: %w", err)
	}
	return &view{client: client, registry: d.registry, metrics: d.scorers, outputs: d.outputs, monitor: d.monitor,
		loop: d.loop, out: d.out, explained: map[string]bool{}, codecs: map[uint32]*goavro.Codec{}}, nil
}

func (v *view) run(ctx context.Context) error {
	v.start = time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	// The first record of each output is shown at once, so every stream
	// appears however briefly the demo runs; then one every 3 s.
	shown := map[string]bool{}
	showNext := false
	for {
		pollCtx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		fetches := v.client.PollFetches(pollCtx)
		cancel()
		now := time.Now()
		fetches.EachRecord(func(r *kgo.Record) {
			if r.Topic == v.monitor {
				v.window(r)
				return
			}
			v.latencies = append(v.latencies, now.Sub(r.Timestamp))
			if slices.Contains(v.outputs, r.Topic) {
				if showNext || !shown[r.Topic] {
					v.show(r)
					shown[r.Topic], showNext = true, false
				}
				return
			}
			class := header(r, deadletter.HeaderErrorClass)
			if !v.explained[class] {
				v.explained[class] = true
				fmt.Fprintf(v.out, "  dead letter  %-14s %s\n", class, header(r, deadletter.HeaderErrorReason))
			}
		})
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			v.loop.poll(v.out, v.start)
			c := v.progress()
			if v.until != nil && v.until(c) {
				return errEnough
			}
			showNext = int(time.Since(v.start).Seconds())%3 == 0
		default:
		}
	}
}

// progress prints one line: records in and out, the rate, dead letters and
// end-to-end latency over the last second; and returns the totals.
func (v *view) progress() Totals {
	c := v.counts()
	rate := c.In - v.lastIn
	v.lastIn = c.In
	p50, p99 := percentile(v.latencies, 0.50), percentile(v.latencies, 0.99)
	v.latencies = v.latencies[:0]
	fmt.Fprintf(v.out, "%5.0fs  in %8.0f (%5.0f/s)  out %8.0f  dlq %5.0f  latency p50 %6s p99 %6s\n",
		time.Since(v.start).Seconds(), c.In, rate, c.Out, c.DeadLettered,
		p50.Round(100*time.Microsecond), p99.Round(100*time.Microsecond))
	return c
}

// Totals are the scorers' counts, from their own metrics, and what the
// closed loop has done.
type Totals struct {
	In, Out, DeadLettered float64
	// OutByTopic is the records scored by input topic.
	OutByTopic map[string]float64
	// ByReason is the records dead-lettered by class.
	ByReason map[string]float64
	// Loop is what the sensor stream's closed loop has done; its maps
	// are the view's own, to be read and not kept.
	Loop Loop
}

func (v *view) counts() Totals {
	c := Totals{OutByTopic: map[string]float64{}, ByReason: map[string]float64{}, Loop: v.loop.state}
	for _, g := range v.metrics {
		families, err := g.Gather()
		if err != nil {
			continue
		}
		c.add(families)
	}
	return c
}

func (c *Totals) add(families []*dto.MetricFamily) {
	for _, f := range families {
		for _, m := range f.GetMetric() {
			value := m.GetCounter().GetValue()
			switch f.GetName() {
			case "streamscore_records_in_total":
				c.In += value
			case "streamscore_records_out_total":
				c.Out += value
				c.OutByTopic[label(m, "topic")] += value
			case "streamscore_records_dead_lettered_total":
				c.DeadLettered += value
				c.ByReason[label(m, "reason")] += value
			}
		}
	}
}

// label is the value of a metric's label.
func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// show prints one enriched record: a few input fields and the prediction.
func (v *view) show(r *kgo.Record) {
	native, err := v.decode(r.Value)
	if err != nil {
		fmt.Fprintf(v.out, "  (cannot decode an output: %v)\n", err)
		return
	}
	// Read with checks: the demo's models are classifiers, but a model
	// swapped in by hand may not be, and the view must not panic on it.
	pred, _ := native["prediction"].(map[string]any)
	nullableLabel, _ := pred["label"].(map[string]any)
	label := nullableLabel["string"]
	scores, _ := pred["scores"].(map[string]any)
	source := header(r, deadletter.HeaderSourceTopic) + "/" + header(r, deadletter.HeaderSourcePartition) + "@" + header(r, deadletter.HeaderSourceOffset)
	if text, ok := native["text"].(string); ok {
		if len(text) > 48 {
			text = text[:45] + "..."
		}
		fmt.Fprintf(v.out, "  scored  %s %q -> %v (spam %.3f) by %v@%v, from %s\n",
			native["id"], text, label, scores["spam"], pred["model_name"], pred["model_version"], source)
		return
	}
	// The sensor model's classes are "false" and "true": value is the
	// score of the positive (last) one.
	anomaly := optFloat(pred["value"])
	fmt.Fprintf(v.out, "  scored  %s temperature=%.1f humidity=%.1f vibration=%.2f -> anomaly %v (score %s) by %v@%v, from %s\n",
		native["device_id"], native["temperature"], native["humidity"], native["vibration"],
		label, orDash(anomaly), pred["model_name"], pred["model_version"], source)
}

// decode decodes a framed record with its writer schema, compiled once per
// schema id.
func (v *view) decode(value []byte) (map[string]any, error) {
	id, body, err := serde.ParseFrame(value)
	if err != nil {
		return nil, err
	}
	codec, ok := v.codecs[id]
	if !ok {
		s, err := v.registry.GetSchema(int(id))
		if err != nil {
			return nil, err
		}
		if codec, err = goavro.NewCodec(s.Schema()); err != nil {
			return nil, err
		}
		v.codecs[id] = codec
	}
	native, _, err := codec.NativeFromBinary(body)
	if err != nil {
		return nil, err
	}
	rec, ok := native.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a %T, not a record", native)
	}
	return rec, nil
}

func (v *view) summary(prod *producer) {
	c := v.counts()
	fmt.Fprintf(v.out, "\nstopped: produced %d; the scorers consumed %.0f, scored %.0f (%s), dead-lettered %.0f (%s).\n",
		prod.acked.Load(), c.In, c.Out, byKey(c.OutByTopic), c.DeadLettered, byKey(c.ByReason))
	v.loop.summary(v.out, prod, v.start)
	fmt.Fprintln(v.out, "Offsets are committed and the data kept: the next run resumes where this one stopped.")
}

// byKey lists counts by key, in key order: "bad_magic 288, oversize 288".
func byKey(counts map[string]float64) string {
	keys := slices.Sorted(maps.Keys(counts))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %.0f", k, counts[k])
	}
	return strings.Join(parts, ", ")
}

func (v *view) close() { v.client.Close() }

func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
