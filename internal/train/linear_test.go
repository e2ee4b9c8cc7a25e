package train

import (
	"context"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"gonum.org/v1/gonum/mat"

	"github.com/streamscore/streamscore/internal/onnx/onnxtest"
)

// linearObjectives are the objectives FitLinear supports.
var linearObjectives = []Objective{BinaryLogLoss, MulticlassLogLoss, SquaredError}

func linearConfigFor(obj Objective) LinearConfig {
	cfg := DefaultLinearConfig()
	cfg.Objective = obj
	if obj == MulticlassLogLoss {
		cfg.NumClasses = syntheticClasses
	}
	return cfg
}

func fitLinearForTest(t testing.TB, cfg LinearConfig, data *Dataset) *LinearModel {
	t.Helper()
	m, err := FitLinear(context.Background(), cfg, data)
	if err != nil {
		t.Fatalf("FitLinear: %v", err)
	}
	return m
}

func TestLinearConfigValidate(t *testing.T) {
	tests := []struct {
		name        string
		mutate      func(*LinearConfig)
		errContains string // empty: valid
	}{
		{"defaults", func(*LinearConfig) {}, ""},
		{"regression", func(c *LinearConfig) { c.Objective = SquaredError }, ""},
		{"least squares", func(c *LinearConfig) { c.Objective, c.Alpha = SquaredError, 0 }, ""},
		{"multiclass", func(c *LinearConfig) { c.Objective, c.NumClasses = MulticlassLogLoss, 3 }, ""},
		{"smallest values", func(c *LinearConfig) { c.C, c.MaxIterations, c.Tolerance = 1e-9, 1, 1e-12 }, ""},
		{"largest values", func(c *LinearConfig) { c.C, c.Alpha, c.MaxIterations = 1e9, 1e9, 100_000 }, ""},
		{"zero objective", func(c *LinearConfig) { c.Objective = 0 }, "unknown objective Objective(0)"},
		{"multiclass of two classes", func(c *LinearConfig) { c.Objective, c.NumClasses = MulticlassLogLoss, 2 }, "NumClasses 2 not in [3, 1000]"},
		{"zero C", func(c *LinearConfig) { c.C = 0 }, "C 0 must be finite and > 0"},
		{"infinite C", func(c *LinearConfig) { c.C = math.Inf(1) }, "C +Inf"},
		{"negative alpha", func(c *LinearConfig) { c.Alpha = -1 }, "Alpha -1 must be finite and >= 0"},
		{"NaN alpha", func(c *LinearConfig) { c.Alpha = math.NaN() }, "Alpha NaN"},
		{"zero iterations", func(c *LinearConfig) { c.MaxIterations = 0 }, "MaxIterations 0 not in [1, 100000]"},
		{"zero tolerance", func(c *LinearConfig) { c.Tolerance = 0 }, "Tolerance 0 must be finite and > 0"},
		{"a hook is not validated", func(c *LinearConfig) { c.Progress = func(int, int) {} }, ""},
		{"every problem is reported", func(c *LinearConfig) { c.C, c.Alpha = 0, -1 }, "C 0 must be finite and > 0\n" + ErrInvalidConfig.Error() + ": Alpha -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultLinearConfig()
			tt.mutate(&cfg)
			checkValidateError(t, cfg.Validate(), tt.errContains)
		})
	}
}

func TestDefaultLinearConfig(t *testing.T) {
	want := LinearConfig{Objective: BinaryLogLoss, C: 1, Alpha: 1, MaxIterations: 100, Tolerance: 1e-4}
	if got := DefaultLinearConfig(); !reflect.DeepEqual(got, want) {
		t.Errorf("DefaultLinearConfig() = %+v, want %+v", got, want)
	}
}

