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

// probabilities turns a classifier's raw scores into class probabilities,
// computed in float64 and rounded once to float32, as the exported graph
// does (see addBinaryHead and addMulticlassHead): sigmoid of the logit for
// a binary classifier, softmax of the class scores for a multiclass one.
func (h head) probabilities(raw, dst []float32) {
	if h.objective == MulticlassLogLoss {
		softmax(raw, dst)
		return
	}
	dst[0], dst[1] = binaryProbabilities(float64(raw[0]))
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

// binaryProbabilities returns the probabilities of class 0 and class 1 for
// a logit. Each is its own logistic function, 1/(1+e^logit) and
// 1/(1+e^-logit), rather than one minus the other: 1-p keeps no digit of a
// probability far below float32's epsilon, and the tails are where rare
// events are ranked.
func binaryProbabilities(logit float64) (p0, p1 float32) {
	return float32(1 / (1 + math.Exp(logit))), float32(1 / (1 + math.Exp(-logit)))
}

// softmax writes the softmax of scores into dst, computed in float64 after
// shifting by the largest score, so that no exponential overflows and the
// largest is exactly 1, and rounded once to float32.
func softmax(scores, dst []float32) {
	m := float64(scores[argmax(scores)])
	var sum float64
	for _, s := range scores {
		sum += math.Exp(float64(s) - m)
	}
	for k, s := range scores {
		dst[k] = float32(math.Exp(float64(s)-m) / sum)
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
