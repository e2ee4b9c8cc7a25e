package train

import (
	"encoding/json"
	"math"
	"path/filepath"
	"testing"
)

// These tests fit scikit-learn's HistGradientBoosting (through
// testdata/hgb_reference.py) beside Fit on the same rows, with the same
// parameters under scikit-learn's names, and compare what the parameters
// are meant to control.

// hgbResult is what hgb_reference.py reports.
type hgbResult struct {
	NIter         []int     `json:"n_iter"`
	EarlyStopping bool      `json:"early_stopping"`
	Baseline      float64   `json:"baseline"`
	Leaves        []int     `json:"leaves"`
	Predictions   []float64 `json:"predictions"`
}

// fitScikitLearn fits scikit-learn's estimator for obj with params on
// train, once per random_state below seeds, and predicts test.
func fitScikitLearn(t *testing.T, obj Objective, params map[string]any, train, test *Dataset, seeds int) hgbResult {
	t.Helper()
	requirePythonModules(t, "sklearn", "numpy")
	kind := "classifier"
	if obj == SquaredError {
		kind = "regressor"
	}
	encoded, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	trainPath, testPath := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
	writeCSV(t, trainPath, train, nil, nil)
	writeCSV(t, testPath, test, nil, nil)
	var result hgbResult
	runPythonJSON(t, "hgb_reference.py", nil, &result, kind, string(encoded), trainPath, testPath, itoa(seeds))
	return result
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func numLeaves(t *Tree) int {
	n := 0
	for _, node := range t.Nodes {
		if node.Leaf {
			n++
		}
	}
	return n
}

// meanAbsDiff returns the mean absolute difference between the Go model's
// predictions of test and scikit-learn's.
func meanAbsDiff(t *testing.T, ens *Ensemble, test *Dataset, theirs []float64) float64 {
	t.Helper()
	ours, _ := goScores(t, ens, test)
	if len(ours) != len(theirs) {
		t.Fatalf("%d Go predictions, %d from scikit-learn", len(ours), len(theirs))
	}
	var sum float64
	for i := range ours {
		sum += math.Abs(float64(ours[i]) - theirs[i])
	}
	return sum / float64(len(ours))
}

// sameBinsTolerance bounds the mean absolute difference between Go's and
// scikit-learn's predictions on data both bin alike (see coarseData): what
// is left is float32 rounding of leaf values and gradients.
const sameBinsTolerance = 1e-6

// TestLeafWiseGrowthMatchesScikitLearn grows trees best-first under
// max_leaf_nodes, max_depth and min_samples_leaf, early stopping off, on
// data that both libraries bin alike, and checks that every tree has as
// many leaves as scikit-learn's tree of the same round and that the
// predictions agree.
func TestLeafWiseGrowthMatchesScikitLearn(t *testing.T) {
	skipInShortMode(t, "the scikit-learn parity of leaf-wise growth")
	tests := []struct {
		name                   string
		obj                    Objective
		maxLeafNodes, maxDepth int // 0: None
		minSamplesLeaf         int
	}{
		{"31 leaves", BinaryLogLoss, 31, 0, 20},
		{"8 leaves within depth 3", BinaryLogLoss, 8, 3, 20},
		{"no limit but min_samples_leaf", BinaryLogLoss, 0, 0, 150},
		{"5 leaves", SquaredError, 5, 0, 20},
		{"31 leaves regression", SquaredError, 31, 0, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			train := coarseData(t, syntheticData(t, tt.obj, 5000, 41))
			test := coarseData(t, syntheticData(t, tt.obj, 2000, 42))
			cfg := configFor(tt.obj, 20)
			cfg.MaxLeafNodes, cfg.MaxDepth, cfg.MinSamplesLeaf = tt.maxLeafNodes, tt.maxDepth, tt.minSamplesLeaf
			cfg.EarlyStopping = EarlyStoppingOff
			ens := fitForTest(t, cfg, train)
			sk := fitScikitLearn(t, tt.obj, map[string]any{
				"max_iter": 20, "max_leaf_nodes": noneIfZero(tt.maxLeafNodes), "max_depth": noneIfZero(tt.maxDepth),
				"min_samples_leaf": tt.minSamplesLeaf, "early_stopping": false,
			}, train, test, 1)

			if len(sk.Leaves) != len(ens.Trees) {
				t.Fatalf("%d Go trees, %d scikit-learn trees", len(ens.Trees), len(sk.Leaves))
			}
			for i := range ens.Trees {
				if got := numLeaves(&ens.Trees[i]); got != sk.Leaves[i] {
					t.Errorf("tree %d has %d leaves, scikit-learn's %d", i, got, sk.Leaves[i])
				}
				if d := treeDepth(&ens.Trees[i], 0); tt.maxDepth > 0 && d > tt.maxDepth {
					t.Errorf("tree %d has depth %d, max_depth is %d", i, d, tt.maxDepth)
				}
			}
			diff := meanAbsDiff(t, ens, test, sk.Predictions)
			t.Logf("leaves of the first trees: go %v, scikit-learn %v; mean |go - scikit-learn| prediction %.2g", leafCounts(ens, 5), sk.Leaves[:5], diff)
			if diff > sameBinsTolerance {
				t.Errorf("mean absolute difference of predictions %.2g, want at most %v", diff, sameBinsTolerance)
			}
		})
	}
}

