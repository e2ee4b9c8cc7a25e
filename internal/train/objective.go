package train

import (
	"fmt"
	"math"
)

// objective is a differentiable loss. Raw scores, gradients and hessians are
// kept per output ([output][row]), so a multiclass objective, which grows one
// tree per class each round, fits the same boosting loop.
type objective interface {
	numOutputs() int
	checkLabels(labels []float64) error
	// baseScores returns the constant raw score per output that minimises
	// the loss before any tree is added.
	baseScores(labels []float64) []float64
	gradients(labels []float64, raw, grad, hess [][]float64)
}

func newObjective(o Objective) (objective, error) {
	switch o {
	case BinaryLogLoss:
		return logLoss{}, nil
	case SquaredError:
		return squaredError{}, nil
	}
	return nil, fmt.Errorf("%w: unknown objective %v", ErrInvalidConfig, o)
}

// logLoss is the binary cross-entropy of sigmoid(raw) against labels 0/1.
type logLoss struct{}

func (logLoss) numOutputs() int { return 1 }

func (logLoss) checkLabels(labels []float64) error {
	for i, y := range labels {
		if y != 0 && y != 1 {
			return fmt.Errorf("%w: binary label of row %d is %v, want 0 or 1", ErrInvalidData, i, y)
		}
	}
	return nil
}

func (logLoss) baseScores(labels []float64) []float64 {
	p := min(max(mean(labels), 1e-7), 1-1e-7) // a one-class set would give ±Inf
	return []float64{math.Log(p / (1 - p))}
}

func (logLoss) gradients(labels []float64, raw, grad, hess [][]float64) {
	for i, y := range labels {
		p := 1 / (1 + math.Exp(-raw[0][i]))
		grad[0][i] = p - y
		hess[0][i] = p * (1 - p)
	}
}

// squaredError is half the squared difference between raw and the label.
type squaredError struct{}

func (squaredError) numOutputs() int { return 1 }

func (squaredError) checkLabels([]float64) error { return nil }

func (squaredError) baseScores(labels []float64) []float64 {
	return []float64{mean(labels)}
}

func (squaredError) gradients(labels []float64, raw, grad, hess [][]float64) {
	for i, y := range labels {
		grad[0][i] = raw[0][i] - y
		hess[0][i] = 1
	}
}

func mean(values []float64) float64 {
	var sum float64
	for _, v := range values {
		sum += v
	}
	return sum / float64(len(values))
}
