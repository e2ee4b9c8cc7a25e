package train

import (
	"fmt"
	"math"
)

// ClassWeight weights the rows of a classifier by their class, as
// scikit-learn's class_weight does: the zero value weighs every row 1
// (None), Balanced weighs class k by rows / (classes · rows of class k)
// ('balanced'), and Weights gives class k, by index, the weight
// Weights[k] (the dict form). A weight multiplies the row's gradient and
// hessian, so it enters the leaf values, the split gains, the base score
// and the validation loss of early stopping, while MinSamplesLeaf still
// counts rows.
type ClassWeight struct {
	Balanced bool
	Weights  []float64
}

func (cw ClassWeight) isZero() bool { return !cw.Balanced && cw.Weights == nil }

func (cw ClassWeight) validate(numClasses int) []error {
	var errs []error
	if cw.Balanced && cw.Weights != nil {
		errs = append(errs, fmt.Errorf("%w: ClassWeight is balanced or per class, not both", ErrInvalidConfig))
	}
	if cw.Weights != nil && len(cw.Weights) != numClasses {
		errs = append(errs, fmt.Errorf("%w: ClassWeight has %d weights for %d classes", ErrInvalidConfig, len(cw.Weights), numClasses))
	}
	for k, w := range cw.Weights {
		if !(w >= 0) || math.IsInf(w, 1) {
			errs = append(errs, fmt.Errorf("%w: ClassWeight of class %d is %v, want finite and >= 0", ErrInvalidConfig, k, w))
		}
	}
	return errs
}

// resolve returns the weight of each class index for these labels, or nil
// when every row weighs 1. As scikit-learn's compute_class_weight, the
// balanced weights count only the classes that occur.
func (cw ClassWeight) resolve(labels []float64, numClasses int) []float64 {
	switch {
	case cw.Weights != nil:
		return cw.Weights
	case !cw.Balanced:
		return nil
	}
	counts := make([]float64, numClasses)
	for _, y := range labels {
		counts[int(y)]++
	}
	present := 0
	for _, c := range counts {
		if c > 0 {
			present++
		}
	}
	weights := make([]float64, numClasses)
	for k, c := range counts {
		if c > 0 {
			weights[k] = float64(len(labels)) / (float64(present) * c)
		}
	}
	return weights
}

// rowWeight returns the weight of a row of label y: 1 without class
// weights.
func rowWeight(classWeights []float64, y float64) float64 {
	if classWeights == nil {
		return 1
	}
	return classWeights[int(y)]
}
