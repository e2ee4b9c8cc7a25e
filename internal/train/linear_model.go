package train

import (
	"fmt"
	"math"
)

// NumOutputs returns the number of raw scores the model computes per row.
func (m *LinearModel) NumOutputs() int { return len(m.Intercepts) }

// NumClasses returns the number of classes of a classifier, 0 for a
// regressor.
func (m *LinearModel) NumClasses() int { return m.head().numClasses() }

// Predict returns the prediction for one row: the predicted class of a
// classifier (0 or 1 for a binary one; for a multiclass one the class with
// the highest score, the lowest such class on a tie), or the value of a
// regressor.
func (m *LinearModel) Predict(row []float32) (float32, error) {
	return m.head().predict(row)
}

// PredictBatch writes the prediction of each row of rows, a row-major
// matrix, into dst, which must have one element per row.
func (m *LinearModel) PredictBatch(rows, dst []float32) error {
	return m.head().predictBatch(rows, dst)
}

// PredictProba writes the class probabilities of one row into dst, which
// must have NumClasses elements, in class order.
func (m *LinearModel) PredictProba(row, dst []float32) error {
	return m.PredictProbaBatch(row, dst)
}

// PredictProbaBatch writes the class probabilities of each row of rows, a
// row-major matrix, into dst, row-major with NumClasses columns: the layout
// of the ONNX model's "probabilities" output.
func (m *LinearModel) PredictProbaBatch(rows, dst []float32) error {
	return m.head().predictProbaBatch(rows, dst)
}

func (m *LinearModel) head() head {
	return head{objective: m.Objective, numFeatures: m.NumFeatures, numOutputs: m.NumOutputs(), model: m}
}

// rawScores writes the raw score of each output for one row into out. The
// imputed, standardised features are computed in float32, as the exported
// Imputer and Scaler compute them; the dot products are summed in float64.
func (m *LinearModel) rawScores(row, out []float32) {
	p := m.NumFeatures
	for k := range out {
		acc := float64(m.Intercepts[k])
		for f, w := range m.Coefficients[k*p : (k+1)*p] {
			acc += float64(w) * float64(m.standardized(f, row[f]))
		}
		out[k] = float32(acc)
	}
}

// standardized returns feature f's value v imputed and standardised.
func (m *LinearModel) standardized(f int, v float32) float32 {
	if isNaN(v) {
		v = m.Means[f]
	}
	return (v - m.Means[f]) * m.Scales[f]
}

// Validate checks that the model is well formed: a known objective, one
// intercept and one row of coefficients per output, a mean and a scale per
// feature, and no value that is NaN or infinite. FitLinear always returns a
// valid model; ONNX checks anyway, since a LinearModel can also be built or
// edited by hand.
func (m *LinearModel) Validate() error {
	obj, err := newObjective(m.Objective, len(m.Intercepts))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidLinearModel, err)
	}
	if m.NumFeatures < 1 {
		return fmt.Errorf("%w: NumFeatures %d must be at least 1", ErrInvalidLinearModel, m.NumFeatures)
	}
	k := obj.numOutputs()
	lengths := []struct {
		name      string
		got, want int
	}{
		{"intercepts", len(m.Intercepts), k},
		{"coefficients", len(m.Coefficients), k * m.NumFeatures},
		{"means", len(m.Means), m.NumFeatures},
		{"scales", len(m.Scales), m.NumFeatures},
	}
	for _, l := range lengths {
		if l.got != l.want {
			return fmt.Errorf("%w: %d %s, %v of %d features needs %d", ErrInvalidLinearModel, l.got, l.name, m.Objective, m.NumFeatures, l.want)
		}
	}
	values := []struct {
		name string
		v    []float32
	}{{"intercept", m.Intercepts}, {"coefficient", m.Coefficients}, {"mean", m.Means}, {"scale", m.Scales}}
	for _, vs := range values {
		for i, v := range vs.v {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%w: %s %d is %v", ErrInvalidLinearModel, vs.name, i, v)
			}
		}
	}
	return nil
}
