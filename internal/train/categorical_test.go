package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestCategorySet(t *testing.T) {
	set := NewCategorySet(1, 4, 7, 64, 300)
	if got, want := set.Codes(), []int{1, 4, 7, 64, 300}; !slices.Equal(got, want) {
		t.Errorf("Codes() = %v, want %v", got, want)
	}
	if got := set.Len(); got != 5 {
		t.Errorf("Len() = %d, want 5", got)
	}
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	tests := []struct {
		x    float32
		want bool
	}{
		{1, true}, {4, true}, {7, true}, {64, true}, {300, true},
		{0, false}, {2, false}, {63, false}, {299, false},
		{float32(math.Copysign(0, -1)), false}, // -0 is code 0, not in the set
		{4.5, false}, {math.Nextafter32(4, 5), false}, {-1, false}, {-4, false},
		{320, false}, {1e9, false}, {nan, false}, {inf, false}, {-inf, false},
	}
	for _, tt := range tests {
		if got := set.Contains(tt.x); got != tt.want {
			t.Errorf("Contains(%v) = %v, want %v", tt.x, got, tt.want)
		}
	}
	if !NewCategorySet(0).Contains(float32(math.Copysign(0, -1))) {
		t.Error("-0 is not code 0")
	}
	if NewCategorySet().Contains(0) || CategorySet(nil).Len() != 0 {
		t.Error("the empty set holds a code")
	}
}

func TestFitRefusesMoreCodesThanBins(t *testing.T) {
	const rows = 600
	for _, tt := range []struct {
		maxBins, codes int
		errContains    string // empty: accepted
	}{
		{255, 255, ""},
		{255, 256, "categorical feature 1 has 256 category codes, more than MaxBins (255)"},
		{16, 16, ""},
		{16, 17, "categorical feature 1 has 17 category codes, more than MaxBins (16)"},
	} {
		features := make([]float32, 2*rows)
		labels := make([]float64, rows)
		for i := range rows {
			features[2*i] = float32(i % 7)
			features[2*i+1] = float32(i % tt.codes)
			labels[i] = float64(i % 2)
		}
		d, err := NewDataset(features, 2, labels)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.SetCategorical(1, tt.codes); err != nil {
			t.Fatal(err)
		}
		cfg := configFor(BinaryLogLoss, 2)
		cfg.MaxBins = tt.maxBins
		_, err = Fit(context.Background(), cfg, d)
		switch {
		case tt.errContains == "" && err != nil:
			t.Errorf("MaxBins %d, %d codes: %v", tt.maxBins, tt.codes, err)
		case tt.errContains != "" && (!errors.Is(err, ErrInvalidData) || !strings.Contains(err.Error(), tt.errContains)):
			t.Errorf("MaxBins %d, %d codes: error %v, want ErrInvalidData containing %q", tt.maxBins, tt.codes, err, tt.errContains)
		}
	}
}

// setData returns rows of one categorical feature of numCodes codes,
// drawn uniformly, and a numeric noise feature, whose label is 1 with
// probability 0.8 when the code is in positive and 0.2 otherwise.
func setData(t *testing.T, n, numCodes int, positive []int, seed uint64) *Dataset {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0xca7))
	features := make([]float32, 0, 2*n)
	labels := make([]float64, n)
	for i := range labels {
		code := rng.IntN(numCodes)
		features = append(features, float32(rng.NormFloat64()), float32(code))
		p := 0.2
		if slices.Contains(positive, code) {
			p = 0.8
		}
		if rng.Float64() < p {
			labels[i] = 1
		}
	}
	d, err := NewDataset(features, 2, labels)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetCategorical(1, numCodes); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestCategoricalSplitLearnsTheSet fits one split on data where the codes
// 1, 4 and 7 of 12 raise the odds and checks that the split separates
// exactly them; and, with 40 codes, a set of codes beyond 31 and 63.
func TestCategoricalSplitLearnsTheSet(t *testing.T) {
	for _, tt := range []struct {
		numCodes int
		positive []int
	}{
		{12, []int{1, 4, 7}},
		{100, []int{0, 31, 32, 63, 64, 99}},
	} {
		cfg := configFor(BinaryLogLoss, 1)
		cfg.MaxDepth = 1
		ens := fitForTest(t, cfg, setData(t, 20_000, tt.numCodes, tt.positive, 3))
		root, set := ens.Trees[0].Nodes[0], ens.Trees[0].categories(0)
		if root.Leaf || root.Feature != 1 || set == nil {
			t.Fatalf("root %+v, want a categorical split of feature 1", root)
		}
		if got := set.Codes(); !slices.Equal(got, tt.positive) {
			t.Errorf("%d codes: root sends %v left, want %v", tt.numCodes, got, tt.positive)
		}
		left, right := ens.Trees[0].Nodes[root.Left].Value, ens.Trees[0].Nodes[root.Right].Value
		if !(left > 0 && right < 0) {
			t.Errorf("leaf values %v (left) and %v (right): the set should raise the score", left, right)
		}
	}
}

