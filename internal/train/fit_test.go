package train

import (
	"context"
	"errors"
	"math"
	"reflect"
	"testing"
)

func TestFitIsDeterministic(t *testing.T) {
	data := syntheticData(t, BinaryLogLoss, 3000, 1)
	cfg := configFor(BinaryLogLoss, 10)
	first := fitForTest(t, cfg, data)
	second := fitForTest(t, cfg, data)
	if !reflect.DeepEqual(first, second) {
		t.Error("two fits with the same seed and data differ")
	}
}

func TestFitRespectsMaxDepthAndMinSamplesLeaf(t *testing.T) {
	data := syntheticData(t, SquaredError, 5000, 2)
	cfg := configFor(SquaredError, 10)
	cfg.MaxDepth, cfg.MinSamplesLeaf = 3, 200
	ens := fitForTest(t, cfg, data)

	for i, tree := range ens.Trees {
		if d := treeDepth(&tree, 0); d > cfg.MaxDepth {
			t.Errorf("tree %d has depth %d, MaxDepth is %d", i, d, cfg.MaxDepth)
		}
		rowsPerLeaf := map[int32]int{}
		for r := range data.NumRows() {
			rowsPerLeaf[leafIndex(&tree, data.Row(r))]++
		}
		for leaf, n := range rowsPerLeaf {
			if n < cfg.MinSamplesLeaf {
				t.Errorf("tree %d leaf %d holds %d rows, MinSamplesLeaf is %d", i, leaf, n, cfg.MinSamplesLeaf)
			}
		}
	}
}

func treeDepth(t *Tree, i int32) int {
	n := t.Nodes[i]
	if n.Leaf {
		return 0
	}
	return 1 + max(treeDepth(t, n.Left), treeDepth(t, n.Right))
}

func leafIndex(t *Tree, row []float32) int32 {
	i := int32(0)
	for !t.Nodes[i].Leaf {
		if n := t.Nodes[i]; row[n.Feature] <= n.Threshold {
			i = n.Left
		} else {
			i = n.Right
		}
	}
	return i
}

func TestFitReducesLoss(t *testing.T) {
	tests := []struct {
		obj  Objective
		loss func(ens *Ensemble, data *Dataset) float64
	}{
		{BinaryLogLoss, meanLogLoss},
		{SquaredError, meanSquaredError},
		{MulticlassLogLoss, meanLogLoss},
	}
	for _, tt := range tests {
		t.Run(tt.obj.String(), func(t *testing.T) {
			data := syntheticData(t, tt.obj, 4000, 3)
			baseline := fitForTest(t, configFor(tt.obj, 1), data)
			baseline.Trees = nil // the base score alone
			boosted := fitForTest(t, configFor(tt.obj, 50), data)
			before, after := tt.loss(baseline, data), tt.loss(boosted, data)
			if after > 0.7*before {
				t.Errorf("training loss %.4f after 50 trees, %.4f before: want at least 30%% lower", after, before)
			}
		})
	}
}

func meanLogLoss(ens *Ensemble, data *Dataset) float64 {
	var sum float64
	proba := make([]float32, ens.NumClasses())
	for i := range data.NumRows() {
		if err := ens.PredictProba(data.Row(i), proba); err != nil {
			panic(err)
		}
		sum -= math.Log(float64(proba[int(data.Label(i))]))
	}
	return sum / float64(data.NumRows())
}

func meanSquaredError(ens *Ensemble, data *Dataset) float64 {
	var sum float64
	for i := range data.NumRows() {
		v, err := ens.Predict(data.Row(i))
		if err != nil {
			panic(err)
		}
		sum += (float64(v) - data.Label(i)) * (float64(v) - data.Label(i))
	}
	return sum / float64(data.NumRows())
}

// TestFitSplitsOnMissingValues checks that a feature that matters only by
// being missing is learnt, through a split at threshold +Inf.
func TestFitSplitsOnMissingValues(t *testing.T) {
	n := 1000
	features := make([]float32, n)
	labels := make([]float64, n)
	for i := range n {
		features[i] = float32(i % 7)
		if i%3 == 0 {
			features[i] = float32(math.NaN())
			labels[i] = 1
		}
	}
	data, err := NewDataset(features, 1, labels)
	if err != nil {
		t.Fatal(err)
	}
	ens := fitForTest(t, configFor(BinaryLogLoss, 20), data)

	if root := ens.Trees[0].Nodes[0]; root.Leaf || !math.IsInf(float64(root.Threshold), 1) {
		t.Fatalf("first tree's root = %+v, want a split at +Inf", root)
	}
	for _, tt := range []struct {
		x    float32
		want float32
	}{{float32(math.NaN()), 1}, {3, 0}, {float32(math.Inf(1)), 0}} {
		if got, _ := ens.Predict([]float32{tt.x}); got != tt.want {
			t.Errorf("Predict(%v) = %v, want %v", tt.x, got, tt.want)
		}
	}
}