// coarseData returns d's rows with every feature rounded to a multiple of
// 1/8 and missing values replaced by 0: fewer distinct values than bins,
// which scikit-learn and Fit both bin one value per bin with edges midway
// between them, so that the two libraries see the same bins and the
// comparison is of the growth alone.
func coarseData(t *testing.T, d *Dataset) *Dataset {
	t.Helper()
	features := make([]float32, len(d.features))
	for i, v := range d.features {
		if !isNaN(v) {
			features[i] = float32(math.Round(float64(v)*8) / 8)
		}
	}
	coarse, err := NewDataset(features, d.numFeatures, d.labels)
	if err != nil {
		t.Fatal(err)
	}
	return coarse
}

func leafCounts(ens *Ensemble, n int) []int {
	var counts []int
	for i := range min(n, len(ens.Trees)) {
		counts = append(counts, numLeaves(&ens.Trees[i]))
	}
	return counts
}

func noneIfZero(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

// TestEarlyStoppingMatchesScikitLearn fits, with early stopping at its
// defaults (10% of the rows held out, n_iter_no_change 10, tol 1e-7, on the
// loss), a set of 30,000 rows on which scikit-learn stops well before
// max_iter. The held-out rows are drawn by different generators, so the
// rounds may differ a little: Go's must fall within the range of
// scikit-learn's over five random_states, widened by a fifth.
func TestEarlyStoppingMatchesScikitLearn(t *testing.T) {
	skipInShortMode(t, "the scikit-learn parity of early stopping")
	train := coarseData(t, syntheticData(t, BinaryLogLoss, 30_000, 43))
	test := coarseData(t, syntheticData(t, BinaryLogLoss, 1000, 44))
	cfg := configFor(BinaryLogLoss, 1000)
	cfg.LearningRate = 0.3
	ens := fitForTest(t, cfg, train)
	sk := fitScikitLearn(t, BinaryLogLoss, map[string]any{"max_iter": 1000, "learning_rate": 0.3}, train, test, 5)

	lo, hi := sk.NIter[0], sk.NIter[0]
	for _, n := range sk.NIter {
		lo, hi = min(lo, n), max(hi, n)
	}
	t.Logf("rounds: go %d, scikit-learn %v", ens.Stats.Iterations, sk.NIter)
	if !sk.EarlyStopping || hi >= 1000 {
		t.Fatalf("scikit-learn did not stop early (%v rounds): the data set does not test early stopping", sk.NIter)
	}
	if !ens.Stats.EarlyStopped || len(ens.Trees) != ens.Stats.Iterations {
		t.Errorf("stats %+v with %d trees: want an early stop", ens.Stats, len(ens.Trees))
	}
	slack := (hi + lo) / 10
	if n := ens.Stats.Iterations; n < lo-slack || n > hi+slack {
		t.Errorf("go stopped after %d rounds, scikit-learn after %d to %d", n, lo, hi)
	}
	if got := len(ens.Stats.ValidationScores); got != ens.Stats.Iterations+1 {
		t.Errorf("%d validation scores for %d rounds, want one more: the base scores'", got, ens.Stats.Iterations)
	}
}

// TestEarlyStoppingAutoFollowsScikitLearn checks that early stopping by
// default is off at 10,000 rows and on at 10,001, on both sides.
func TestEarlyStoppingAutoFollowsScikitLearn(t *testing.T) {
	skipInShortMode(t, "the scikit-learn parity of early stopping's auto rule")
	test := syntheticData(t, BinaryLogLoss, 10, 46)
	for _, rows := range []int{10_000, 10_001} {
		train := syntheticData(t, BinaryLogLoss, rows, 45)
		ens := fitForTest(t, configFor(BinaryLogLoss, 3), train)
		sk := fitScikitLearn(t, BinaryLogLoss, map[string]any{"max_iter": 3}, train, test, 1)
		goStops := ens.Stats.ValidationScores != nil
		if goStops != sk.EarlyStopping || goStops != (rows > 10_000) {
			t.Errorf("%d rows: early stopping go %v, scikit-learn %v; want it on above 10,000 rows", rows, goStops, sk.EarlyStopping)
		}
	}
}

// TestBalancedClassWeightMatchesScikitLearn fits class_weight='balanced' on
// a set with about 7% positives that both libraries bin alike, and checks
// the base score, which balanced weights move to logit(0.5) = 0, and the
// predictions.
func TestBalancedClassWeightMatchesScikitLearn(t *testing.T) {
	skipInShortMode(t, "the scikit-learn parity of balanced class weights")
	train := coarseData(t, rareClassData(t, syntheticData(t, BinaryLogLoss, 8000, 47)))
	test := coarseData(t, syntheticData(t, BinaryLogLoss, 1000, 48))
	cfg := configFor(BinaryLogLoss, 20)
	cfg.ClassWeight.Balanced = true
	ens := fitForTest(t, cfg, train)
	sk := fitScikitLearn(t, BinaryLogLoss, map[string]any{"max_iter": 20, "class_weight": "balanced"}, train, test, 1)

	if math.Abs(float64(ens.BaseScores[0])-sk.Baseline) > 1e-6 {
		t.Errorf("base score %v, scikit-learn's %v", ens.BaseScores[0], sk.Baseline)
	}
	unweighted := fitForTest(t, configFor(BinaryLogLoss, 20), train)
	if math.Abs(float64(unweighted.BaseScores[0])) < 1 {
		t.Fatalf("unweighted base score %v: the data set is not imbalanced enough to test class weights", unweighted.BaseScores[0])
	}
	diff := meanAbsDiff(t, ens, test, sk.Predictions)
	t.Logf("base score go %v, scikit-learn %v (unweighted %v); mean |go - scikit-learn| prediction %.2g", ens.BaseScores[0], sk.Baseline, unweighted.BaseScores[0], diff)
	if diff > sameBinsTolerance {
		t.Errorf("mean absolute difference of predictions %.2g, want at most %v", diff, sameBinsTolerance)
	}
}

// rareClassData keeps every negative row of d and one positive row in ten.
func rareClassData(t *testing.T, d *Dataset) *Dataset {
	t.Helper()
	var features []float32
	var labels []float64
	for i := range d.NumRows() {
		if d.Label(i) == 1 && i%10 != 0 {
			continue
		}
		features = append(features, d.Row(i)...)
		labels = append(labels, d.Label(i))
	}
	rare, err := NewDataset(features, d.numFeatures, labels)
	if err != nil {
		t.Fatal(err)
	}
	return rare
}
