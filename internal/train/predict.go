package train

import (
	"fmt"
	"math"
)

// leafValue returns the value of the leaf that row reaches.
func (t *Tree) leafValue(row []float32) float32 {
	n := &t.Nodes[0]
	for !n.Leaf {
		if row[n.Feature] <= n.Threshold {
			n = &t.Nodes[n.Left]
		} else {
			n = &t.Nodes[n.Right]
		}
	}
	return n.Value
}

// NumOutputs returns the number of raw scores the ensemble computes per row.
func (e *Ensemble) NumOutputs() int { return len(e.BaseScores) }

// NumClasses returns the number of classes of a classifier, 0 for a
// regressor.
func (e *Ensemble) NumClasses() int {
	switch e.Objective {
	case BinaryLogLoss:
		return 2
	case MulticlassLogLoss:
		return len(e.BaseScores)
	}
	return 0
}

// Predict returns the prediction for one row: the predicted class of a
// classifier (0 or 1 for a binary one; for a multiclass one the class with
// the highest score, the lowest such class on a tie), or the value of a
// regressor.
func (e *Ensemble) Predict(row []float32) (float32, error) {
	if err := e.checkRows(row, 1); err != nil {
		return 0, err
	}
	raw := make([]float32, e.NumOutputs())
	e.rawScores(row, raw)
	return e.prediction(raw), nil
}

// PredictBatch writes the prediction of each row of rows, a row-major
// matrix, into dst, which must have one element per row.
func (e *Ensemble) PredictBatch(rows, dst []float32) error {
	if err := e.checkRows(rows, len(dst)); err != nil {
		return err
	}
	raw := make([]float32, e.NumOutputs())
	for i := range dst {
		e.rawScores(e.row(rows, i), raw)
		dst[i] = e.prediction(raw)
	}
	return nil
}

// PredictProba writes the class probabilities of one row into dst, which
// must have NumClasses elements, in class order: for a binary classifier,
// the probability of class 0, then of class 1.
func (e *Ensemble) PredictProba(row, dst []float32) error {
	return e.PredictProbaBatch(row, dst)
}

// PredictProbaBatch writes the class probabilities of each row of rows, a
// row-major matrix, into dst, row-major with NumClasses columns: the layout
// of the ONNX model's "probabilities" output.
func (e *Ensemble) PredictProbaBatch(rows, dst []float32) error {
	k := e.NumClasses()
	if k == 0 {
		return fmt.Errorf("%w: objective is %v", ErrNotClassifier, e.Objective)
	}
	if len(dst)%k != 0 {
		return fmt.Errorf("%w: %d probabilities is not a whole number of rows of %d classes", ErrInvalidData, len(dst), k)
	}
	if err := e.checkRows(rows, len(dst)/k); err != nil {
		return err
	}
	raw := make([]float32, e.NumOutputs())
	for i := range len(dst) / k {
		e.rawScores(e.row(rows, i), raw)
		e.probabilities(raw, dst[i*k:(i+1)*k])
	}
	return nil
}

// rawScores writes the raw score of each output for one row into out. It
// adds float32 leaf values in tree order and then the base score, the
// arithmetic of ONNX Runtime's TreeEnsembleRegressor.
func (e *Ensemble) rawScores(row, out []float32) {
	clear(out)
	for i := range e.Trees {
		out[i%len(out)] += e.Trees[i].leafValue(row)
	}
	for k := range out {
		out[k] += e.BaseScores[k]
	}
}

// probabilities turns a classifier's raw scores into class probabilities.
// The float32 arithmetic mirrors the exported graph: for a binary
// classifier p1 = sigmoid(logit), p0 = 1 - p1; for a multiclass one the
// softmax of the class scores.
func (e *Ensemble) probabilities(raw, dst []float32) {
	if e.Objective == MulticlassLogLoss {
		softmax(raw, dst)
		return
	}
	p := sigmoid(raw[0])
	dst[0], dst[1] = 1-p, p
}

// prediction turns raw scores into what Predict reports.
func (e *Ensemble) prediction(raw []float32) float32 {
	switch e.Objective {
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

func (e *Ensemble) row(rows []float32, i int) []float32 {
	return rows[i*e.NumFeatures : (i+1)*e.NumFeatures]
}

func (e *Ensemble) checkRows(rows []float32, numRows int) error {
	if len(rows) != numRows*e.NumFeatures {
		return fmt.Errorf("%w: %d feature values for %d rows of %d features", ErrInvalidData, len(rows), numRows, e.NumFeatures)
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
