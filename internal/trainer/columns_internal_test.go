package trainer

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/train"
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
	c := newColumns(newLayout(opts, []model.Feature{{Field: "raw"}}), 0)
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

func TestLabelDictStopsPastMaxClasses(t *testing.T) {
	// A sample of 10 rows leaves most rows out, and their labels still
	// count: the dictionary holds every value read.
	opts := Options{Family: GBDT, Features: []string{"a"}, Label: "id", Sample: &Sample{MaxRows: 10}}.WithDefaults()
	c := newColumns(newLayout(opts, nil), 0)
	for i := range MaxClasses {
		if err := c.add(map[string]any{"a": 1.0, "id": fmt.Sprint("user-", i)}, 0, 0, int64(i)); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
	// Another kind of the same values is another set of entries, not more
	// classes of the first kind.
	if err := c.add(map[string]any{"a": 1.0, "id": 7.0}, 0, 0, MaxClasses); err != nil {
		t.Fatalf("a number among %d strings: %v", MaxClasses, err)
	}
	err := c.add(map[string]any{"a": 1.0, "id": "user-new"}, 0, 0, MaxClasses+1)
	if !errors.Is(err, ErrTooManyClasses) || !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("error %v, want ErrTooManyClasses", err)
	}
	for _, want := range []string{`label "id"`, fmt.Sprint(MaxClasses + 1), "strings"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if n := len(c.dict.names); n != MaxClasses+2 {
		t.Errorf("dictionary of %d entries, want it to stop at %d", n, MaxClasses+2)
	}
}

// TestMaxClassesIsTheTrainBound pins the mirror: MaxClasses classes train,
// one more does not.
func TestMaxClassesIsTheTrainBound(t *testing.T) {
	cfg := train.DefaultConfig()
	cfg.Objective, cfg.NumClasses = train.MulticlassLogLoss, MaxClasses
	if err := cfg.Validate(); err != nil {
		t.Fatalf("%d classes: %v", MaxClasses, err)
	}
	cfg.NumClasses++
	if err := cfg.Validate(); err == nil {
		t.Fatalf("%d classes validate: MaxClasses is below the train package's bound", cfg.NumClasses)
	}
}

func TestNewColumnsReservesNoMoreThanTheSample(t *testing.T) {
	opts := Options{Family: GBDT, Features: []string{"a", "b"}, Label: "y", Task: model.Regression}
	for _, tt := range []struct {
		name         string
		maxRows      int
		expect, want int
	}{
		{"no sample", 0, 1000, 1000},
		{"sample below the guess", 100, 1000, 100},
		{"guess below the sample", 5000, 1000, 1000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := opts
			if tt.maxRows > 0 {
				o.Sample = &Sample{MaxRows: tt.maxRows}
			}
			c := newColumns(newLayout(o, []model.Feature{{Field: "x"}}), tt.expect)
			if cap(c.labels) != tt.want || cap(c.features) != 2*tt.want || cap(c.extra) != tt.want || cap(c.times) != tt.want {
				t.Errorf("room for %d labels, %d features, %d extra, %d times; want %d rows", cap(c.labels), cap(c.features), cap(c.extra), cap(c.times), tt.want)
			}
		})
	}
}
