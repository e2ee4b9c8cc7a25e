package train

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// qualityTolerance is how far the Go model's test metric may fall from
// scikit-learn's on the same data.
const qualityTolerance = 0.01

// TestQualityMatchesScikitLearn fits the Go ensemble and scikit-learn's
// HistGradientBoosting (through testdata/sklearn_reference.py) with the same
// hyperparameters on the same synthetic training set, and checks that their
// held-out ROC AUC (classification) or R² (regression) differ by at most
// qualityTolerance.
func TestQualityMatchesScikitLearn(t *testing.T) {
	requirePythonModules(t, "sklearn", "numpy")
	tests := []struct {
		obj    Objective
		task   string
		metric string
	}{
		{BinaryLogLoss, "classification", "ROC AUC"},
		{SquaredError, "regression", "R²"},
	}
	for _, tt := range tests {
		t.Run(tt.task, func(t *testing.T) {
			train := syntheticData(t, tt.obj, 20_000, 21)
			test := syntheticData(t, tt.obj, 10_000, 22)
			ens := fitForTest(t, configFor(tt.obj, 100), train)
			scores := goScores(t, ens, test)

			dir := t.TempDir()
			trainPath, testPath := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
			writeCSV(t, trainPath, train, nil)
			writeCSV(t, testPath, test, scores)
			got := runReference(t, tt.task, trainPath, testPath)

			t.Logf("%s on held-out rows: go %.4f, scikit-learn %.4f", tt.metric, got.Go, got.Sklearn)
			if math.Abs(got.Go-got.Sklearn) > qualityTolerance {
				t.Errorf("%s: go %.4f, scikit-learn %.4f; want within %v", tt.metric, got.Go, got.Sklearn, qualityTolerance)
			}
		})
	}
}

// goScores returns the probability of class 1, or the regressed value, of
// every row.
func goScores(t *testing.T, ens *Ensemble, data *Dataset) []float32 {
	t.Helper()
	n := data.NumRows()
	if ens.NumClasses() == 0 {
		values := make([]float32, n)
		if err := ens.PredictBatch(data.features, values); err != nil {
			t.Fatal(err)
		}
		return values
	}
	proba := make([]float32, 2*n)
	if err := ens.PredictProbaBatch(data.features, proba); err != nil {
		t.Fatal(err)
	}
	scores := make([]float32, n)
	for i := range scores {
		scores[i] = proba[2*i+1]
	}
	return scores
}

// writeCSV writes features f0..fN, label and, if scores is not nil, go_score.
func writeCSV(t *testing.T, path string, data *Dataset, scores []float32) {
	t.Helper()
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(file)
	for f := range data.NumFeatures() {
		fmt.Fprintf(w, "f%d,", f)
	}
	w.WriteString("label")
	if scores != nil {
		w.WriteString(",go_score")
	}
	w.WriteString("\n")
	for i := range data.NumRows() {
		for _, v := range data.Row(i) {
			w.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32) + ",")
		}
		w.WriteString(strconv.FormatFloat(data.Label(i), 'g', -1, 64))
		if scores != nil {
			w.WriteString("," + strconv.FormatFloat(float64(scores[i]), 'g', -1, 32))
		}
		w.WriteString("\n")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := file.Close(); err != nil {
		t.Fatal(err)
	}
}

type referenceResult struct {
	Sklearn float64 `json:"sklearn"`
	Go      float64 `json:"go"`
}

func runReference(t *testing.T, task, trainPath, testPath string) referenceResult {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", filepath.Join("testdata", "sklearn_reference.py"), task, trainPath, testPath)
	// One OpenMP thread: on a shared machine, OpenMP's spinning workers make
	// scikit-learn several times slower, and the fit does not depend on it.
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1")
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if exitErr, ok := err.(*exec.ExitError); ok {
			stderr = string(exitErr.Stderr)
		}
		t.Fatalf("sklearn_reference.py: %v\n%s", err, stderr)
	}
	var result referenceResult
	if err := json.Unmarshal(out, &result); err != nil {
		t.Fatalf("sklearn_reference.py printed %q: %v", out, err)
	}
	return result
}

func requirePythonModules(t *testing.T, modules ...string) {
	t.Helper()
	for _, m := range modules {
		if out, err := exec.Command("/usr/bin/python3", "-c", "import "+m).CombinedOutput(); err != nil {
			t.Fatalf("python module %s unavailable (run `make setup` or scripts/setup.sh): %v\n%s", m, err, out)
		}
	}
}
