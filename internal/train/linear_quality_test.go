package train

import (
	"fmt"
	"path/filepath"
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

			dir := t.TempDir()
			trainPath, testPath := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
			writeCSV(t, trainPath, train, nil, nil)
			writeCSV(t, testPath, test, scores, columns)
			var got struct {
				Sklearn       float64 `json:"sklearn"`
				Go            float64 `json:"go"`
				MaxDifference float64 `json:"max_difference"`
			}
			env := []string{
				fmt.Sprintf("C=%v", cfg.C), fmt.Sprintf("ALPHA=%v", cfg.Alpha),
				fmt.Sprintf("MAX_ITER=%d", cfg.MaxIterations), fmt.Sprintf("TOL=%v", cfg.Tolerance),
			}
			runPythonJSON(t, "linear_reference.py", env, &got, tt.task, trainPath, testPath)

			checkQuality(t, tt.metric, got.Go, got.Sklearn)
			t.Logf("largest prediction difference %.2g after %d iterations", got.MaxDifference, m.Stats.Iterations)
			if !(got.MaxDifference <= tt.maxDifference) {
				t.Errorf("predictions differ from scikit-learn's by up to %g, want at most %g", got.MaxDifference, tt.maxDifference)
			}
		})
	}
}
