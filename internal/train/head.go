package train

import (
	"fmt"
	"math"
)

// rawScorer computes a model's raw scores for one row: a logit, a value, or
// one score per class.
type rawScorer interface {
	rawScores(row, out []float32)
}

// head turns a model's raw scores into predictions and class
// probabilities, the same for every model family, and checks the shapes of
// the rows and results it is given.
type head struct {
	objective   Objective
	numFeatures int
	numOutputs  int
	model       rawScorer
}

// numClasses returns the number of classes of a classifier, 0 for a
// regressor.
func (h head) numClasses() int {
	switch h.objective {
	case BinaryLogLoss:
		return 2
	case MulticlassLogLoss:
		return h.numOutputs
	}
	return 0
}

func (h head) predict(row []float32) (float32, error) {
	if err := h.checkRows(row, 1); err != nil {
		return 0, err
	}
	raw := make([]float32, h.numOutputs)
	h.model.rawScores(row, raw)
	return h.prediction(raw), nil
}

func (h head) predictBatch(rows, dst []float32) error {
	if err := h.checkRows(rows, len(dst)); err != nil {
		return err
	}
	raw := make([]float32, h.numOutputs)
	for i := range dst {
		h.model.rawScores(h.row(rows, i), raw)
		dst[i] = h.prediction(raw)
	}
	return nil
}

func (h head) predictProbaBatch(rows, dst []float32) error {
	k := h.numClasses()
	if k == 0 {
		return fmt.Errorf("%w: objective is %v", ErrNotClassifier, h.objective)
	}
	if len(dst)%k != 0 {
		return fmt.Errorf("%w: %d probabilities is not a whole number of rows of %d classes", ErrInvalidData, len(dst), k)
	}
	if err := h.checkRows(rows, len(dst)/k); err != nil {
		return err
	}
	raw := make([]float32, h.numOutputs)
	for i := range len(dst) / k {
		h.model.rawScores(h.row(rows, i), raw)
		h.probabilities(raw, dst[i*k:(i+1)*k])
	}
	return nil
}

// probabilities turns a classifier's raw scores into class probabilities.
// The float32 arithmetic mirrors the exported graph: for a binary
// classifier p1 = sigmoid(logit), p0 = 1 - p1; for a multiclass one the
// softmax of the class scores.
func (h head) probabilities(raw, dst []float32) {
	if h.objective == MulticlassLogLoss {
		softmax(raw, dst)
		return
	}
	p := sigmoid(raw[0])
	dst[0], dst[1] = 1-p, p
}

// prediction turns raw scores into what Predict reports: the class of a
// classifier, the value of a regressor.
func (h head) prediction(raw []float32) float32 {
	switch h.objective {
	case BinaryLogLoss:
		if raw[0] > 0 {
			return 1
		}
		return 0
	case MulticlassLogLoss:
		return float32(argmax(raw))
	}
	return raw[0]
}

func (h head) row(rows []float32, i int) []float32 {
	return rows[i*h.numFeatures : (i+1)*h.numFeatures]
}

func (h head) checkRows(rows []float32, numRows int) error {
	if len(rows) != numRows*h.numFeatures {
		return fmt.Errorf("%w: %d feature values for %d rows of %d features", ErrInvalidData, len(rows), numRows, h.numFeatures)
	}
	return nil
}

func sigmoid(x float32) float32 {
	return float32(1 / (1 + math.Exp(-float64(x))))
}

// softmax writes the softmax of scores into dst, shifting by the largest
// score first as ONNX Runtime's Softmax does.
func softmax(scores, dst []float32) {
	m := scores[argmax(scores)]
	var sum float64
	for k, s := range scores {
		e := math.Exp(float64(s - m))
		dst[k] = float32(e)
		sum += e
	}
	for k := range dst {
		dst[k] = float32(float64(dst[k]) / sum)
	}
}

// argmax returns the index of the largest score, the first one on a tie, as
// ONNX's ArgMax does.
func argmax(scores []float32) int {
	best := 0
	for k, s := range scores {
		if s > scores[best] {
			best = k
		}
	}
	return best
}
