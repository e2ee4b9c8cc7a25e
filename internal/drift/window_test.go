package drift_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/streamscore/streamscore/internal/drift"
	"github.com/streamscore/streamscore/internal/model"
)

// gaussianRows are n records of features f0..f{k-1}, each standard normal,
// f{shifted} shifted by shift (none when shifted is -1).
func gaussianRows(rng *rand.Rand, n, k, shifted int, shift float64) []map[string]any {
	recs := make([]map[string]any, n)
	for i := range recs {
		rec := map[string]any{}
		for j := range k {
			v := rng.NormFloat64()
			if j == shifted {
				v += shift
			}
			rec[fmt.Sprintf("f%d", j)] = v
		}
		recs[i] = rec
	}
	return recs
}

// TestWindowFlagsAMeanShiftInOneFeature: a one-sigma shift of one feature
// of six shows within one window of 2,000 rows (PSI over 0.25) and in
// that feature alone (every other under 0.1); the shifted feature's KS
// and mean move with it, and so does the prediction.
func TestWindowFlagsAMeanShiftInOneFeature(t *testing.T) {
	const k = 6
	m := load(t, sigmoidSumGraph(k, 0.5), binarySpec(numbered(k)...))
	rng := rand.New(rand.NewPCG(1, 2))
	ref := reference(t, m, gaussianRows(rng, 20000, k, -1, 0), nil)
	for shifted := range k {
		t.Run(fmt.Sprintf("f%d", shifted), func(t *testing.T) {
			rep := window(t, m, ref, gaussianRows(rng, 2000, k, shifted, 1))
			for j := range k {
				f := feature(t, rep, fmt.Sprintf("f%d", j))
				if j == shifted {
					if *f.PSI <= 0.25 || *f.KS < 0.3 || math.Abs(*f.Mean-1) > 0.1 {
						t.Errorf("shifted f%d: psi %s ks %s mean %s; want psi > 0.25, ks about 0.38, mean about 1", j, value(f.PSI), value(f.KS), value(f.Mean))
					}
					continue
				}
				if *f.PSI >= 0.1 {
					t.Errorf("unshifted f%d flagged: psi %s", j, value(f.PSI))
				}
			}
			if *rep.Prediction.PSI < 0.1 {
				t.Errorf("prediction psi %s: a shift of 1 in a sum of 6 moves the score's distribution", value(rep.Prediction.PSI))
			}
		})
	}
}

// TestWindowStaysQuietWithoutDrift: twenty windows of 2,000 rows drawn as
// the training rows were keep every feature's PSI, and the
// prediction's, under 0.1.
func TestWindowStaysQuietWithoutDrift(t *testing.T) {
	const k = 6
	m := load(t, sigmoidSumGraph(k, 0.5), binarySpec(numbered(k)...))
	rng := rand.New(rand.NewPCG(3, 4))
	ref := reference(t, m, gaussianRows(rng, 20000, k, -1, 0), nil)
	w := drift.NewWindow(m.Spec(), ref)
	s := newScorer(t, m)
	for round := range 20 {
		w.Reset()
		s.score(gaussianRows(rng, 2000, k, -1, 0), w.Observe)
		rep := w.Report()
		if rep.Records != 2000 || !rep.Reference {
			t.Fatalf("window %d: %d records, reference %v", round, rep.Records, rep.Reference)
		}
		for _, f := range rep.Features {
			if *f.PSI >= 0.1 || *f.OutOfRangeRate > 0.01 {
				t.Errorf("window %d: %s psi %s, out of range %s", round, f.Name, value(f.PSI), value(f.OutOfRangeRate))
			}
		}
		if *rep.Prediction.PSI >= 0.1 {
			t.Errorf("window %d: prediction psi %s", round, value(rep.Prediction.PSI))
		}
	}
}

