package trainer

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/sample"
)

func TestReservoirKeepsTheSmallestPriorities(t *testing.T) {
	r := newReservoir(100)
	rng := rand.New(rand.NewPCG(1, 2))
	all := make([]uint64, 5000)
	slots := make([]uint64, 0, 100)
	for i := range all {
		all[i] = rng.Uint64()
		switch slot := r.offer(all[i], len(slots)); {
		case slot == len(slots):
			slots = append(slots, all[i])
		case slot >= 0:
			slots[slot] = all[i]
		}
	}
	slices.Sort(all)
	slices.Sort(slots)
	if !slices.Equal(slots, all[:100]) {
		t.Errorf("kept %v..., want the 100 smallest %v...", slots[:3], all[:3])
	}
}

func TestSortByTimeMovesEveryColumnTogether(t *testing.T) {
	opts := Options{Family: GBDT, Features: []string{"a", "b"}, Label: "y", Task: model.Regression}
	c := newColumns(newLayout(opts, []string{"raw"}), 0)
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 1000
	for i := range n {
		ts := rng.Int64N(50) // many ties, broken by partition and offset
		v := float64(ts*1e6 + int64(i))
		c.add(map[string]any{"a": v, "b": -v, "raw": v, "y": v}, ts, int32(i%3), int64(i))
	}
	c.finish(0)
	if c.Len() != n {
		t.Fatalf("%d rows, want %d (skipped %v)", c.Len(), n, c.skipped)
	}
	for i := range n {
		v := c.labels[i]
		if float64(c.features[2*i]) != float64(float32(v)) || float64(c.features[2*i+1]) != float64(float32(-v)) || c.extra[i] != float32(v) {
			t.Fatalf("row %d: features %v, extra %v, label %v: columns moved apart", i, c.features[2*i:2*i+2], c.extra[i], v)
		}
		if i > 0 {
			a, b := i-1, i
			if c.times[a] > c.times[b] || c.times[a] == c.times[b] && (c.partitions[a] > c.partitions[b] || c.partitions[a] == c.partitions[b] && c.offsets[a] > c.offsets[b]) {
				t.Fatalf("rows %d and %d out of order", a, b)
			}
		}
	}
}

// BenchmarkColumnsAdd maps sensor readings into columns, as ReadTraining
// does for each decoded record, and reports the bytes each kept row costs
// against keeping the decoded records themselves.
func BenchmarkColumnsAdd(b *testing.B) {
	gen := sample.NewSensors(1, 50, 0.1)
	recs := make([]map[string]any, 4096)
	for i := range recs {
		rec, anomaly := gen.Next()
		rec["anomaly"] = anomaly
		recs[i] = rec
	}
	defaults := map[string]float64{}
	for _, f := range sample.SensorFeatures {
		defaults[f] = 0
	}
	opts := Options{Family: GBDT, Features: sample.SensorFeatures, Defaults: defaults, Label: "anomaly"}.WithDefaults()
	b.Run("columns", func(b *testing.B) {
		before := heap()
		c := newColumns(newLayout(opts, nil), b.N)
		for i := range b.N {
			c.add(recs[i%len(recs)], int64(i), 0, int64(i))
		}
		b.StopTimer()
		b.ReportMetric(float64(heap()-before)/float64(b.N), "B/row")
		runtime.KeepAlive(c)
	})
}

func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
