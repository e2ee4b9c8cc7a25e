package train

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestLinearQualityMatchesScikitLearn fits the Go linear model and the
// scikit-learn pipeline it is equivalent to (mean SimpleImputer,
// StandardScaler, LogisticRegression or Ridge, through
// testdata/linear_reference.py) on the same synthetic training set. Both
// minimise the same objective, so their held-out metrics must agree within
// qualityTolerance and their predictions within maxDifference: the
// logistic fits stop at the same gradient tolerance from the same start,
// the ridge fits are exact.
func TestLinearQualityMatchesScikitLearn(t *testing.T) {
	skipInShortMode(t, "the scikit-learn quality parity of linear models")
	requirePythonModules(t, "sklearn", "numpy")
	tests := []struct {
		name          string
		obj           Objective
		task          string
		metric        string
		alpha         float64
		maxDifference float64
	}{
		{"binary logistic", BinaryLogLoss, "classification", "ROC AUC", 1, 1e-3},
		{"multinomial logistic", MulticlassLogLoss, "multiclass", "log loss", 1, 1e-3},
		{"ridge", SquaredError, "regression", "R²", 10, 1e-4},
		{"least squares", SquaredError, "regression", "R²", 0, 1e-4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			train := syntheticData(t, tt.obj, 20_000, 62)
			test := syntheticData(t, tt.obj, 10_000, 63)
			cfg := linearConfigFor(tt.obj)
			cfg.Alpha = tt.alpha
			m := fitLinearForTest(t, cfg, train)
			scores, columns := goScores(t, m, test)

			got := runLinearReference(t, tt.task, cfg, train, test, scores, columns)
			checkQuality(t, tt.metric, got.Go, got.Sklearn)
			t.Logf("largest prediction difference %.2g after %d iterations", got.MaxDifference, m.Stats.Iterations)
			if !(got.MaxDifference <= tt.maxDifference) {
				t.Errorf("predictions differ from scikit-learn's by up to %g, want at most %g", got.MaxDifference, tt.maxDifference)
			}
		})
	}
}

// linearReferenceResult is what testdata/linear_reference.py prints.
type linearReferenceResult struct {
	Sklearn       float64 `json:"sklearn"`
	Go            float64 `json:"go"`
	MaxDifference float64 `json:"max_difference"`
	// Classifiers only.
	SklearnF1 *float64 `json:"sklearn_f1"`
	GoF1      *float64 `json:"go_f1"`
}

// runLinearReference fits scikit-learn's pipeline of cfg's settings on
// train, with train's categorical features one-hot encoded, and scores it
// and the Go model's scores against test.
func runLinearReference(t *testing.T, task string, cfg LinearConfig, train, test *Dataset, scores []float32, columns []string) linearReferenceResult {
	t.Helper()
	dir := t.TempDir()
	trainPath, testPath := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
	writeCSV(t, trainPath, train, nil, nil)
	writeCSV(t, testPath, test, scores, columns)
	var categorical []string
	for f := range train.NumFeatures() {
		if c := train.Categories(f); c > 0 {
			categorical = append(categorical, fmt.Sprintf("%d:%d", f, c))
		}
	}
	env := []string{
		fmt.Sprintf("C=%v", cfg.C), fmt.Sprintf("ALPHA=%v", cfg.Alpha),
		fmt.Sprintf("MAX_ITER=%d", cfg.MaxIterations), fmt.Sprintf("TOL=%v", cfg.Tolerance),
		"CATEGORICAL=" + strings.Join(categorical, ","),
	}
	var got linearReferenceResult
	runPythonJSON(t, "linear_reference.py", env, &got, task, trainPath, testPath)
	return got
}

// TestLinearCategoricalQualityMatchesScikitLearn fits the Go linear model
// and scikit-learn's pipeline for it (a ColumnTransformer of a mean
// SimpleImputer and StandardScaler over the numeric features and a
// OneHotEncoder of every code over the categorical ones, then
// LogisticRegression or Ridge) on the same rows of numeric and categorical
// features: with categories of 7 and 30 codes, and with a third of 10,000
// codes, most of them rare or unseen, whose ridge regression is solved by
// conjugate gradients. Their held-out ROC AUC and F1 (logistic), log loss
// and macro F1 (multinomial) or R² (ridge) must agree within
// qualityTolerance.
func TestLinearCategoricalQualityMatchesScikitLearn(t *testing.T) {
	skipInShortMode(t, "the scikit-learn quality parity of linear categorical models")
	requirePythonModules(t, "sklearn", "numpy")
	// maxDifference bounds the largest difference of the two models'
	// predictions. The logistic fits stop at a gradient of 1e-4 of the mean
	// loss, where the weight of a code of a few rows in 20,000 is still
	// loose, and the wide ones after 100 iterations, as scikit-learn's do;
	// the ridge fits are exact, or within 1e-10 by conjugate gradients.
	tests := []struct {
		name          string
		obj           Objective
		task          string
		metric        string
		maxDifference float64
	}{
		{"binary logistic", BinaryLogLoss, "classification", "ROC AUC", 0.05},
		{"multinomial logistic", MulticlassLogLoss, "multiclass", "log loss", 0.05},
		{"ridge", SquaredError, "regression", "R²", 1e-5},
	}
	for _, wideCodes := range []int{0, 10_000} {
		for _, tt := range tests {
			name := tt.name
			if wideCodes > 0 {
				name += fmt.Sprintf("/%d codes", wideCodes)
			}
			t.Run(name, func(t *testing.T) {
				train := linearCategoricalData(t, tt.obj, 20_000, 81, wideCodes)
				test := linearCategoricalData(t, tt.obj, 10_000, 82, wideCodes)
				cfg := linearConfigFor(tt.obj)
				m := fitLinearForTest(t, cfg, train)
				scores, columns := goScores(t, m, test)
				got := runLinearReference(t, tt.task, cfg, train, test, scores, columns)

				checkQuality(t, tt.metric, got.Go, got.Sklearn)
				if tt.obj != SquaredError {
					if got.GoF1 == nil || got.SklearnF1 == nil {
						t.Fatalf("linear_reference.py reported no F1: %+v", got)
					}
					checkQuality(t, "F1", *got.GoF1, *got.SklearnF1)
				}
				t.Logf("%s: Go %.5f, scikit-learn %.5f; largest prediction difference %.2g; %d columns, %+v",
					tt.metric, got.Go, got.Sklearn, got.MaxDifference, m.NumColumns(), m.Stats)
				if !(got.MaxDifference <= tt.maxDifference) {
					t.Errorf("predictions differ from scikit-learn's by up to %g, want at most %g", got.MaxDifference, tt.maxDifference)
				}
			})
		}
	}
}
