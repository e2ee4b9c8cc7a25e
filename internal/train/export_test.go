package train

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/streamscore/streamscore/internal/onnx/onnxtest"
)

// scoreTolerance bounds |ONNX Runtime - Go| per score. Leaf sums and the
// float64 heads are computed identically; TestHeadTailParity holds the
// heads to a relative bound in the tails.
const scoreTolerance = 1e-5

func TestONNXMatchesGoPredictions(t *testing.T) {
	const batch, numBatches = 256, 16
	for _, obj := range []Objective{BinaryLogLoss, SquaredError, MulticlassLogLoss} {
		t.Run(obj.String(), func(t *testing.T) {
			ens := fitForTest(t, configFor(obj, 100), syntheticData(t, obj, 5000, 11))
			m := newORTModel(t, ens, ens.NumFeatures, batch)
			rows, atThreshold := probeRows(t, ens, batch*numBatches, 12)
			if atThreshold < len(rows)/20 {
				t.Fatalf("only %d probe values sit exactly on a threshold", atThreshold)
			}
			for b := range numBatches {
				chunk := rows[b*batch*ens.NumFeatures : (b+1)*batch*ens.NumFeatures]
				m.run(t, chunk)
				if ens.NumClasses() > 0 {
					compareClassifier(t, ens, ens.NumFeatures, m, chunk, 0)
				} else {
					compareRegressor(t, ens, ens.NumFeatures, m, chunk, 0)
				}
			}
		})
	}
}

// compareClassifier checks ONNX Runtime's labels and probabilities for a
// batch of rows against the Go model's: probabilities within
// scoreTolerance, labels equal unless Go's probability of the predicted
// class is within labelMargin of another class's, where the float32
// rounding of a model whose arithmetic ONNX Runtime does not mirror exactly
// may tip the choice.
func compareClassifier(t *testing.T, tm tabularModel, numFeatures int, m *ortModel, rows []float32, labelMargin float32) {
	t.Helper()
	labels := make([]float32, len(m.labels()))
	if err := tm.PredictBatch(rows, labels); err != nil {
		t.Fatal(err)
	}
	proba := make([]float32, len(m.probabilities()))
	if err := tm.PredictProbaBatch(rows, proba); err != nil {
		t.Fatal(err)
	}
	k := tm.NumClasses()
	row := func(i int) []float32 { return rows[i*numFeatures : (i+1)*numFeatures] }
	for i, got := range m.labels() {
		if got != int64(labels[i]) && !nearTie(proba[i*k:(i+1)*k], int(got), int(labels[i]), labelMargin) {
			t.Fatalf("row %v: ONNX Runtime label %d, Go %v (probabilities %v)", row(i), got, labels[i], proba[i*k:(i+1)*k])
		}
	}
	for i, got := range m.probabilities() {
		if diff := math.Abs(float64(got - proba[i])); !(diff <= scoreTolerance) {
			t.Fatalf("row %v class %d: ONNX Runtime probability %v, Go %v", row(i/k), i%k, got, proba[i])
		}
	}
}

// nearTie reports whether classes a and b have probabilities within margin.
func nearTie(proba []float32, a, b int, margin float32) bool {
	return a >= 0 && a < len(proba) && b >= 0 && b < len(proba) && abs32(proba[a]-proba[b]) <= margin
}

func abs32(x float32) float32 { return float32(math.Abs(float64(x))) }

// compareRegressor checks ONNX Runtime's values for a batch of rows against
// the Go model's: within scoreTolerance, or relTolerance of the value when
// that is larger, for a model whose float32 sums ONNX Runtime does not
// mirror exactly.
func compareRegressor(t *testing.T, tm tabularModel, numFeatures int, m *ortModel, rows []float32, relTolerance float64) {
	t.Helper()
	values := make([]float32, len(m.variable()))
	if err := tm.PredictBatch(rows, values); err != nil {
		t.Fatal(err)
	}
	for i, got := range m.variable() {
		tol := max(scoreTolerance, relTolerance*math.Abs(float64(values[i])))
		if diff := math.Abs(float64(got - values[i])); !(diff <= tol) {
			t.Fatalf("row %v: ONNX Runtime value %v, Go %v", rows[i*numFeatures:(i+1)*numFeatures], got, values[i])
		}
	}
}

