package train

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

var (
	// ErrNotClassifier is returned when class probabilities are asked of an
	// ensemble that is not a classifier.
	ErrNotClassifier = errors.New("ensemble is not a classifier")
	// ErrInvalidEnsemble is wrapped by the errors of Ensemble.Validate.
	ErrInvalidEnsemble = errors.New("invalid ensemble")
)

// Ensemble is a fitted gradient-boosted tree model. Its fields are exported
// so it can be inspected and stored; the prediction methods assume it is
// valid, as Fit's result is (see Validate).
type Ensemble struct {
	Objective   Objective
	NumFeatures int
	// BaseScores holds the starting raw score of each output.
	BaseScores []float32
	// Trees are in boosting order; tree i adds to output i % len(BaseScores).
	Trees []Tree
	// Stats tells how the fit went; it plays no part in predictions.
	Stats BoostingStats
}

// BoostingStats tells how Fit's boosting went.
type BoostingStats struct {
	// Iterations counts the boosting rounds grown, scikit-learn's n_iter_.
	Iterations int
	// EarlyStopped is true when early stopping ended the fit before
	// MaxIter rounds.
	EarlyStopped bool
	// ValidationScores holds, with early stopping, minus the mean loss of
	// the validation rows before the first round and after each,
	// scikit-learn's validation_score_; nil without early stopping.
	ValidationScores []float64
}

// Tree is one regression tree; Nodes[0] is the root.
type Tree struct {
	Nodes []Node
	// Categories holds the category sets of a tree with categorical
	// splits, one entry per node: when Categories[i] is not nil, split
	// node i sends a row to Left when row[Feature] is one of the set's
	// codes, and to Right otherwise (another code, NaN or any value that
	// is not a code), ignoring its Threshold. It is nil for a tree of
	// threshold splits alone, which keeps Node small and such a tree's
	// prediction as fast as it was.
	Categories []CategorySet
}

// Node is a tree node. A split node sends a row to Left when
// row[Feature] <= Threshold, and to Right otherwise, NaN included, unless
// its tree holds a category set for it (see Tree.Categories).
type Node struct {
	Leaf        bool
	Feature     int32
	Threshold   float32
	Left, Right int32
	Value       float32 // a leaf's contribution to the raw score
}

// categories returns the category set of node i, nil for a split on a
// threshold or a leaf.
func (t *Tree) categories(i int) CategorySet {
	if t.Categories == nil {
		return nil
	}
	return t.Categories[i]
}

// Validate checks that the ensemble is well formed: a known objective, one
// base score per output, and trees whose split nodes read existing features
// and point forward to existing nodes, which rules out cycles. Fit always
// returns a valid ensemble; ONNX checks anyway, since an Ensemble can also be
// built or edited by hand.
func (e *Ensemble) Validate() error {
	obj, err := newObjective(e.Objective, len(e.BaseScores))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidEnsemble, err)
	}
	if e.NumFeatures < 1 {
		return fmt.Errorf("%w: NumFeatures %d must be at least 1", ErrInvalidEnsemble, e.NumFeatures)
	}
	if len(e.BaseScores) != obj.numOutputs() {
		return fmt.Errorf("%w: %d base scores, %v needs %d", ErrInvalidEnsemble, len(e.BaseScores), e.Objective, obj.numOutputs())
	}
	for i := range e.Trees {
		if err := e.Trees[i].validate(e.NumFeatures); err != nil {
			return fmt.Errorf("%w: tree %d: %w", ErrInvalidEnsemble, i, err)
		}
	}
	return e.checkFeatureKinds()
}

// checkFeatureKinds refuses a feature split both on thresholds and on
// sets of categories: a categorical feature's values are codes, which a
// threshold does not order.
func (e *Ensemble) checkFeatureKinds() error {
	categorical := e.categoricalFeatures()
	for i := range e.Trees {
		t := &e.Trees[i]
		for j, n := range t.Nodes {
			if !n.Leaf && t.categories(j) == nil && categorical[n.Feature] {
				return fmt.Errorf("%w: tree %d: node %d splits feature %d on a threshold, which other nodes split on sets of categories", ErrInvalidEnsemble, i, j, n.Feature)
			}
		}
	}
	return nil
}

// categoricalFeatures reports, for every feature, whether a node splits
// it on a set of categories.
func (e *Ensemble) categoricalFeatures() []bool {
	categorical := make([]bool, e.NumFeatures)
	for i := range e.Trees {
		t := &e.Trees[i]
		for j, n := range t.Nodes {
			if !n.Leaf && t.categories(j) != nil {
				categorical[n.Feature] = true
			}
		}
	}
	return categorical
}

func (t *Tree) validate(numFeatures int) error {
	if len(t.Nodes) == 0 {
		return errors.New("no nodes")
	}
	if t.Categories != nil && len(t.Categories) != len(t.Nodes) {
		return fmt.Errorf("%d category sets for %d nodes; want one per node, or none", len(t.Categories), len(t.Nodes))
	}
	for i, n := range t.Nodes {
		set := t.categories(i)
		if n.Leaf {
			if math.IsNaN(float64(n.Value)) {
				return fmt.Errorf("leaf %d has value NaN", i)
			}
			if set != nil {
				return fmt.Errorf("leaf %d has a category set", i)
			}
			continue
		}
		switch {
		case n.Feature < 0 || int(n.Feature) >= numFeatures:
			return fmt.Errorf("node %d reads feature %d of %d", i, n.Feature, numFeatures)
		case len(set) > MaxCategoryCodes/64:
			return fmt.Errorf("node %d has a category set of %d words; codes go up to %d", i, len(set), MaxCategoryCodes-1)
		case set != nil && set.Len() == 0:
			return fmt.Errorf("node %d splits on an empty set of categories", i)
		case set == nil && math.IsNaN(float64(n.Threshold)):
			return fmt.Errorf("node %d has threshold NaN", i)
		case !t.isChild(i, n.Left) || !t.isChild(i, n.Right):
			return fmt.Errorf("node %d has children %d and %d; want indexes after it", i, n.Left, n.Right)
		}
	}
	return nil
}

// isChild reports whether child can be a child of node parent: it must come
// later in Nodes.
func (t *Tree) isChild(parent int, child int32) bool {
	return int(child) > parent && int(child) < len(t.Nodes)
}

// hasCategoricalSplit reports whether any tree splits on a set of
// categories.
func (e *Ensemble) hasCategoricalSplit() bool {
	return slices.Contains(e.categoricalFeatures(), true)
}