func TestFitLinearRejectsInvalidInput(t *testing.T) {
	labelled := func(labels ...float64) *Dataset {
		features := make([]float32, len(labels))
		for i := range features {
			features[i] = float32(i)
		}
		d, err := NewDataset(features, 1, labels)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	badConfig := DefaultLinearConfig()
	badConfig.C = -1
	tests := []struct {
		name string
		cfg  LinearConfig
		data *Dataset
		want error
	}{
		{"invalid config", badConfig, labelled(0, 1), ErrInvalidConfig},
		{"non-binary label", linearConfigFor(BinaryLogLoss), labelled(0, 1, 2), ErrInvalidData},
		{"one class only", linearConfigFor(BinaryLogLoss), labelled(1, 1, 1), ErrInvalidData},
		{"a class without rows", linearConfigFor(MulticlassLogLoss), labelled(0, 2, 2, 0), ErrInvalidData},
		{"class label too large", linearConfigFor(MulticlassLogLoss), labelled(0, 1, 2, 3), ErrInvalidData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := FitLinear(context.Background(), tt.cfg, tt.data); !errors.Is(err, tt.want) {
				t.Errorf("FitLinear error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestFitLinearStopsWhenContextIsCancelled(t *testing.T) {
	for _, obj := range linearObjectives {
		t.Run(obj.String(), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err := FitLinear(ctx, linearConfigFor(obj), syntheticData(t, obj, 200, 51))
			if !errors.Is(err, context.Canceled) {
				t.Errorf("FitLinear error = %v, want context.Canceled", err)
			}
		})
	}
}

// TestFitLinearReachesOptimum checks the first-order conditions at the
// fit: the gradient of the logistic objective is within the tolerance, and
// the ridge solution satisfies its normal equations; with numeric features
// only, and with categorical ones, narrow (solved directly) and wide
// (solved by conjugate gradients). The gradient comes from the design
// matrix written out in full, one-hot columns and all, not from the
// objective FitLinear used.
func TestFitLinearReachesOptimum(t *testing.T) {
	datasets := []struct {
		name string
		data func(obj Objective) *Dataset
	}{
		{"numeric", func(obj Objective) *Dataset { return syntheticData(t, obj, 3000, 52) }},
		{"categorical", func(obj Objective) *Dataset { return linearCategoricalData(t, obj, 3000, 52, 0) }},
		{"wide categorical", func(obj Objective) *Dataset { return linearCategoricalData(t, obj, 3000, 52, 1000) }},
	}
	for _, ds := range datasets {
		for _, obj := range linearObjectives {
			t.Run(ds.name+"/"+obj.String(), func(t *testing.T) {
				data := ds.data(obj)
				cfg := linearConfigFor(obj)
				m := fitLinearForTest(t, cfg, data)
				if !m.Stats.Converged {
					t.Fatalf("Stats = %+v, want a converged fit", m.Stats)
				}
				means, scales := fitStandardization(data)
				z := standardize(data, means, scales)
				params := make([]float64, 0, len(m.Coefficients)+len(m.Intercepts))
				for _, v := range slices.Concat(m.Coefficients, m.Intercepts) {
					params = append(params, float64(v))
				}
				grad := make([]float64, len(params))
				if obj == SquaredError {
					ridgeGradient(z, data.labels, cfg.Alpha, params, grad)
				} else {
					newDenseLogistic(z, data.labels, m.NumOutputs(), cfg.C, nil).gradient(grad, params)
				}
				worst := 0.0
				for _, g := range grad {
					worst = max(worst, math.Abs(g))
				}
				// The parameters were rounded to float32, and the line search
				// may stop a little past the threshold.
				if worst > 10*cfg.Tolerance {
					t.Errorf("gradient infinity norm at the fit = %g, want about %g or less", worst, cfg.Tolerance)
				}
			})
		}
	}
}

// denseDesign returns x written out as a dense matrix, one-hot columns
// included.
func denseDesign(x *linearDesign) *mat.Dense {
	d := mat.NewDense(x.n, x.width, nil)
	for i := range x.n {
		row := d.RawRowView(i)
		if x.numeric != nil {
			copy(row, x.numeric.RawRowView(i))
		}
		if len(x.blocks) > 0 {
			for _, c := range x.rowColumns(i) {
				row[c] = 1
			}
		}
	}
	return d
}

// standardize returns d's design matrix written out, one-hot columns
// included.
func standardize(d *Dataset, means, scales []float64) *mat.Dense {
	return denseDesign(newLinearDesign(d, means, scales))
}

// newDenseLogistic returns the logistic objective on the columns of z.
func newDenseLogistic(z *mat.Dense, y []float64, numOutputs int, c float64, classWeights []float64) *linearLogistic {
	return newLinearLogistic(numericDesign(z), y, numOutputs, c, classWeights)
}

// ridgeGradient writes the gradient of (‖y − Zw − b‖² + α‖w‖²)/(2n) at
// params = [w, b] into grad.
func ridgeGradient(z interface {
	Dims() (int, int)
	At(i, j int) float64
}, y []float64, alpha float64, params, grad []float64) {
	n, p := z.Dims()
	w, b := params[:p], params[p]
	clear(grad)
	for i := range n {
		r := b - y[i]
		for f := range p {
			r += z.At(i, f) * w[f]
		}
		for f := range p {
			grad[f] += r * z.At(i, f) / float64(n)
		}
		grad[p] += r / float64(n)
	}
	for f := range p {
		grad[f] += alpha * w[f] / float64(n)
	}
}

// numericDesign returns a design of z's columns, all taken as numeric.
func numericDesign(z *mat.Dense) *linearDesign {
	n, p := z.Dims()
	features := make([]int, p)
	for j := range features {
		features[j] = j
	}
	return &linearDesign{n: n, width: p, numeric: z, numericFeatures: features}
}

// TestFitLinearIsScaleInvariant checks that standardisation makes the fit
// independent of each feature's units: shifting a feature by 100,000 and
// stretching another by a thousand changes no prediction.
func TestFitLinearIsScaleInvariant(t *testing.T) {
	for _, obj := range linearObjectives {
		t.Run(obj.String(), func(t *testing.T) {
			data := syntheticData(t, obj, 2000, 53)
			moved := slices.Clone(data.features)
			for i := 0; i < len(moved); i += data.numFeatures {
				moved[i] += 1e5 // float32 keeps units of 1/128 there
				moved[i+1] *= 1000
			}
			movedData, err := NewDataset(moved, data.numFeatures, data.labels)
			if err != nil {
				t.Fatal(err)
			}
			a := fitLinearForTest(t, linearConfigFor(obj), data)
			b := fitLinearForTest(t, linearConfigFor(obj), movedData)
			pa, pb := linearScores(t, a, data), linearScores(t, b, movedData)
			worst := 0.0
			for i := range pa {
				worst = max(worst, math.Abs(float64(pa[i]-pb[i])))
			}
			// Rounding x+1e5 to float32 moves it by up to 1/256, a
			// standardised shift of about 0.004, on feature 0.
			if worst > 0.01 {
				t.Errorf("predictions move by up to %g when features change units", worst)
			}
		})
	}
}

// linearScores returns the class probabilities or the values of every row.
func linearScores(t *testing.T, m *LinearModel, data *Dataset) []float32 {
	t.Helper()
	if k := m.NumClasses(); k > 0 {
		proba := make([]float32, k*data.NumRows())
		if err := m.PredictProbaBatch(data.features, proba); err != nil {
			t.Fatal(err)
		}
		return proba
	}
	values := make([]float32, data.NumRows())
	if err := m.PredictBatch(data.features, values); err != nil {
		t.Fatal(err)
	}
	return values
}

// TestLinearModelImputesMissingValues checks that a missing feature counts
// as its training mean, whose standardised value is 0: a row of NaN scores
// the intercepts alone.
func TestLinearModelImputesMissingValues(t *testing.T) {
	for _, obj := range linearObjectives {
		t.Run(obj.String(), func(t *testing.T) {
			m := fitLinearForTest(t, linearConfigFor(obj), syntheticData(t, obj, 1000, 54))
			nan := make([]float32, m.NumFeatures)
			for f := range nan {
				nan[f] = float32(math.NaN())
			}
			raw := make([]float32, m.NumOutputs())
			m.rawScores(nan, raw)
			if !slices.Equal(raw, m.Intercepts) {
				t.Errorf("raw scores of a row of NaN = %v, want the intercepts %v", raw, m.Intercepts)
			}
			withMeans := make([]float32, m.NumOutputs())
			m.rawScores(m.Means, withMeans)
			if !slices.Equal(withMeans, raw) {
				t.Errorf("raw scores of the means = %v, of NaN = %v", withMeans, raw)
			}
		})
	}
}

// TestFitLinearLeastSquaresOfCollinearFeatures checks ordinary least
// squares on a singular problem: a duplicated feature shares its weight
// equally, the minimum-norm solution, and the fit is exact.
func TestFitLinearLeastSquaresOfCollinearFeatures(t *testing.T) {
	const n = 200
	features := make([]float32, 0, 3*n)
	labels := make([]float64, n)
	for i := range labels {
		a, b := float32(i%17), float32(i%5)
		features = append(features, a, a, b)
		labels[i] = 3*float64(a) - 2*float64(b) + 1
	}
	data, err := NewDataset(features, 3, labels)
	if err != nil {
		t.Fatal(err)
	}
	cfg := linearConfigFor(SquaredError)
	cfg.Alpha = 0
	m := fitLinearForTest(t, cfg, data)
	if c := m.Coefficients; math.Abs(float64(c[0]-c[1])) > 1e-4*math.Abs(float64(c[0])) {
		t.Errorf("coefficients %v: want the duplicated feature's two equal", c)
	}
	values := linearScores(t, m, data)
	for i, v := range values {
		if math.Abs(float64(v)-labels[i]) > 1e-4 {
			t.Fatalf("row %d: predicted %v, want %v", i, v, labels[i])
		}
	}
	if m.Stats.Loss > 1e-8 {
		t.Errorf("Stats.Loss = %g, want 0", m.Stats.Loss)
	}
}

func TestFitLinearReportsProgress(t *testing.T) {
	for _, obj := range linearObjectives {
		t.Run(obj.String(), func(t *testing.T) {
			var log progressLog
			cfg := linearConfigFor(obj)
			cfg.Progress = log.record
			m := fitLinearForTest(t, cfg, syntheticData(t, obj, 1000, 55))
			if obj == SquaredError {
				log.check(t, 1, 1)
				return
			}
			if m.Stats.Iterations < 2 {
				t.Fatalf("Stats = %+v, want a few iterations", m.Stats)
			}
			log.check(t, m.Stats.Iterations, cfg.MaxIterations)
		})
	}
}

func TestFitLinearIsDeterministic(t *testing.T) {
	for _, obj := range linearObjectives {
		t.Run(obj.String(), func(t *testing.T) {
			data := syntheticData(t, obj, 1000, 56)
			a := fitLinearForTest(t, linearConfigFor(obj), data)
			b := fitLinearForTest(t, linearConfigFor(obj), data)
			if !reflect.DeepEqual(a, b) {
				t.Error("two fits on the same data differ")
			}
		})
	}
}

func TestLinearModelValidate(t *testing.T) {
	valid := func() *LinearModel {
		return &LinearModel{
			Objective: MulticlassLogLoss, NumFeatures: 2,
			Means: []float32{0, 1}, Scales: []float32{1, 2},
			Coefficients: []float32{1, 2, 3, 4, 5, 6}, Intercepts: []float32{0, 0, 0},
		}
	}
	tests := []struct {
		name        string
		mutate      func(m *LinearModel)
		errContains string // empty: valid
	}{
		{"valid", func(*LinearModel) {}, ""},
		{"binary", func(m *LinearModel) {
			m.Objective, m.Coefficients, m.Intercepts = BinaryLogLoss, []float32{1, 2}, []float32{0}
		}, ""},
		{"unknown objective", func(m *LinearModel) { m.Objective = 9 }, "unknown objective Objective(9)"},
		{"two classes of multiclass", func(m *LinearModel) { m.Intercepts = m.Intercepts[:2] }, "needs between 3 and 1000 classes, not 2"},
		{"two binary intercepts", func(m *LinearModel) { m.Objective = BinaryLogLoss }, "3 intercepts, binary_log_loss of 2 features needs 1"},
		{"no features", func(m *LinearModel) { m.NumFeatures = 0 }, "NumFeatures 0"},
		{"short coefficients", func(m *LinearModel) { m.Coefficients = m.Coefficients[:5] }, "5 coefficients"},
		{"missing mean", func(m *LinearModel) { m.Means = m.Means[:1] }, "1 means"},
		{"missing scale", func(m *LinearModel) { m.Scales = nil }, "0 scales"},
		{"NaN coefficient", func(m *LinearModel) { m.Coefficients[4] = float32(math.NaN()) }, "coefficient 4 is NaN"},
		{"infinite scale", func(m *LinearModel) { m.Scales[1] = float32(math.Inf(1)) }, "scale 1 is +Inf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := valid()
			tt.mutate(m)
			err := m.Validate()
			if tt.errContains == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidLinearModel) || !strings.Contains(err.Error(), tt.errContains) {
				t.Errorf("Validate = %v, want ErrInvalidLinearModel containing %q", err, tt.errContains)
			}
			if _, err := m.ONNX(nil); !errors.Is(err, ErrInvalidLinearModel) {
				t.Errorf("ONNX = %v, want ErrInvalidLinearModel", err)
			}
		})
	}
}

func TestLinearPredictRejectsBadShapes(t *testing.T) {
	classifier := fitLinearForTest(t, linearConfigFor(MulticlassLogLoss), syntheticData(t, MulticlassLogLoss, 300, 57))
	regressor := fitLinearForTest(t, linearConfigFor(SquaredError), syntheticData(t, SquaredError, 300, 57))
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"row too short", func() error { _, err := classifier.Predict(make([]float32, 3)); return err }, ErrInvalidData},
		{"batch with a partial row", func() error {
			return regressor.PredictBatch(make([]float32, 15), make([]float32, 2))
		}, ErrInvalidData},
		{"two probabilities of three classes", func() error {
			return classifier.PredictProba(make([]float32, syntheticFeatures), make([]float32, 2))
		}, ErrInvalidData},
		{"probabilities of a regressor", func() error {
			return regressor.PredictProba(make([]float32, syntheticFeatures), make([]float32, 2))
		}, ErrNotClassifier},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
		})
	}
}

