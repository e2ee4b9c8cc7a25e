package stream

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/testkit"
)

// shadowed is a processor with a shadow stage whose results are collected.
type shadowed struct {
	p       *processor
	mu      sync.Mutex
	more    *sync.Cond // a shadow result came
	primary []result
	shadow  []result
}

func newShadowed(t *testing.T, f *fixture, primary *model.Model) *shadowed {
	t.Helper()
	s := &shadowed{}
	s.more = sync.NewCond(&s.mu)
	cfg := Config{Topics: []string{"bench"}, Group: "g", DeadLetterTopic: "dlq", ShadowTopic: DefaultShadowTopic}.WithDefaults()
	s.p = f.processor(cfg, primary, sinkFunc(s.emit))
	s.p.shadow = newShadowStage(cfg, f.outputs, sinkFunc(func(r result) {
		s.mu.Lock()
		s.shadow = append(s.shadow, r)
		s.more.Broadcast()
		s.mu.Unlock()
	}), f.metrics, slog.New(slog.DiscardHandler))
	return s
}

func (s *shadowed) emit(r result) {
	s.mu.Lock()
	s.primary = append(s.primary, r)
	s.mu.Unlock()
}

// waitShadow waits until n shadow results came: the shadow stage works
// asynchronously, after the primary results.
func (s *shadowed) waitShadow(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.shadow) < n {
		s.more.Wait()
	}
}