func TestFitRejectsInvalidInput(t *testing.T) {
	binaryData := syntheticData(t, BinaryLogLoss, 100, 4)
	regressionData := syntheticData(t, SquaredError, 100, 4)
	badConfig := DefaultConfig()
	badConfig.MaxDepth = -1
	labelled := func(labels ...float64) *Dataset {
		d, err := NewDataset(make([]float32, len(labels)), 1, labels)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	tests := []struct {
		name string
		cfg  Config
		data *Dataset
		want error
	}{
		{"invalid config", badConfig, binaryData, ErrInvalidConfig},
		{"non-binary labels", configFor(BinaryLogLoss, 1), regressionData, ErrInvalidData},
		{"class label too large", configFor(MulticlassLogLoss, 1), labelled(0, 1, 2, 3), ErrInvalidData},
		{"negative class label", configFor(MulticlassLogLoss, 1), labelled(0, 1, -1), ErrInvalidData},
		{"fractional class label", configFor(MulticlassLogLoss, 1), labelled(0, 1, 1.5), ErrInvalidData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Fit(context.Background(), tt.cfg, tt.data); !errors.Is(err, tt.want) {
				t.Errorf("Fit error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestFitStopsWhenContextIsCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Fit(ctx, configFor(BinaryLogLoss, 10), syntheticData(t, BinaryLogLoss, 100, 5))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Fit error = %v, want context.Canceled", err)
	}
}

// TestMulticlassBaseScoresAreCentredLogPriors checks the starting scores:
// the log of each class's frequency, shifted to sum to zero, so that their
// softmax is the class frequencies.
func TestMulticlassBaseScoresAreCentredLogPriors(t *testing.T) {
	labels := []float64{0, 1, 1, 2, 2, 2, 2, 2, 2, 2}
	data, err := NewDataset(make([]float32, len(labels)), 1, labels)
	if err != nil {
		t.Fatal(err)
	}
	ens := fitForTest(t, configFor(MulticlassLogLoss, 1), data)
	var sum float64
	for _, b := range ens.BaseScores {
		sum += float64(b)
	}
	if math.Abs(sum) > 1e-6 {
		t.Errorf("base scores %v sum to %v, want 0", ens.BaseScores, sum)
	}
	proba := make([]float32, 3)
	softmax(ens.BaseScores, proba)
	for k, want := range []float64{0.1, 0.2, 0.7} {
		if math.Abs(float64(proba[k])-want) > 1e-6 {
			t.Errorf("softmax(base scores) = %v, want [0.1 0.2 0.7]", proba)
		}
	}
}

// TestMulticlassGrowsOneTreePerClassPerRound checks the layout of a
// multiclass ensemble: MaxIter rounds of NumClasses trees, tree i for
// class i % NumClasses.
func TestMulticlassGrowsOneTreePerClassPerRound(t *testing.T) {
	cfg := configFor(MulticlassLogLoss, 7)
	cfg.NumClasses = 4
	data := syntheticData(t, MulticlassLogLoss, 1000, 7) // classes 0..2: class 3 is never seen
	ens := fitForTest(t, cfg, data)
	if len(ens.Trees) != 7*4 || ens.NumOutputs() != 4 || ens.NumClasses() != 4 {
		t.Fatalf("%d trees, %d outputs, %d classes; want 28, 4, 4", len(ens.Trees), ens.NumOutputs(), ens.NumClasses())
	}
	// The unseen class's probability only shrinks from its floor of 1e-7.
	proba := make([]float32, 4*data.NumRows())
	if err := ens.PredictProbaBatch(data.features, proba); err != nil {
		t.Fatal(err)
	}
	for i := 3; i < len(proba); i += 4 {
		if proba[i] > 1e-7 {
			t.Fatalf("row %d: probability %v of the unseen class 3", i/4, proba[i])
		}
	}
}