// linearLabelMargin is how close two classes' probabilities may be for
// ONNX Runtime's label to differ from Go's: both sum the scores in
// float64, but in different orders, and a score on the edge of a float32
// may round the other way.
const linearLabelMargin = 1e-5

// linearRelTolerance bounds |ONNX Runtime − Go| relative to a regressed
// value beyond 1: both sum in float64 and round once to float32, which
// resolves about 6e-8 of a value; a different order of the float64 sums
// can move the rounding by one float32 step.
const linearRelTolerance = 1e-6

func TestLinearONNXMatchesGoPredictions(t *testing.T) {
	const batch, numBatches = 256, 16
	for _, obj := range linearObjectives {
		t.Run(obj.String(), func(t *testing.T) {
			m := fitLinearForTest(t, linearConfigFor(obj), syntheticData(t, obj, 5000, 58))
			ortm := newORTModel(t, m, m.NumFeatures, batch)
			rows := syntheticData(t, obj, batch*numBatches, 59).features
			for i := range rows {
				if i%7 == 3 {
					rows[i] = float32(math.NaN()) // about 14% missing, in every feature
				}
			}
			for b := range numBatches {
				chunk := rows[b*batch*m.NumFeatures : (b+1)*batch*m.NumFeatures]
				ortm.run(t, chunk)
				if m.NumClasses() > 0 {
					compareClassifier(t, m, m.NumFeatures, ortm, chunk, linearLabelMargin)
				} else {
					compareRegressor(t, m, m.NumFeatures, ortm, chunk, linearRelTolerance)
				}
			}
		})
	}
}