// probeRows returns rows that stress the split rule: about a third of the
// values sit exactly on, or one float32 step either side of, a threshold the
// ensemble uses for that feature, and some are NaN or infinite. It also
// returns how many values equal a threshold exactly.
func probeRows(t *testing.T, ens *Ensemble, n int, seed uint64) (rows []float32, atThreshold int) {
	t.Helper()
	thresholds := make([][]float32, ens.NumFeatures)
	for _, tree := range ens.Trees {
		for _, node := range tree.Nodes {
			if !node.Leaf {
				thresholds[node.Feature] = append(thresholds[node.Feature], node.Threshold)
			}
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	rows = slices.Clone(syntheticData(t, ens.Objective, n, seed).features)
	for i := range rows {
		candidates := thresholds[i%ens.NumFeatures]
		switch u := rng.Float64(); {
		case u < 0.30 && len(candidates) > 0:
			rows[i] = candidates[rng.IntN(len(candidates))]
			atThreshold++
		case u < 0.35 && len(candidates) > 0:
			rows[i] = math.Nextafter32(candidates[rng.IntN(len(candidates))], float32(math.Inf(2*rng.IntN(2)-1)))
		case u < 0.40:
			rows[i] = float32(math.NaN())
		case u < 0.41:
			rows[i] = float32(math.Inf(2*rng.IntN(2) - 1))
		}
	}
	return rows, atThreshold
}

func TestONNXPassesChecker(t *testing.T) {
	skipInShortMode(t, "the onnx checker run on tree ensembles")
	for _, obj := range []Objective{BinaryLogLoss, SquaredError, MulticlassLogLoss} {
		t.Run(obj.String(), func(t *testing.T) {
			ens := fitForTest(t, configFor(obj, 5), syntheticData(t, obj, 1000, 13))
			model, err := ens.ONNX(map[string]string{"name": "checker-test"})
			if err != nil {
				t.Fatal(err)
			}
			b, err := model.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			onnxtest.Check(t, b)
		})
	}
}

// TestONNXDeclaresInterface checks the names, shapes and metadata that
// ONNX Runtime reads from the exported models.
func TestONNXDeclaresInterface(t *testing.T) {
	for _, tt := range declaredOutputs {
		t.Run(tt.obj.String(), func(t *testing.T) {
			ens := fitForTest(t, configFor(tt.obj, 2), syntheticData(t, tt.obj, 500, 14))
			model, err := ens.ONNX(map[string]string{"model_name": "sensor-anomaly"})
			if err != nil {
				t.Fatal(err)
			}
			b, err := model.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			checkDeclaredInterface(t, b, syntheticFeatures, tt.outputs, "sensor-anomaly")
		})
	}
}

// checkDeclaredInterface checks what ONNX Runtime reads from an exported
// model: its one input of features columns, its outputs and their shapes,
// and the model_name metadata.
func checkDeclaredInterface(t *testing.T, b []byte, features int, want map[string]ort.Shape, name string) {
	t.Helper()
	inputs, outputs, err := ort.GetInputOutputInfoWithONNXData(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) != 1 || inputs[0].Name != InputFeatures || !inputs[0].Dimensions.Equals(ort.Shape{-1, int64(features)}) {
		t.Errorf("inputs = %v, want %s [-1 %d]", inputs, InputFeatures, features)
	}
	if len(outputs) != len(want) {
		t.Errorf("got %d outputs, want %d", len(outputs), len(want))
	}
	for _, out := range outputs {
		if shape, ok := want[out.Name]; !ok || !out.Dimensions.Equals(shape) {
			t.Errorf("output %s %v, want one of %v", out.Name, out.Dimensions, want)
		}
	}
	meta, err := ort.GetModelMetadataWithONNXData(b)
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Destroy()
	if v, ok, err := meta.LookupCustomMetadataMap("model_name"); err != nil || !ok || v != name {
		t.Errorf("metadata model_name = %q, %v, %v; want %s", v, ok, err, name)
	}
}

// declaredOutputs are the outputs, and their shapes, that an exported
// ensemble of each objective declares.
var declaredOutputs = []struct {
	obj     Objective
	outputs map[string]ort.Shape
}{
	{BinaryLogLoss, map[string]ort.Shape{OutputLabel: {-1}, OutputProbabilities: {-1, 2}, OutputMargin: {-1, 1}}},
	{SquaredError, map[string]ort.Shape{OutputVariable: {-1, 1}}},
	{MulticlassLogLoss, map[string]ort.Shape{OutputLabel: {-1}, OutputProbabilities: {-1, syntheticClasses}, OutputMargin: {-1, syntheticClasses}}},
}
