package fit

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
		// The extra column, then whether the row was refused (it is not).
		if float64(c.features[2*i]) != float64(float32(v)) || float64(c.features[2*i+1]) != float64(float32(-v)) || c.extra[2*i] != float32(v) || c.extra[2*i+1] != 0 {
			t.Fatalf("row %d: features %v, extra %v, label %v: columns moved apart", i, c.features[2*i:2*i+2], c.extra[2*i:2*i+2], v)
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
	// The nested reading's 10 numbers (four of them a window), the hour and
	// four categorical columns: a column of 4 bytes each, the values kept
	// once in their dictionaries.
	nested := sample.NewNestedSensors(1, 200, 0.1)
	nestedRecs := make([]map[string]any, 4096)
	for i := range nestedRecs {
		rec, anomaly := nested.Next()
		rec["anomaly"] = anomaly
		nestedRecs[i] = rec
	}
	pad := 0.0
	nestedOpts := Options{Family: GBDT, Label: "anomaly",
		Features:    []string{"temperature", "humidity", "location.lat", "location.lon", "vibration_window", "ts", "status", "device.model", "site", "attributes.zone"},
		Categorical: CategoricalOptions{"status": {}, "device.model": {}, "site": {}, "attributes.zone": {}},
		Arrays:      ArrayOptions{"vibration_window": {Length: 4, Pad: &pad}},
		TimeParts:   map[string][]string{"ts": {PartHourOfDay}},
	}.WithDefaults()
	b.Run("nested", func(b *testing.B) {
		before := heap()
		c := newColumns(newLayout(nestedOpts, nil), b.N)
		for i := range b.N {
			c.add(nestedRecs[i%len(nestedRecs)], int64(i), 0, int64(i))
		}
		b.StopTimer()
		if c.Len() != b.N {
			b.Fatalf("%d rows kept of %d: %v", c.Len(), b.N, c.skipped)
		}
		b.ReportMetric(float64(heap()-before)/float64(b.N), "B/row")
		runtime.KeepAlive(c)
	})
}

// TestCategoricalColumnsKeepNoStringPerRow reads many rows of a few
// distinct strings: each categorical column holds a dictionary index per
// row, the dictionary each distinct value once, the null its own raw code.
func TestCategoricalColumnsKeepNoStringPerRow(t *testing.T) {
	opts := Options{Family: GBDT, Features: []string{"x", "site", "device.model"}, Label: "y",
		Categorical: CategoricalOptions{"site": {}, "device.model": {}}}.WithDefaults()
	c := newColumns(newLayout(opts, nil), 0)
	sites := []string{"ams", "ber", "cdg"}
	for i := range 3000 {
		rec := map[string]any{"x": float64(i), "y": i%2 == 0, "site": sites[i%3], "device": map[string]any{"model": map[string]any{"string": "X100"}}}
		if i%10 == 0 {
			rec["device"] = nil
		}
		if err := c.add(rec, int64(i), 0, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if c.Len() != 3000 || len(c.features) != 3*3000 {
		t.Fatalf("%d rows, %d columns: %v", c.Len(), len(c.features), c.skipped)
	}
	if got := c.dicts[0].values; !slices.Equal(got, sites) {
		t.Errorf("site dictionary %q, want each value once", got)
	}
	if got := c.dicts[1].values; !slices.Equal(got, []string{"X100"}) {
		t.Errorf("device.model dictionary %q", got)
	}
	for i := range 3000 {
		site, model := c.features[3*i+1], c.features[3*i+2]
		wantModel := float32(0)
		if i%10 == 0 {
			wantModel = rawNull
		}
		if site != float32(i%3) || model != wantModel {
			t.Fatalf("row %d: site %v, model %v; want indices %d and %v", i, site, model, i%3, wantModel)
		}
	}
}

// TestLearnTable learns tables from raw training values: most frequent
// first, ties by value, capped, the rarer values and the dictionary's
// overflow recoded as the scorer maps a value the table lacks (other, or
// with unknown: category the stand-in's code), null to its own code; with
// unknown: category the stand-in is kept whatever its count; a feature
// null in every training row has nothing to learn.
func TestLearnTable(t *testing.T) {
	d := newCatDict()
	var raw []float32
	for v, n := range map[string]int{"a": 5, "b": 9, "c": 5, "d": 1, "e": 2} {
		for range n {
			raw = append(raw, d.code(v))
		}
	}
	raw = append(raw, rawNull, rawOverflow)
	tests := []struct {
		name        string
		f           FeatureRead
		want        []string
		recodeOf    map[string]float32
		null, other float32
		overflow    float32 // the code of a value past the dictionary
	}{
		{"capped", FeatureRead{MaxCategories: 3}, []string{"b", "a", "c"},
			map[string]float32{"b": 0, "a": 1, "c": 2, "e": 3, "d": 3}, 4, 3, 3},
		{"all", FeatureRead{MaxCategories: 10}, []string{"b", "a", "c", "e", "d"},
			map[string]float32{"d": 4}, 6, 5, 5},
		{"stand-in kept", FeatureRead{MaxCategories: 3, Categorical: Categorical{Unknown: UnknownCategory, UnknownCategory: "d"}}, []string{"b", "a", "d"},
			map[string]float32{"c": 2, "e": 2, "d": 2}, 4, 3, 2},
		{"stand-in never seen", FeatureRead{MaxCategories: 2, Categorical: Categorical{Unknown: UnknownCategory, UnknownCategory: "z"}}, []string{"b", "z"},
			map[string]float32{"a": 1, "z": 1}, 3, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table, err := learnTable(d, raw, 1, 0, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(table.categories, tt.want) {
				t.Fatalf("categories %q, want %q", table.categories, tt.want)
			}
			for v, want := range tt.recodeOf {
				if i, ok := d.index[v]; ok {
					if got := table.recode(float32(i)); got != want {
						t.Errorf("%q recoded to %v, want %v", v, got, want)
					}
				}
			}
			if table.recode(rawNull) != tt.null || table.null != tt.null || table.other != tt.other {
				t.Errorf("null %v, other %v; want %v and %v", table.recode(rawNull), table.other, tt.null, tt.other)
			}
			if got := table.recode(rawOverflow); got != tt.overflow {
				t.Errorf("a value past the dictionary recoded to %v, want %v, the code the scorer gives a value the table lacks", got, tt.overflow)
			}
		})
	}
	if _, err := learnTable(newCatDict(), []float32{rawNull, rawNull}, 1, 0, FeatureRead{Given: "site", MaxCategories: 3}); !errors.Is(err, ErrNotEnoughData) || !strings.Contains(err.Error(), `"site" is null in every training row`) {
		t.Errorf("a feature null in every row: %v", err)
	}
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
			// One extra feature, and the column saying whether a row is
			// refused.
			if cap(c.labels) != tt.want || cap(c.features) != 2*tt.want || cap(c.extra) != 2*tt.want || cap(c.times) != tt.want {
				t.Errorf("room for %d labels, %d features, %d extra, %d times; want %d rows", cap(c.labels), cap(c.features), cap(c.extra), cap(c.times), tt.want)
			}
		})
	}
}