// TestLinearONNXPassesChecker: the python onnx checker accepts a linear
// model's graph, numeric and with categorical features (their weight
// tables and the Gather that reads them).
func TestLinearONNXPassesChecker(t *testing.T) {
	skipInShortMode(t, "the onnx checker run on linear models")
	for _, obj := range linearObjectives {
		for name, data := range map[string]*Dataset{
			"numeric":     syntheticData(t, obj, 500, 60),
			"categorical": linearCategoricalData(t, obj, 500, 78, 100),
		} {
			t.Run(obj.String()+"/"+name, func(t *testing.T) {
				m := fitLinearForTest(t, linearConfigFor(obj), data)
				model, err := m.ONNX(map[string]string{"name": "checker-test"})
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
}

// TestLinearONNXDeclaresInterface checks that a linear model's graph has
// the ensemble's interface: the same input and outputs, names and shapes.
func TestLinearONNXDeclaresInterface(t *testing.T) {
	for _, obj := range linearObjectives {
		t.Run(obj.String(), func(t *testing.T) {
			data := syntheticData(t, obj, 500, 61)
			linear, err := fitLinearForTest(t, linearConfigFor(obj), data).ONNX(nil)
			if err != nil {
				t.Fatal(err)
			}
			trees, err := fitForTest(t, configFor(obj, 2), data).ONNX(nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(interfaceOf(t, linear), interfaceOf(t, trees)) {
				t.Errorf("linear model interface %v, ensemble %v", interfaceOf(t, linear), interfaceOf(t, trees))
			}
		})
	}
}

// interfaceOf returns the names and shapes of a model's inputs and outputs
// as ONNX Runtime reads them.
func interfaceOf(t *testing.T, model interface{ Marshal() ([]byte, error) }) map[string]string {
	t.Helper()
	b, err := model.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	inputs, outputs, err := ort.GetInputOutputInfoWithONNXData(b)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, info := range slices.Concat(inputs, outputs) {
		got[info.Name] = info.String()
	}
	return got
}
