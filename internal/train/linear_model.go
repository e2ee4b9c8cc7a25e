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

// NumColumns returns the number of weights per output: one per numeric
// feature, one per code of each categorical feature.
func (m *LinearModel) NumColumns() int {
	_, _, width := linearColumns(m.NumFeatures, m.categories)
	return width
}

// categories returns the number of codes of feature f, 0 when it is
// numeric.
func (m *LinearModel) categories(f int) int {
	if m.Categories == nil {
		return 0
	}
	return m.Categories[f]
}

// rawScores writes the raw score of each output for one row into out. The
// imputed, standardised features are computed in float32, as the exported
// graph computes them; the dot products, the categorical weights and the
// intercept are summed in float64, as the graph sums them too, and rounded
// once. A categorical value that is not a code counts as the other code
// (categoryCode), as in the graph.
func (m *LinearModel) rawScores(row, out []float32) {
	width := len(m.Coefficients) / len(out)
	for k := range out {
		w := m.Coefficients[k*width : (k+1)*width]
		acc := float64(m.Intercepts[k])
		col := 0
		for f := range m.NumFeatures {
			if m.categories(f) == 0 {
				acc += float64(w[col]) * float64(m.standardized(f, row[f]))
				col++
			}
		}
		if m.Categories != nil {
			for f, codes := range m.Categories {
				if codes > 0 {
					acc += float64(w[col+categoryCode(row[f], codes)])
					col += codes
				}
			}
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
// intercept and one row of NumColumns coefficients per output, a mean and
// a scale per feature, no value that is NaN or infinite, and, if
// Categories is set, a number of codes per feature from 0 (numeric) to
// MaxCategoryCodes. FitLinear always returns a
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
	if m.Categories != nil {
		if len(m.Categories) != m.NumFeatures {
			return fmt.Errorf("%w: %d categories for %d features", ErrInvalidLinearModel, len(m.Categories), m.NumFeatures)
		}
		for f, codes := range m.Categories {
			if codes < 0 || codes > MaxCategoryCodes {
				return fmt.Errorf("%w: feature %d has %d category codes, want 0 (numeric) to %d", ErrInvalidLinearModel, f, codes, MaxCategoryCodes)
			}
		}
	}
	k := obj.numOutputs()
	lengths := []struct {
		name      string
		got, want int
	}{
		{"intercepts", len(m.Intercepts), k},
		{"coefficients", len(m.Coefficients), k * m.NumColumns()},
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
