package train

import (
	"bufio"
	"encoding/json"
	"errors"
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
// HistGradientBoosting (through testdata/sklearn_reference.py), both at
// their defaults, on the same synthetic training set, and checks that their
// held-out ROC AUC (classification), R² (regression) or log loss and
// accuracy (multiclass) differ by at most qualityTolerance.
func TestQualityMatchesScikitLearn(t *testing.T) {
	skipInShortMode(t, "the scikit-learn quality parity of tree ensembles")
	requirePythonModules(t, "sklearn", "numpy")
	tests := []struct {
		obj    Objective
		task   string
		metric string
	}{
		{BinaryLogLoss, "classification", "ROC AUC"},
		{SquaredError, "regression", "R²"},
		{MulticlassLogLoss, "multiclass", "log loss"},
	}
	for _, tt := range tests {
		t.Run(tt.task, func(t *testing.T) {
			train := syntheticData(t, tt.obj, 20_000, 21)
			test := syntheticData(t, tt.obj, 10_000, 22)
			ens := fitForTest(t, configFor(tt.obj, 100), train)
			scores, columns := goScores(t, ens, test)

			dir := t.TempDir()
			trainPath, testPath := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
			writeCSV(t, trainPath, train, nil, nil)
			writeCSV(t, testPath, test, scores, columns)
			got := runReference(t, tt.task, trainPath, testPath)

			checkQuality(t, tt.metric, got.Go, got.Sklearn)
			if tt.obj == MulticlassLogLoss {
				if got.GoAccuracy == nil || got.SklearnAccuracy == nil {
					t.Fatalf("sklearn_reference.py reported no accuracy: %+v", got)
				}
				checkQuality(t, "accuracy", *got.GoAccuracy, *got.SklearnAccuracy)
			}
		})
	}
}

func checkQuality(t *testing.T, metric string, goValue, sklearnValue float64) {
	t.Helper()
	t.Logf("%s on held-out rows: go %.4f, scikit-learn %.4f", metric, goValue, sklearnValue)
	if math.Abs(goValue-sklearnValue) > qualityTolerance {
		t.Errorf("%s: go %.4f, scikit-learn %.4f; want within %v", metric, goValue, sklearnValue, qualityTolerance)
	}
}

// goScores returns the Go model's predictions of every row, row-major, and
// the names of their columns in the reference script's test file: the
// probability of class 1 or the regressed value (go_score), or the
// probability of each class of a multiclass model (go_p0, go_p1, ...).
func goScores(t *testing.T, ens tabularModel, data *Dataset) (scores []float32, columns []string) {
	t.Helper()
	n := data.NumRows()
	switch k := ens.NumClasses(); k {
	case 0:
		scores = make([]float32, n)
		if err := ens.PredictBatch(data.features, scores); err != nil {
			t.Fatal(err)
		}
		return scores, []string{"go_score"}
	case 2:
		proba := make([]float32, 2*n)
		if err := ens.PredictProbaBatch(data.features, proba); err != nil {
			t.Fatal(err)
		}
		scores = make([]float32, n)
		for i := range scores {
			scores[i] = proba[2*i+1]
		}
		return scores, []string{"go_score"}
	default:
		scores = make([]float32, k*n)
		if err := ens.PredictProbaBatch(data.features, scores); err != nil {
			t.Fatal(err)
		}
		for c := range k {
			columns = append(columns, fmt.Sprintf("go_p%d", c))
		}
		return scores, columns
	}
}

// writeCSV writes features f0..fN, label and, if there are columns, the
// row-major scores under those names.
func writeCSV(t *testing.T, path string, data *Dataset, scores []float32, columns []string) {
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
	for _, c := range columns {
		w.WriteString("," + c)
	}
	w.WriteString("\n")
	for i := range data.NumRows() {
		for _, v := range data.Row(i) {
			w.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32) + ",")
		}
		w.WriteString(strconv.FormatFloat(data.Label(i), 'g', -1, 64))
		for _, v := range scores[i*len(columns) : (i+1)*len(columns)] {
			w.WriteString("," + strconv.FormatFloat(float64(v), 'g', -1, 32))
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
	// Multiclass only.
	SklearnAccuracy *float64 `json:"sklearn_accuracy"`
	GoAccuracy      *float64 `json:"go_accuracy"`
}

func runReference(t *testing.T, task, trainPath, testPath string) referenceResult {
	t.Helper()
	var result referenceResult
	runPythonJSON(t, "sklearn_reference.py", nil, &result, task, trainPath, testPath)
	return result
}

// runPythonJSON runs testdata/script with args under /usr/bin/python3, with
// env added to the environment, and decodes the JSON it prints into result.
func runPythonJSON(t *testing.T, script string, env []string, result any, args ...string) {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", append([]string{filepath.Join("testdata", script)}, args...)...)
	// One OpenMP thread: on a shared machine, OpenMP's spinning workers make
	// scikit-learn several times slower, and the fit does not depend on it.
	cmd.Env = append(append(os.Environ(), "OMP_NUM_THREADS=1"), env...)
	out, err := cmd.Output()
	if err != nil {
		var exitErr *exec.ExitError
		stderr := ""
		if errors.As(err, &exitErr) {
			stderr = string(exitErr.Stderr)
		}
		t.Fatalf("%s: %v\n%s", script, err, stderr)
	}
	if err := json.Unmarshal(out, result); err != nil {
		t.Fatalf("%s printed %q: %v", script, out, err)
	}
}

func requirePythonModules(t *testing.T, modules ...string) {
	t.Helper()
	for _, m := range modules {
		if out, err := exec.Command("/usr/bin/python3", "-c", "import "+m).CombinedOutput(); err != nil {
			t.Fatalf("python module %s unavailable (run `make setup` or scripts/setup.sh): %v\n%s", m, err, out)
		}
	}
}
