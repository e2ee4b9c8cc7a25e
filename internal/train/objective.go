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
	// the loss, rows weighted by their class (classWeights nil: all 1),
	// before any tree is added.
	baseScores(labels, classWeights []float64) []float64
	// gradients sets the gradient pair of every row, each multiplied by
	// the row's class weight.
	gradients(labels []float64, raw [][]float64, pairs [][]gradPair, classWeights []float64)
	// loss returns the loss of row i: scikit-learn's half losses, which
	// early stopping compares against Tol, so their scale matters.
	loss(y float64, raw [][]float64, i int) float64
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

func (logLoss) baseScores(labels, classWeights []float64) []float64 {
	p := min(max(weightedMean(labels, classWeights), 1e-7), 1-1e-7) // a one-class set would give ±Inf
	return []float64{math.Log(p / (1 - p))}
}

func (logLoss) gradients(labels []float64, raw [][]float64, pairs [][]gradPair, classWeights []float64) {
	for i, y := range labels {
		p := 1 / (1 + math.Exp(-raw[0][i]))
		w := rowWeight(classWeights, y)
		pairs[0][i] = gradPair{float32(w * (p - y)), float32(w * p * (1 - p))}
	}
}

// loss is log(1 + e^raw) - y·raw, computed without overflow.
func (logLoss) loss(y float64, raw [][]float64, i int) float64 {
	r := raw[0][i]
	if r > 0 {
		return r + math.Log1p(math.Exp(-r)) - y*r
	}
	return math.Log1p(math.Exp(r)) - y*r
}

// squaredError is half the squared difference between raw and the label.
type squaredError struct{}

func (squaredError) numOutputs() int { return 1 }

func (squaredError) checkLabels([]float64) error { return nil }

func (squaredError) baseScores(labels, classWeights []float64) []float64 {
	return []float64{weightedMean(labels, classWeights)}
}

func (squaredError) gradients(labels []float64, raw [][]float64, pairs [][]gradPair, classWeights []float64) {
	for i, y := range labels {
		w := rowWeight(classWeights, y)
		pairs[0][i] = gradPair{float32(w * (raw[0][i] - y)), float32(w)}
	}
}

func (squaredError) loss(y float64, raw [][]float64, i int) float64 {
	d := raw[0][i] - y
	return d * d / 2
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
func (l softmaxLoss) baseScores(labels, classWeights []float64) []float64 {
	counts := make([]float64, l.numClasses)
	var total float64
	for _, y := range labels {
		w := rowWeight(classWeights, y)
		counts[int(y)] += w
		total += w
	}
	scores := make([]float64, l.numClasses)
	for k, c := range counts {
		scores[k] = math.Log(min(max(c/total, 1e-7), 1-1e-7))
	}
	m := mean(scores)
	for k := range scores {
		scores[k] -= m
	}
	return scores
}

// gradients sets, for class k, grad = p_k - [y = k] and hess = p_k(1-p_k),
// where p = softmax(raw) over the classes.
func (l softmaxLoss) gradients(labels []float64, raw [][]float64, pairs [][]gradPair, classWeights []float64) {
	p := make([]float64, l.numClasses)
	for i, y := range labels {
		softmax64(raw, i, p)
		p[int(y)] -= 1 // the gradient; the hessian below adds it back
		w := rowWeight(classWeights, y)
		for k, g := range p {
			pk := g
			if k == int(y) {
				pk++
			}
			pairs[k][i] = gradPair{float32(w * g), float32(w * pk * (1 - pk))}
		}
	}
}

// loss is logsumexp(raw) - raw[y], scikit-learn's HalfMultinomialLoss.
func (l softmaxLoss) loss(y float64, raw [][]float64, i int) float64 {
	m := math.Inf(-1)
	for k := range l.numClasses {
		m = max(m, raw[k][i])
	}
	var sum float64
	for k := range l.numClasses {
		sum += math.Exp(raw[k][i] - m)
	}
	return m + math.Log(sum) - raw[int(y)][i]
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

// weightedMean returns the mean of the labels, each weighted by its
// class's weight (all 1 when classWeights is nil).
func weightedMean(labels, classWeights []float64) float64 {
	if classWeights == nil {
		return mean(labels)
	}
	var sum, total float64
	for _, y := range labels {
		w := rowWeight(classWeights, y)
		sum += w * y
		total += w
	}
	if total == 0 {
		return mean(labels) // every weight 0: nothing to prefer
	}
	return sum / total
}

func mean(values []float64) float64 {
	var sum float64
	for _, v := range values {
		sum += v
	}
	return sum / float64(len(values))
}