// TestPSIAndKSAsDefined holds a window's PSI and KS to the package's
// definitions computed here the long way: ventiles of the sorted training
// values, every second one a decile cut, shares counted by comparing each
// value with the cuts.
func TestPSIAndKSAsDefined(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	train := make([]float64, 1000)
	for i := range train {
		train[i] = math.Round(rng.ExpFloat64()*1000) / 100 // distinct enough: no ties to merge
	}
	live := make([]float64, 300)
	for i := range live {
		live[i] = math.Round((rng.ExpFloat64()*1.3+0.2)*1000) / 100
	}
	m := load(t, sigmoidSumGraph(1, 1), binarySpec(model.Feature{Field: "x"}))
	ref := reference(t, m, records("x", train), nil)
	f := feature(t, window(t, m, ref, records("x", live)), "x")

	sorted := slices.Sorted(slices.Values(train))
	var ventiles []float64
	for k := 1; k < 20; k++ {
		ventiles = append(ventiles, float32of(sorted[int(math.Ceil(float64(k*len(sorted))/20))-1]))
	}
	if !slices.Equal(ventiles, ref.Features[0].Edges) {
		t.Fatalf("edges %v, want %v", ref.Features[0].Edges, ventiles)
	}
	var deciles []float64
	for k := 1; k < 19; k += 2 {
		deciles = append(deciles, ventiles[k])
	}
	share := func(values []float64, lo, hi float64) float64 {
		n := 0
		for _, v := range values {
			if float32of(v) > lo && float32of(v) <= hi {
				n++
			}
		}
		return float64(n) / float64(len(values))
	}
	bounds := append(append([]float64{math.Inf(-1)}, deciles...), math.Inf(1))
	wantPSI := 0.0
	for i := 1; i < len(bounds); i++ {
		e := max(share(train, bounds[i-1], bounds[i]), 1e-4)
		a := max(share(live, bounds[i-1], bounds[i]), 1e-4)
		wantPSI += (a - e) * math.Log(a/e)
	}
	wantKS := 0.0
	for _, edge := range ventiles {
		wantKS = max(wantKS, math.Abs(share(live, math.Inf(-1), edge)-share(train, math.Inf(-1), edge)))
	}
	if math.Abs(*f.PSI-wantPSI) > 1e-4 || math.Abs(*f.KS-wantKS) > 1e-5 {
		t.Fatalf("psi %s ks %s, want %.6f and %.6f", value(f.PSI), value(f.KS), wantPSI, wantKS)
	}
	if wantPSI < 0.1 {
		t.Fatalf("the live data were meant to drift: psi %.4f", wantPSI)
	}
}

// float32of is v as the model reads it.
func float32of(v float64) float64 { return float64(float32(v)) }

// records are one record per value, of field name.
func records(name string, values []float64) []map[string]any {
	out := make([]map[string]any, len(values))
	for i, v := range values {
		out[i] = map[string]any{name: v}
	}
	return out
}

// repeat is each value count times, in turn.
func repeat(counts map[float64]int) []float64 {
	var out []float64
	for _, v := range slices.Sorted(func(yield func(float64) bool) {
		for v := range counts {
			if !yield(v) {
				return
			}
		}
	}) {
		for range counts[v] {
			out = append(out, v)
		}
	}
	return out
}

// TestDiscreteFeatureBinsByValue: a feature of three values has one bin
// per value (the ventile edges tie), and PSI and KS come out as worked
// by hand.
func TestDiscreteFeatureBinsByValue(t *testing.T) {
	m := load(t, sigmoidSumGraph(1, 1), binarySpec(model.Feature{Field: "x"}))
	ref := reference(t, m, records("x", repeat(map[float64]int{0: 500, 1: 300, 2: 200})), nil)
	got := ref.Features[0]
	if !slices.Equal(got.Edges, []float64{0, 1, 2}) || !slices.Equal(got.Shares, []float64{0.5, 0.3, 0.2, 0}) || got.Min != 0 || got.Max != 2 {
		t.Fatalf("edges %v shares %v min %v max %v; want [0 1 2] [0.5 0.3 0.2 0] 0 2", got.Edges, got.Shares, got.Min, got.Max)
	}
	f := feature(t, window(t, m, ref, records("x", repeat(map[float64]int{0: 200, 1: 300, 2: 500}))), "x")
	// Bins [0], [1], [2], above 2 (empty in both, floored alike) and null
	// (the same): (0.2-0.5) ln(0.2/0.5) + (0.5-0.2) ln(0.5/0.2).
	wantPSI := 2 * 0.3 * math.Log(2.5)
	if math.Abs(*f.PSI-wantPSI) > 1e-9 || math.Abs(*f.KS-0.3) > 1e-9 || *f.OutOfRangeRate != 0 {
		t.Fatalf("psi %s ks %s oor %s; want %.6f 0.3 0", value(f.PSI), value(f.KS), value(f.OutOfRangeRate), wantPSI)
	}
	f = feature(t, window(t, m, ref, records("x", []float64{-1, 0, 1, 3})), "x")
	if *f.OutOfRangeRate != 0.5 {
		t.Fatalf("out of range %s, want 0.5: -1 and 3 are outside [0, 2]", value(f.OutOfRangeRate))
	}
}

