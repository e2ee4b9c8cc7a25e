package train

import (
	"fmt"
	"math"
)

// objective is a differentiable loss. Raw scores and gradient pairs
// (gradient and hessian) are kept per output ([output][row]), so a
// multiclass objective, which grows one tree per class each round, fits the
// same boosting loop.
type objective interface {
	numOutputs() int
	checkLabels(labels []float64) error
	// baseScores returns the constant raw score per output that minimises
	// the loss before any tree is added.
	baseScores(labels []float64) []float64
	gradients(labels []float64, raw [][]float64, pairs [][]gradPair)
}

// newObjective returns the loss of o; numClasses is read only by
// MulticlassLogLoss.
func newObjective(o Objective, numClasses int) (objective, error) {
	switch o {
	case BinaryLogLoss:
		return logLoss{}, nil
	case SquaredError:
		return squaredError{}, nil
	case MulticlassLogLoss:
		if numClasses < 3 || numClasses > maxClasses {
			return nil, fmt.Errorf("%w: %v needs between 3 and %d classes, not %d", ErrInvalidConfig, o, maxClasses, numClasses)
		}
		return softmaxLoss{numClasses: numClasses}, nil
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

func (logLoss) gradients(labels []float64, raw [][]float64, pairs [][]gradPair) {
	for i, y := range labels {
		p := 1 / (1 + math.Exp(-raw[0][i]))
		pairs[0][i] = gradPair{p - y, p * (1 - p)}
	}
}

// squaredError is half the squared difference between raw and the label.
type squaredError struct{}

func (squaredError) numOutputs() int { return 1 }

func (squaredError) checkLabels([]float64) error { return nil }

func (squaredError) baseScores(labels []float64) []float64 {
	return []float64{mean(labels)}
}

func (squaredError) gradients(labels []float64, raw [][]float64, pairs [][]gradPair) {
	for i, y := range labels {
		pairs[0][i] = gradPair{raw[0][i] - y, 1}
	}
}

// softmaxLoss is the cross-entropy of softmax(raw) against labels
// 0..numClasses-1, scikit-learn's HalfMultinomialLoss. Each output is one
// class's raw score.
type softmaxLoss struct{ numClasses int }

func (l softmaxLoss) numOutputs() int { return l.numClasses }

func (l softmaxLoss) checkLabels(labels []float64) error {
	for i, y := range labels {
		if y != math.Trunc(y) || y < 0 || y >= float64(l.numClasses) {
			return fmt.Errorf("%w: class label of row %d is %v, want an integer in [0, %d]", ErrInvalidData, i, y, l.numClasses-1)
		}
	}
	return nil
}

// baseScores returns the log of each class's frequency, centred so the
// scores sum to zero, as scikit-learn starts. A class absent from the
// labels gets a frequency of 1e-7 rather than a score of -Inf.
func (l softmaxLoss) baseScores(labels []float64) []float64 {
	counts := make([]float64, l.numClasses)
	for _, y := range labels {
		counts[int(y)]++
	}
	scores := make([]float64, l.numClasses)
	for k, c := range counts {
		scores[k] = math.Log(min(max(c/float64(len(labels)), 1e-7), 1-1e-7))
	}
	m := mean(scores)
	for k := range scores {
		scores[k] -= m
	}
	return scores
}

// gradients sets, for class k, grad = p_k - [y = k] and hess = p_k(1-p_k),
// where p = softmax(raw) over the classes.
func (l softmaxLoss) gradients(labels []float64, raw [][]float64, pairs [][]gradPair) {
	p := make([]float64, l.numClasses)
	for i, y := range labels {
		softmax64(raw, i, p)
		for k, pk := range p {
			pairs[k][i] = gradPair{pk, pk * (1 - pk)}
		}
		pairs[int(y)][i].grad -= 1
	}
}

// softmax64 writes the softmax of row i of the per-class scores raw into p.
func softmax64(raw [][]float64, i int, p []float64) {
	m := math.Inf(-1)
	for k := range p {
		m = max(m, raw[k][i])
	}
	var sum float64
	for k := range p {
		p[k] = math.Exp(raw[k][i] - m)
		sum += p[k]
	}
	for k := range p {
		p[k] /= sum
	}
}

func mean(values []float64) float64 {
	var sum float64
	for _, v := range values {
		sum += v
	}
	return sum / float64(len(values))
}
