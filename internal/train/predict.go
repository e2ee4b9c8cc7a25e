package train

// leafValue returns the value of the leaf that row reaches in a tree
// without categorical splits (Categories nil). It is small enough to be
// inlined into rawScores, which matters to prediction's speed.
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

// leafValueCategorical returns the value of the leaf that row reaches in
// a tree with categorical splits.
func (t *Tree) leafValueCategorical(row []float32) float32 {
	i := int32(0)
	for !t.Nodes[i].Leaf {
		n := &t.Nodes[i]
		x := row[n.Feature]
		left := x <= n.Threshold
		if set := t.Categories[i]; set != nil {
			left = set.Contains(x)
		}
		if left {
			i = n.Left
		} else {
			i = n.Right
		}
	}
	return t.Nodes[i].Value
}

// NumOutputs returns the number of raw scores the ensemble computes per row.
func (e *Ensemble) NumOutputs() int { return len(e.BaseScores) }

// NumClasses returns the number of classes of a classifier, 0 for a
// regressor.
func (e *Ensemble) NumClasses() int { return e.head().numClasses() }

// Predict returns the prediction for one row: the predicted class of a
// classifier (0 or 1 for a binary one; for a multiclass one the class with
// the highest score, the lowest such class on a tie), or the value of a
// regressor.
func (e *Ensemble) Predict(row []float32) (float32, error) {
	return e.head().predict(row)
}

// PredictBatch writes the prediction of each row of rows, a row-major
// matrix, into dst, which must have one element per row.
func (e *Ensemble) PredictBatch(rows, dst []float32) error {
	return e.head().predictBatch(rows, dst)
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
	return e.head().predictProbaBatch(rows, dst)
}

func (e *Ensemble) head() head {
	return head{objective: e.Objective, numFeatures: e.NumFeatures, numOutputs: e.NumOutputs(), model: e}
}

// rawScores writes the raw score of each output for one row into out. It
// adds float32 leaf values in tree order and then the base score, the
// arithmetic of ONNX Runtime's TreeEnsembleRegressor.
func (e *Ensemble) rawScores(row, out []float32) {
	clear(out)
	for i := range e.Trees {
		t := &e.Trees[i]
		if t.Categories == nil {
			out[i%len(out)] += t.leafValue(row)
		} else {
			out[i%len(out)] += t.leafValueCategorical(row)
		}
	}
	for k := range out {
		out[k] += e.BaseScores[k]
	}
}

func (e *Ensemble) row(rows []float32, i int) []float32 {
	return e.head().row(rows, i)
}