// TestWindowOfNullsOnly: a feature null in every row of a window has a
// null rate of 1, no mean, KS or out-of-range rate (no value to take them
// of), and a PSI that flags it; the other feature is unaffected.
func TestWindowOfNullsOnly(t *testing.T) {
	m := load(t, sigmoidSumGraph(2, 1), binarySpec(model.Feature{Field: "x", Default: ptr(0)}, model.Feature{Field: "y"}))
	rng := rand.New(rand.NewPCG(7, 8))
	train := gaussianRows(rng, 2000, 0, -1, 0)
	for i, rec := range train {
		rec["y"] = rng.NormFloat64()
		rec["x"] = rng.NormFloat64()
		if i%10 == 0 {
			rec["x"] = nil // a tenth null in training
		}
	}
	ref := reference(t, m, train, nil)
	if got := ref.Features[0].NullRate; got != 0.1 {
		t.Fatalf("reference null rate %v, want 0.1", got)
	}
	live := gaussianRows(rng, 500, 0, -1, 0)
	for _, rec := range live {
		rec["x"], rec["y"] = nil, rng.NormFloat64()
	}
	rep := window(t, m, ref, live)
	x, y := feature(t, rep, "x"), feature(t, rep, "y")
	if x.NullRate != 1 || x.Mean != nil || x.KS != nil || x.OutOfRangeRate != nil || x.PSI == nil || *x.PSI < 0.25 {
		t.Fatalf("all-null x: null rate %v mean %s ks %s oor %s psi %s", x.NullRate, value(x.Mean), value(x.KS), value(x.OutOfRangeRate), value(x.PSI))
	}
	if y.NullRate != 0 || *y.PSI >= 0.1 {
		t.Fatalf("y: null rate %v psi %s", y.NullRate, value(y.PSI))
	}
}

// TestWindowWithoutReference reports counts, null rates and means, and
// nothing that needs a reference.
func TestWindowWithoutReference(t *testing.T) {
	m := load(t, sigmoidSumGraph(2, 1), binarySpec(model.Feature{Field: "x", Default: ptr(5)}, model.Feature{Field: "y"}))
	rep := window(t, m, nil, []map[string]any{{"x": 1.0, "y": 1.0}, {"x": nil, "y": 3.0}, {"x": 3.0, "y": 2.0}, {"x": nil, "y": 2.0}})
	x, y := feature(t, rep, "x"), feature(t, rep, "y")
	switch {
	case rep.Records != 4 || rep.Reference:
		t.Fatalf("records %d reference %v", rep.Records, rep.Reference)
	case x.NullRate != 0.5 || *x.Mean != 2 || y.NullRate != 0 || *y.Mean != 2:
		t.Fatalf("x null %v mean %s (the defaults left out), y null %v mean %s", x.NullRate, value(x.Mean), y.NullRate, value(y.Mean))
	case x.PSI != nil || x.KS != nil || x.OutOfRangeRate != nil || rep.Prediction.PSI != nil:
		t.Fatalf("statistics without a reference: %+v %+v", x, rep.Prediction)
	case rep.Prediction.Mean == nil || rep.Prediction.ClassShares["yes"]+rep.Prediction.ClassShares["no"] != 1:
		t.Fatalf("prediction %+v", rep.Prediction)
	}
}

// TestCategoricalFeature: one bin per code, other and null included; the
// out-of-range rate is the other code's share.
func TestCategoricalFeature(t *testing.T) {
	site := model.Feature{Field: "site", Categories: []string{"ams", "ber"}}
	m := load(t, sigmoidSumGraph(1, 1), binarySpec(site))
	var train []map[string]any
	for v, n := range map[any]int{"ams": 60, "ber": 30, "xyz": 5, nil: 5} {
		for range n {
			train = append(train, map[string]any{"site": v})
		}
	}
	ref := reference(t, m, train, nil)
	got := ref.Features[0]
	if got.Kind != drift.KindCategorical || !slices.Equal(got.Shares, []float64{0.6, 0.3, 0.05, 0.05}) || got.NullRate != 0.05 {
		t.Fatalf("reference %+v", got)
	}
	live := []map[string]any{{"site": "ams"}, {"site": "cdg"}, {"site": "cdg"}, {"site": nil}}
	f := feature(t, window(t, m, ref, live), "site")
	// codes: ams 0.25, ber 0, other 0.5, null 0.25.
	e, a := []float64{0.6, 0.3, 0.05, 0.05}, []float64{0.25, 1e-4, 0.5, 0.25}
	wantPSI := 0.0
	for i := range e {
		wantPSI += (a[i] - e[i]) * math.Log(a[i]/e[i])
	}
	if *f.OutOfRangeRate != 0.5 || f.NullRate != 0.25 || math.Abs(*f.PSI-wantPSI) > 1e-9 || f.KS != nil || f.Mean != nil {
		t.Fatalf("site: oor %s null %v psi %s (want %.6f) ks %s mean %s", value(f.OutOfRangeRate), f.NullRate, value(f.PSI), wantPSI, value(f.KS), value(f.Mean))
	}
}