func (s *shadowed) add(t *testing.T, records ...*kgo.Record) {
	t.Helper()
	for _, rec := range records {
		if err := s.p.add(context.Background(), rec, nil); err != nil {
			t.Fatal(err)
		}
	}
	s.p.flush()
	if err := s.p.idle(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestShadowScoresEveryScoredRecord runs a shadow model beside the serving
// one, swapping the shadow model halfway, and checks that every record has
// one primary result, by the serving model, and one shadow result, bound
// for the shadow topic, scored and named by the shadow model of its time,
// and that each shadow model is closed once.
func TestShadowScoresEveryScoredRecord(t *testing.T) {
	const n = 1000
	f := newFixture(t, n)
	codec := outputCodec(t)
	v1, v2, v3 := f.model(t, "1", smallTrain(10, 3), 2000), f.model(t, "2", smallTrain(20, 4), 2000), f.model(t, "3", smallTrain(5, 2), 2000)
	watch := newCloseWatch()
	s := newShadowed(t, f, v1)
	s.p.closeModel, s.p.shadow.closeModel = watch.close, watch.close
	go s.p.scoreJobs()
	go s.p.shadow.run()

	s.add(t, f.records[:10]...) // no shadow model yet: nothing to shadow
	s.p.shadow.swap(v2)
	s.add(t, f.records[10:n/2]...)
	s.waitShadow(n/2 - 10) // a shadow swap applies to the batches the stage takes next
	s.p.shadow.swap(v3)
	s.add(t, f.records[n/2:]...)
	s.p.close()

	if len(s.primary) != n {
		t.Fatalf("%d primary results for %d records", len(s.primary), n)
	}
	if len(s.shadow) != n-10 {
		t.Fatalf("%d shadow results for %d records scored with a shadow model", len(s.shadow), n-10)
	}
	differ := 0
	for i, sh := range s.shadow {
		rec := f.records[10+i]
		want := "2"
		if 10+i >= n/2 {
			want = "3"
		}
		if sh.source != rec {
			t.Fatalf("shadow result %d is for offset %d of partition %d, want record %d", i, sh.source.Offset, sh.source.Partition, 10+i)
		}
		if sh.out.Topic != "bench.shadow" || header(sh.out, deadletter.HeaderModel) != "bench@"+want || predictionVersion(t, codec, sh) != want {
			t.Fatalf("shadow result %d: topic %s, model %s, prediction version %s; want bench.shadow, bench@%s", i,
				sh.out.Topic, header(sh.out, deadletter.HeaderModel), predictionVersion(t, codec, sh), want)
		}
		primary := s.primary[10+i]
		if header(primary.out, deadletter.HeaderModel) != "bench@1" || primary.out.Topic != "bench.scored" {
			t.Fatalf("primary result %d: %s to %s", 10+i, header(primary.out, deadletter.HeaderModel), primary.out.Topic)
		}
		if string(primary.out.Value[5:]) != string(sh.out.Value[5:]) {
			differ++
		}
	}
	if differ == 0 {
		t.Error("no shadow result differs from its primary one: the shadow model did not score")
	}
	if got := collected(t, f.metrics.shadowFailures).sum; got != 0 {
		t.Errorf("%v shadow failures", got)
	}
	for _, c := range []struct {
		m    *model.Model
		name string
	}{{v1, "primary"}, {v2, "first shadow"}, {v3, "second shadow"}} {
		if got := watch.times(c.m); got != 1 {
			t.Errorf("%s model closed %d times, want once", c.name, got)
		}
	}
}

// TestShadowNeverHoldsUpPrimary stalls the shadow stage: the primary
// results all come through while it is stalled, and the batches beyond its
// queue are dropped from shadow scoring and counted, not waited for.
func TestShadowNeverHoldsUpPrimary(t *testing.T) {
	const n, batch = 20 * 128, 128
	f := newFixture(t, n)
	s := newShadowed(t, f, f.model(t, "1", smallTrain(10, 3), 2000))
	s.p.shadow.swap(f.model(t, "2", smallTrain(20, 4), 2000))
	go s.p.scoreJobs()
	s.add(t, f.records...) // the shadow stage is not running: nothing drains its queue

	if len(s.primary) != n {
		t.Fatalf("%d primary results for %d records with the shadow stage stalled", len(s.primary), n)
	}
	dropped := collected(t, f.metrics.shadowFailures.WithLabelValues(ShadowBehind)).sum
	if want := float64(n - shadowQueue*batch); dropped != want {
		t.Fatalf("%v records dropped from shadow scoring, want %v (all beyond the queue)", dropped, want)
	}
	go s.p.shadow.run()
	s.p.close()
	if len(s.shadow) != shadowQueue*batch {
		t.Fatalf("%d shadow results once the stage ran, want the %d queued", len(s.shadow), shadowQueue*batch)
	}
}

// TestShadowSkipsTheServingVersion shadows with a model of the serving
// version, as after a promotion (champion and challenger on one version):
// nothing is shadow-scored, as it would repeat the serving results; a
// shadow of another version then is.
func TestShadowSkipsTheServingVersion(t *testing.T) {
	const n = 300
	f := newFixture(t, n)
	s := newShadowed(t, f, f.model(t, "1", smallTrain(10, 3), 2000))
	go s.p.scoreJobs()
	go s.p.shadow.run()
	t.Cleanup(s.p.close)

	s.p.shadow.swap(f.model(t, "1", smallTrain(10, 3), 2000))
	testkit.WaitFor(t, "the shadow model to be adopted", func() bool {
		spec := s.p.shadow.serving.Load()
		return spec != nil && spec.Version == "1"
	})
	s.add(t, f.records[:n/2]...)
	s.p.shadow.swap(f.model(t, "2", smallTrain(10, 3), 2000))
	testkit.WaitFor(t, "the new shadow model to be adopted", func() bool {
		return s.p.shadow.serving.Load().Version == "2"
	})
	s.add(t, f.records[n/2:]...)
	s.waitShadow(n / 2)
	s.mu.Lock()
	defer s.mu.Unlock()
	// Shadow results come in the order of their rows: had the first half
	// been shadow-scored by version 1, the first results would be its.
	for i, sh := range s.shadow[:n/2] {
		if sh.source != f.records[n/2+i] || header(sh.out, deadletter.HeaderModel) != "bench@2" {
			t.Fatalf("shadow result %d: %s for offset %d; want version 2's, of the rows after it took over", i,
				header(sh.out, deadletter.HeaderModel), sh.source.Offset)
		}
	}
}
