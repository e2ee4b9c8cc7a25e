package train

import (
	"math"
	"slices"
	"testing"
)

func TestClassWeightResolve(t *testing.T) {
	labels := []float64{0, 0, 0, 1, 2, 2}
	tests := []struct {
		name string
		cw   ClassWeight
		want []float64
	}{
		{"none", ClassWeight{}, nil},
		// scikit-learn's compute_class_weight: 6 / (3 classes · count).
		{"balanced", ClassWeight{Balanced: true}, []float64{6.0 / 9, 2, 1}},
		{"per class", ClassWeight{Weights: []float64{1, 5, 2}}, []float64{1, 5, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cw.resolve(labels, 3); !slices.Equal(got, tt.want) {
				t.Errorf("resolve = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestLinearClassWeightReachesWeightedOptimum fits a logistic regression
// with balanced class weights on a set with about 7% positives and checks
// the first-order conditions of the weighted objective at the fit, which
// the unweighted objective's gradient there does not meet.
func TestLinearClassWeightReachesWeightedOptimum(t *testing.T) {
	data := rareClassData(t, syntheticData(t, BinaryLogLoss, 6000, 53))
	cfg := linearConfigFor(BinaryLogLoss)
	cfg.ClassWeight.Balanced = true
	m := fitLinearForTest(t, cfg, data)
	means, scales := fitStandardization(data)
	z := standardize(data, means, scales)
	params := make([]float64, 0, len(m.Coefficients)+len(m.Intercepts))
	for _, v := range slices.Concat(m.Coefficients, m.Intercepts) {
		params = append(params, float64(v))
	}
	worst := func(weights []float64) float64 {
		grad := make([]float64, len(params))
		newDenseLogistic(z, data.labels, 1, cfg.C, weights).gradient(grad, params)
		w := 0.0
		for _, g := range grad {
			w = max(w, math.Abs(g))
		}
		return w
	}
	weighted, unweighted := worst(cfg.ClassWeight.resolve(data.labels, 2)), worst(nil)
	if weighted > 10*cfg.Tolerance {
		t.Errorf("weighted gradient infinity norm at the fit = %g, want about %g or less", weighted, cfg.Tolerance)
	}
	if unweighted < 100*cfg.Tolerance {
		t.Errorf("unweighted gradient infinity norm at the fit = %g: the weights made no difference", unweighted)
	}
}
