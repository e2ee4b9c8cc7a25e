package stream

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/linkedin/goavro/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/internal/train"
	"github.com/streamscore/streamscore/schemas"
)

// smallTrain is a quick training configuration; versions trained with
// different ones score differently.
func smallTrain(trees, depth int) train.Config {
	cfg := train.DefaultConfig()
	cfg.MaxIter, cfg.MaxDepth = trees, depth
	return cfg
}

// closeWatch records which models a processor closed, so a test can check
// that none is closed while a batch of it is being scored.
type closeWatch struct {
	mu     sync.Mutex
	closed map[*model.Model]int
}

func newCloseWatch() *closeWatch { return &closeWatch{closed: map[*model.Model]int{}} }

func (w *closeWatch) close(m *model.Model) {
	w.mu.Lock()
	w.closed[m]++
	w.mu.Unlock()
	m.Close()
}

func (w *closeWatch) times(m *model.Model) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed[m]
}

// emitted collects results from the scoring stage, checking as each
// arrives that the model that scored it is still open.
type emitted struct {
	mu      sync.Mutex
	results []result
	byName  map[string]*model.Model // header -> model
	watch   *closeWatch
	errs    []string
}

func (e *emitted) emit(r result) {
	version := header(r.out, deadletter.HeaderModel)
	if m := e.byName[version]; m != nil && e.watch.times(m) > 0 {
		e.mu.Lock()
		e.errs = append(e.errs, fmt.Sprintf("%s scored by %s after the model was closed", coords(r.source.Topic, r.source.Partition, r.source.Offset), version))
		e.mu.Unlock()
	}
	e.mu.Lock()
	e.results = append(e.results, r)
	e.mu.Unlock()
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

// predictionVersion decodes an output and returns the model version its
// prediction names.
func predictionVersion(t *testing.T, codec *goavro.Codec, r result) string {
	t.Helper()
	native, _, err := codec.NativeFromBinary(r.out.Value[5:])
	if err != nil {
		t.Fatalf("decode output: %v", err)
	}
	return native.(map[string]any)["prediction"].(map[string]any)["model_version"].(string)
}

// outputCodec is the codec of the sensor readings' output schema.
func outputCodec(t *testing.T) *goavro.Codec {
	t.Helper()
	text, err := serde.OutputSchema(schemas.SensorReading)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := goavro.NewCodec(text)
	if err != nil {
		t.Fatal(err)
	}
	return codec
}

func coords(topic string, partition int32, offset int64) string {
	return fmt.Sprintf("%s/%d@%d", topic, partition, offset)
}

// TestSwapBetweenBatches swaps the model in the middle of a stream, from
// another goroutine, and checks that every record is scored exactly once,
// that the version changes once, at a batch boundary at or after the swap,
// so that no batch mixes versions, and that the old model is closed once,
// only after its last batch came back, while the new one stays open until
// the processor closes.
func TestSwapBetweenBatches(t *testing.T) {
	const n, maxBatch = 2000, 128 // maxBatch: the models' batch size
	f := newFixture(t, n)
	codec := outputCodec(t)
	for _, swapAt := range []int{0, 1, maxBatch - 1, maxBatch, n / 2, n / maxBatch * maxBatch} {
		t.Run(fmt.Sprintf("swap before record %d", swapAt), func(t *testing.T) {
			// Each run needs its own pair of models: a processor closes what it served.
			v1, v2 := f.model(t, "1", smallTrain(10, 3), 2000), f.model(t, "2", smallTrain(20, 4), 2000)
			watch := newCloseWatch()
			out := &emitted{byName: map[string]*model.Model{"bench@1": v1, "bench@2": v2}, watch: watch}
			p := f.processor(Config{}, v1, sinkFunc(out.emit))
			p.closeModel = watch.close
			go p.scoreJobs()

			ctx := context.Background()
			for i, rec := range f.records {
				if i == swapAt {
					done := make(chan struct{})
					go func() { p.swap(v2); close(done) }()
					<-done
				}
				if err := p.add(ctx, rec, nil); err != nil {
					t.Fatal(err)
				}
			}
			p.flush()
			if err := p.idle(ctx); err != nil {
				t.Fatal(err)
			}
			if got := watch.times(v1); got != 1 {
				t.Errorf("old model closed %d times after every batch was back, want once", got)
			}
			if got := watch.times(v2); got != 0 {
				t.Errorf("serving model closed %d times", got)
			}
			p.close()
			if got := watch.times(v2); got != 1 {
				t.Errorf("serving model closed %d times by close, want once", got)
			}
			for _, e := range out.errs {
				t.Error(e)
			}

			// Results come in add order: one scoring goroutine, batches in order.
			if len(out.results) != n {
				t.Fatalf("%d results for %d records", len(out.results), n)
			}
			firstV2 := -1
			for i, r := range out.results {
				if r.reason != "" {
					t.Fatalf("record %d dead-lettered: %s", i, r.reason)
				}
				if r.source != f.records[i] {
					t.Fatalf("result %d is for %s, want %s: a record lost, repeated or reordered", i,
						coords(r.source.Topic, r.source.Partition, r.source.Offset), coords("bench", f.records[i].Partition, f.records[i].Offset))
				}
				v := header(r.out, deadletter.HeaderModel)
				prediction := predictionVersion(t, codec, r)
				if v != "bench@"+prediction {
					t.Fatalf("result %d: header names %s, prediction version %s", i, v, prediction)
				}
				switch {
				case v == "bench@2" && firstV2 < 0:
					firstV2 = i
				case v == "bench@1" && firstV2 >= 0:
					t.Fatalf("result %d scored by v1 after result %d by v2", i, firstV2)
				}
			}
			// The batch being filled when the swap came finishes with v1.
			wantFirst := (swapAt + maxBatch - 1) / maxBatch * maxBatch
			if firstV2 != wantFirst {
				t.Fatalf("first result by v2 is %d, want %d: the first batch begun after the swap at %d", firstV2, wantFirst, swapAt)
			}
		})
	}
}

// TestSwapMetricsAndServing checks what a swap shows at once: the swap
// counter, the info series of the new model only, and Serving.
func TestSwapMetricsAndServing(t *testing.T) {
	f := newFixture(t, 10)
	v1, v2 := f.model(t, "1", smallTrain(5, 2), 1000), f.model(t, "2", smallTrain(6, 2), 1000)
	p := f.processor(Config{}, v1, sinkFunc(func(result) {}))
	go p.scoreJobs()
	defer p.close()
	p.swap(v2) // shown at once, though no batch began since
	checks := []struct {
		name      string
		got, want float64
	}{
		{"swaps", collected(t, f.metrics.modelSwaps).sum, 1},
		{"info of v2", collected(t, f.metrics.modelInfo.WithLabelValues("bench", "2")).sum, 1},
		{"info series", float64(collected(t, f.metrics.modelInfo).series), 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
	if got := p.serving.Load().Version; got != "2" {
		t.Errorf("serving version %s, want 2", got)
	}
}

// TestSwapReplacedBeforeAdoption hands over two models before a batch
// begins: the first never serves and is closed at once, and one handed
// over after close is closed too.
func TestSwapReplacedBeforeAdoption(t *testing.T) {
	f := newFixture(t, 10)
	v1 := f.model(t, "1", smallTrain(5, 2), 1000)
	v2, v3, v4 := f.model(t, "2", smallTrain(6, 2), 1000), f.model(t, "3", smallTrain(7, 2), 1000), f.model(t, "4", smallTrain(8, 2), 1000)
	watch := newCloseWatch()
	var versions []string
	p := f.processor(Config{}, v1, sinkFunc(func(r result) { versions = append(versions, header(r.out, deadletter.HeaderModel)) }))
	p.closeModel = watch.close
	go p.scoreJobs()
	p.swap(v2)
	p.swap(v3)
	if watch.times(v2) != 1 {
		t.Fatal("a model replaced before it served was not closed")
	}
	if err := p.add(context.Background(), f.records[0], nil); err != nil {
		t.Fatal(err)
	}
	p.flush()
	if err := p.idle(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.close()
	p.swap(v4)
	if strings.Join(versions, ",") != "bench@3" {
		t.Errorf("scored by %v, want bench@3", versions)
	}
	for _, c := range []struct {
		m    *model.Model
		name string
	}{{v1, "v1"}, {v2, "v2"}, {v3, "v3"}, {v4, "v4 (after close)"}} {
		if got := watch.times(c.m); got != 1 {
			t.Errorf("%s closed %d times, want once", c.name, got)
		}
	}
}

// series sums what a collector holds now (counters and gauges) and counts
// its series.
type series struct {
	sum    float64
	series int
}

func collected(t *testing.T, c prometheus.Collector) series {
	t.Helper()
	ch := make(chan prometheus.Metric, 64)
	c.Collect(ch)
	close(ch)
	var s series
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			t.Fatal(err)
		}
		s.sum += d.GetCounter().GetValue() + d.GetGauge().GetValue()
		s.series++
	}
	return s
}