// TestTextFeature: a text is binned by its length, and its out-of-range
// rate is the share of its words outside the vocabulary, split as the
// model's tokenizer splits them.
func TestTextFeature(t *testing.T) {
	m := load(t, textLengthGraph(), textSpec())
	vocab := map[int]drift.TextVocabulary{0: {Words: []string{"free", "money", "hello"}, MinChars: 2}}
	train := []map[string]any{{"body": "Free money"}, {"body": "hello there"}, {"body": "x"}, {"body": "FREE FREE hello"}}
	ref := reference(t, m, train, vocab)
	got := ref.Features[0]
	if got.Kind != drift.KindText || got.Min != 1 || got.Max != 15 || got.OOVRate == nil || *got.OOVRate != 0.142857 || got.Vocabulary == "" {
		t.Fatalf("reference %+v: want lengths 1..15 and 1 word of 7 outside (x is too short to be a word)", got)
	}
	rep := window(t, m, ref, []map[string]any{{"body": "MONEY, money; unknown words!"}, {"body": "héllo"}})
	f := feature(t, rep, "body")
	if *f.OutOfRangeRate != 0.6 || *f.Mean != 17 || f.NullRate != 0 || f.KS != nil {
		t.Fatalf("live: oor %s (want 3 of 5 words) mean %s (want 17 bytes) null %v ks %s", value(f.OutOfRangeRate), value(f.Mean), f.NullRate, value(f.KS))
	}
	if *rep.Prediction.Mean != 0.5 || rep.Prediction.ClassShares != nil {
		t.Fatalf("a regressor's prediction: %+v", rep.Prediction)
	}
}

// TestObserveAllocatesNothing, on every kind of column.
func TestObserveAllocatesNothing(t *testing.T) {
	for name, tc := range map[string]struct {
		m   func(t *testing.T) *model.Model
		rec map[string]any
	}{
		"numeric and categorical": {
			m: func(t *testing.T) *model.Model {
				return load(t, sigmoidSumGraph(3, 1), binarySpec(model.Feature{Field: "x", Default: ptr(0)}, model.Feature{Field: "y"}, model.Feature{Field: "c", Categories: []string{"a"}}))
			},
			rec: map[string]any{"x": nil, "y": 1.0, "c": "b"},
		},
		"text": {
			m:   func(t *testing.T) *model.Model { return load(t, textLengthGraph(), textSpec()) },
			rec: map[string]any{"body": "Some words, some of them Ünknown"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			m := tc.m(t)
			ref := reference(t, m, []map[string]any{tc.rec, tc.rec}, map[int]drift.TextVocabulary{0: {Words: []string{"some"}, MinChars: 2}})
			w := drift.NewWindow(m.Spec(), ref)
			b := m.NewBatch()
			t.Cleanup(b.Close)
			if err := b.Add(tc.rec); err != nil {
				t.Fatal(err)
			}
			res, err := m.Run(b)
			if err != nil {
				t.Fatal(err)
			}
			if n := testing.AllocsPerRun(1000, func() { w.Observe(b, 0, res[0]) }); n != 0 {
				t.Fatalf("Observe allocated %v times a row", n)
			}
		})
	}
}

// BenchmarkObserve is the cost a scorer pays per row for monitoring a
// model of ten numeric columns, with a reference and without.
func BenchmarkObserve(b *testing.B) {
	const k = 10
	m := load(b, sigmoidSumGraph(k, 0.3), binarySpec(numbered(k)...))
	rng := rand.New(rand.NewPCG(9, 10))
	ref := reference(b, m, gaussianRows(rng, 5000, k, -1, 0), nil)
	batch := m.NewBatch()
	b.Cleanup(batch.Close)
	for _, rec := range gaussianRows(rng, 256, k, -1, 0) {
		if err := batch.Add(rec); err != nil {
			b.Fatal(err)
		}
	}
	res, err := m.Run(batch)
	if err != nil {
		b.Fatal(err)
	}
	for name, ref := range map[string]*drift.Profile{"reference": ref, "none": nil} {
		b.Run(name, func(b *testing.B) {
			w := drift.NewWindow(m.Spec(), ref)
			for b.Loop() {
				for i := range res {
					w.Observe(batch, i, res[i])
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(res)), "ns/row")
		})
	}
}
