package train

import (
	"cmp"
	"math"
	"slices"
	"testing"
)

// These tests fit scikit-learn's HistGradientBoosting with
// categorical_features (through testdata/hgb_reference.py) beside Fit on
// the same rows, the same columns marked categorical on both sides.

// categoricalColumns are mixedData's categorical features, as
// scikit-learn's categorical_features names them.
var categoricalColumns = []int{1, 2}

// TestCategoricalQualityMatchesScikitLearn fits both libraries at their
// defaults on data whose only signal is the interaction of two
// categorical features, and checks that their held-out ROC AUC differ by
// at most qualityTolerance. The same fit with the codes taken as numbers
// is logged beside them.
func TestCategoricalQualityMatchesScikitLearn(t *testing.T) {
	train := interactionData(t, BinaryLogLoss, 20_000, 51)
	test := interactionData(t, BinaryLogLoss, 10_000, 52)
	ens := fitForTest(t, configFor(BinaryLogLoss, 100), train)
	sk := fitScikitLearn(t, BinaryLogLoss, map[string]any{"max_iter": 100, "categorical_features": categoricalColumns}, train, test, 1)
	numeric := fitForTest(t, configFor(BinaryLogLoss, 100), withoutCategories(t, train))

	goAUC := rocAUC(predictProba1(t, ens, test), test.labels)
	skAUC := rocAUC(sk.Predictions, test.labels)
	t.Logf("codes as numbers: go ROC AUC %.4f", rocAUC(predictProba1(t, numeric, test), test.labels))
	checkQuality(t, "ROC AUC", goAUC, skAUC)
	if !ens.hasCategoricalSplit() {
		t.Error("the fit has no categorical split")
	}
}

// TestCategoricalTreesMatchScikitLearn grows 20 trees, early stopping off,
// on mixed data whose numeric features both libraries bin alike, and
// checks that every tree has as many leaves as scikit-learn's and that the
// predictions agree to float32 rounding: the category sets are the same.
func TestCategoricalTreesMatchScikitLearn(t *testing.T) {
	for _, obj := range []Objective{BinaryLogLoss, SquaredError, MulticlassLogLoss} {
		t.Run(obj.String(), func(t *testing.T) {
			train := coarseMixed(t, mixedData(t, obj, 8000, 53))
			test := coarseMixed(t, mixedData(t, obj, 2000, 54))
			cfg := configFor(obj, 20)
			cfg.EarlyStopping = EarlyStoppingOff
			ens := fitForTest(t, cfg, train)
			sk := fitScikitLearn(t, obj, map[string]any{
				"max_iter": 20, "early_stopping": false, "categorical_features": categoricalColumns,
			}, train, test, 1)

			if len(sk.Leaves) != len(ens.Trees) {
				t.Fatalf("%d Go trees, %d scikit-learn trees", len(ens.Trees), len(sk.Leaves))
			}
			for i := range ens.Trees {
				if got := numLeaves(&ens.Trees[i]); got != sk.Leaves[i] {
					t.Errorf("tree %d has %d leaves, scikit-learn's %d", i, got, sk.Leaves[i])
				}
			}
			var diff float64
			if obj == MulticlassLogLoss {
				diff = meanAbsDiffClass1(t, ens, test, sk.Predictions)
			} else {
				diff = meanAbsDiff(t, ens, test, sk.Predictions)
			}
			t.Logf("mean |go - scikit-learn| prediction %.2g", diff)
			if diff > sameBinsTolerance {
				t.Errorf("mean absolute difference of predictions %.2g, want at most %v", diff, sameBinsTolerance)
			}
		})
	}
}

// coarseMixed returns d, mixed data, with its numeric features rounded as
// coarseData rounds them, so that both libraries bin them alike.
func coarseMixed(t *testing.T, d *Dataset) *Dataset {
	t.Helper()
	coarse := coarseData(t, d)
	for _, f := range categoricalColumns {
		if err := coarse.SetCategorical(f, d.Categories(f)); err != nil {
			t.Fatal(err)
		}
	}
	return coarse
}

// withoutCategories returns d's rows with every feature numeric.
func withoutCategories(t *testing.T, d *Dataset) *Dataset {
	t.Helper()
	plain, err := NewDataset(d.features, d.numFeatures, d.labels)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

// predictProba1 returns the probability of class 1 of every row.
func predictProba1(t *testing.T, ens *Ensemble, d *Dataset) []float64 {
	t.Helper()
	k := ens.NumClasses()
	proba := make([]float32, k*d.NumRows())
	if err := ens.PredictProbaBatch(d.features, proba); err != nil {
		t.Fatal(err)
	}
	out := make([]float64, d.NumRows())
	for i := range out {
		out[i] = float64(proba[i*k+1])
	}
	return out
}

// meanAbsDiffClass1 is meanAbsDiff for a multiclass model, whose
// scikit-learn predictions are the probabilities of class 1.
func meanAbsDiffClass1(t *testing.T, ens *Ensemble, test *Dataset, theirs []float64) float64 {
	t.Helper()
	ours := predictProba1(t, ens, test)
	if len(ours) != len(theirs) {
		t.Fatalf("%d Go predictions, %d from scikit-learn", len(ours), len(theirs))
	}
	var sum float64
	for i := range ours {
		sum += math.Abs(ours[i] - theirs[i])
	}
	return sum / float64(len(ours))
}

// rocAUC returns the area under the ROC curve of scores for labels 0 and
// 1: the probability that a positive row scores above a negative one, ties
// counting half.
func rocAUC(scores, labels []float64) float64 {
	order := make([]int, len(scores))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(scores[a], scores[b]) })
	var rankSum, positives float64
	for i := 0; i < len(order); {
		j := i
		for j < len(order) && scores[order[j]] == scores[order[i]] {
			j++
		}
		rank := float64(i+j+1) / 2 // the mean of ranks i+1..j
		for _, r := range order[i:j] {
			if labels[r] == 1 {
				rankSum += rank
				positives++
			}
		}
		i = j
	}
	negatives := float64(len(scores)) - positives
	return (rankSum - positives*(positives+1)/2) / (positives * negatives)
}