// TestCategoricalSplitKeepsSmallCategoriesRight checks scikit-learn's
// minimum support: a code of 5 rows, all positive, cannot join the
// positive set, and a code the node never saw goes right as well.
func TestCategoricalSplitKeepsSmallCategoriesRight(t *testing.T) {
	d := setData(t, 10_000, 6, []int{2}, 4)
	// Append 5 rows of code 6, all positive; code 7 is never seen.
	features := slices.Clone(d.features)
	labels := slices.Clone(d.labels)
	for range 5 {
		features = append(features, 0, 6)
		labels = append(labels, 1)
	}
	d, err := NewDataset(features, 2, labels)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetCategorical(1, 8); err != nil {
		t.Fatal(err)
	}
	cfg := configFor(BinaryLogLoss, 1)
	cfg.MaxDepth = 1
	cfg.MinSamplesLeaf = 1
	ens := fitForTest(t, cfg, d)
	set := ens.Trees[0].categories(0)
	if got := set.Codes(); !slices.Equal(got, []int{2}) {
		t.Errorf("root sends %v left, want [2]: code 6 has too little support", got)
	}
	for _, code := range []float32{6, 7} {
		if set.Contains(code) {
			t.Errorf("code %v goes left", code)
		}
	}
}

func TestValidateRefusesBadCategorySets(t *testing.T) {
	tree := func(set CategorySet) *Ensemble {
		e := stump(0)
		e.Trees[0].Categories = []CategorySet{set, nil, nil}
		return e
	}
	tests := []struct {
		name        string
		ens         *Ensemble
		errContains string
	}{
		{"empty set", tree(CategorySet{0}), "node 0 splits on an empty set of categories"},
		{"too many words", tree(make(CategorySet, MaxCategoryCodes/64+1)), "category set of 1025 words"},
		{"feature split on a threshold and on a set", func() *Ensemble {
			e := stump(0)
			e.Trees = append(e.Trees, tree(NewCategorySet(1)).Trees[0])
			return e
		}(), "tree 0: node 0 splits feature 0 on a threshold, which other nodes split on sets of categories"},
		{"a set per node or none", func() *Ensemble {
			e := tree(NewCategorySet(1))
			e.Trees[0].Categories = e.Trees[0].Categories[:2]
			return e
		}(), "tree 0: 2 category sets for 3 nodes"},
		{"a set on a leaf", func() *Ensemble {
			e := tree(NewCategorySet(1))
			e.Trees[0].Categories[2] = NewCategorySet(1)
			return e
		}(), "tree 0: leaf 2 has a category set"},
		{"NaN threshold beside a set is ignored", func() *Ensemble {
			e := tree(NewCategorySet(3))
			e.Trees[0].Nodes[0].Threshold = float32(math.NaN())
			return e
		}(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.ens.Validate()
			if tt.errContains == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidEnsemble) || !strings.Contains(err.Error(), tt.errContains) {
				t.Errorf("Validate() = %v, want ErrInvalidEnsemble containing %q", err, tt.errContains)
			}
		})
	}
}

// TestCategoricalFitDoesNotDependOnWorkers fits mixed numeric and
// categorical data, large enough that histograms, partitions and early
// stopping run in parallel, with 1 to 3 workers.
func TestCategoricalFitDoesNotDependOnWorkers(t *testing.T) {
	data := mixedData(t, BinaryLogLoss, 60_000, 5)
	cfg := configFor(BinaryLogLoss, 20)
	cfg.EarlyStopping = EarlyStoppingOn
	cfg.Workers = 1
	serial := fitForTest(t, cfg, data)
	if !serial.hasCategoricalSplit() {
		t.Fatal("the fit has no categorical split")
	}
	for _, workers := range []int{2, 3} {
		cfg.Workers = workers
		if got := fitForTest(t, cfg, data); !reflect.DeepEqual(got, serial) {
			t.Errorf("%d workers fit another ensemble than 1", workers)
		}
	}
}

// TestCategoricalEarlyStoppingRoutesValidationRows checks the validation
// scores, which early stopping computes from binned rows, against the Go
// predictor's loss on the same held-out rows.
func TestCategoricalEarlyStoppingRoutesValidationRows(t *testing.T) {
	data := mixedData(t, BinaryLogLoss, 20_000, 6)
	cfg := configFor(BinaryLogLoss, 15)
	cfg.EarlyStopping = EarlyStoppingOn
	ens := fitForTest(t, cfg, data)
	_, val, err := validationSplit(data.labels, cfg.ValidationFraction, 2, cfg.Seed)
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]float32, 1)
	var loss float64
	for _, i := range val {
		ens.rawScores(data.Row(int(i)), raw)
		loss += logLoss{}.loss(data.Label(int(i)), [][]float64{{float64(raw[0])}}, 0)
	}
	loss /= float64(len(val))
	got := -ens.Stats.ValidationScores[len(ens.Stats.ValidationScores)-1]
	if math.Abs(got-loss) > 1e-6 {
		t.Errorf("last validation loss %v, the predictor's %v", got, loss)
	}
}
