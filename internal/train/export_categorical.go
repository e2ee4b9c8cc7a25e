package train

import (
	"math"

	"github.com/streamscore/streamscore/internal/onnx"
)

// An ensemble with a categorical split is exported with ai.onnx.ml opset
// 5's TreeEnsemble, the first tree operator with set membership
// (BRANCH_MEMBER); ONNX 1.16 brought it with IR version 10. ONNX Runtime
// 1.24 runs it.
const (
	treeEnsembleOpsetML   int64 = 5
	treeEnsembleIRVersion int64 = 10
)

// TreeEnsemble's node modes (its nodes_modes tensor) and aggregate
// function.
const (
	modeBranchLEQ     uint8 = 0
	modeBranchMember  uint8 = 6
	aggregateSum      int64 = 1
	postTransformNone int64 = 0
)

// addTreeEnsembleV5 adds to g a TreeEnsemble that sums the trees' leaf
// values per output, as Go does, in float32 and tree order, and an Add of
// the base scores (TreeEnsemble has no base values), writing the raw
// scores to output.
//
// The trees do not read the features as they come: a value of a
// categorical feature that is not a whole number becomes NaN first, which
// no set holds. ONNX Runtime 1.24 compares a value exactly with a set of
// at most 30 codes up to 30, but truncates it to an integer before looking
// it up in a larger set, so that 2.5 would be taken for code 2; NaN is in
// no set either way, as CategorySet.Contains has it.
func (e *Ensemble) addTreeEnsembleV5(g *onnx.Graph, output string) {
	var a treeEnsembleV5
	for i := range e.Trees {
		a.addTree(int64(i%e.NumOutputs()), &e.Trees[i])
	}
	numeric := make([]bool, e.NumFeatures)
	for f, categorical := range e.categoricalFeatures() {
		numeric[f] = !categorical
	}
	const sums = "tree_sums"
	g.Initializers = append(g.Initializers,
		onnx.BoolTensor("numeric_features", []int64{int64(e.NumFeatures)}, numeric),
		onnx.FloatTensor("not_a_code", nil, []float32{float32(math.NaN())}),
		onnx.FloatTensor("base_scores", []int64{int64(e.NumOutputs())}, e.BaseScores))
	g.Nodes = append(g.Nodes,
		opNode("Floor", []string{InputFeatures}, "features_floor"),
		opNode("Equal", []string{"features_floor", InputFeatures}, "features_whole"),
		opNode("Or", []string{"features_whole", "numeric_features"}, "features_kept"),
		opNode("Where", []string{"features_kept", InputFeatures, "not_a_code"}, "tree_features"),
		onnx.Node{
			OpType:     "TreeEnsemble",
			Domain:     onnx.DomainML,
			Name:       "trees",
			Inputs:     []string{"tree_features"},
			Outputs:    []string{sums},
			Attributes: a.list(int64(e.NumOutputs())),
		},
		opNode("Add", []string{sums, "base_scores"}, output),
	)
}

// treeEnsembleV5 accumulates TreeEnsemble's attributes. Its interior
// nodes (nodes_*) and its leaves (leaf_*) are listed apart; a branch names
// a leaf by its index among the leaves, with a true nodes_*leafs flag.
// Each tree's nodes are listed in Tree.Nodes order.
type treeEnsembleV5 struct {
	roots                []int64
	featureIDs           []int64
	splits               []float32
	modes                []uint8
	trueIDs, trueLeafs   []int64
	falseIDs, falseLeafs []int64
	membership           []float32
	leafTargets          []int64
	leafWeights          []float32
}

func (a *treeEnsembleV5) addTree(target int64, t *Tree) {
	if t.Nodes[0].Leaf {
		// A tree needs a root branch. ONNX Runtime 1.24 takes one whose
		// two branches name the same leaf for a leaf, and then reads the
		// leaf at the root's index among the nodes instead of the leaf's
		// own, another tree's leaf; so both branches get a leaf of their
		// own, of the same value: any row scores it.
		a.roots = append(a.roots, int64(len(a.modes)))
		a.featureIDs = append(a.featureIDs, 0)
		a.splits = append(a.splits, 0)
		a.modes = append(a.modes, modeBranchLEQ)
		a.trueIDs = append(a.trueIDs, a.addLeaf(target, t.Nodes[0].Value))
		a.falseIDs = append(a.falseIDs, a.addLeaf(target, t.Nodes[0].Value))
		a.trueLeafs = append(a.trueLeafs, 1)
		a.falseLeafs = append(a.falseLeafs, 1)
		return
	}
	// index[i] is node i's index among the interior nodes or among the
	// leaves, whichever it is.
	index := make([]int64, len(t.Nodes))
	for i, n := range t.Nodes {
		if n.Leaf {
			index[i] = a.addLeaf(target, n.Value)
		} else {
			index[i] = int64(len(a.modes))
			a.modes = append(a.modes, modeBranchLEQ) // the mode is set below
		}
	}
	a.roots = append(a.roots, index[0])
	for i, n := range t.Nodes {
		if n.Leaf {
			continue
		}
		a.featureIDs = append(a.featureIDs, int64(n.Feature))
		if set := t.categories(i); set != nil {
			a.modes[index[i]] = modeBranchMember
			a.splits = append(a.splits, 0)
			for _, c := range set.Codes() {
				a.membership = append(a.membership, float32(c))
			}
			a.membership = append(a.membership, float32(math.NaN())) // ends the node's set
		} else {
			a.modes[index[i]] = modeBranchLEQ
			a.splits = append(a.splits, n.Threshold) // true branch when x <= threshold; NaN is false
		}
		a.trueIDs = append(a.trueIDs, index[n.Left])
		a.trueLeafs = append(a.trueLeafs, leafFlag(t.Nodes[n.Left].Leaf))
		a.falseIDs = append(a.falseIDs, index[n.Right])
		a.falseLeafs = append(a.falseLeafs, leafFlag(t.Nodes[n.Right].Leaf))
	}
}

// addLeaf adds a leaf and returns its index among the leaves.
func (a *treeEnsembleV5) addLeaf(target int64, value float32) int64 {
	a.leafTargets = append(a.leafTargets, target)
	a.leafWeights = append(a.leafWeights, value)
	return int64(len(a.leafWeights) - 1)
}

func leafFlag(leaf bool) int64 {
	if leaf {
		return 1
	}
	return 0
}

// list returns the attributes. Tensor attributes are 1-D, of float32 like
// the input, except nodes_modes, uint8.
func (a *treeEnsembleV5) list(numTargets int64) []onnx.Attribute {
	vector := func(n int) []int64 { return []int64{int64(n)} }
	attrs := []onnx.Attribute{
		onnx.Int("n_targets", numTargets),
		onnx.Int("aggregate_function", aggregateSum),
		onnx.Int("post_transform", postTransformNone),
		onnx.Ints("tree_roots", a.roots...),
		onnx.Ints("nodes_featureids", a.featureIDs...),
		onnx.TensorAttr("nodes_splits", onnx.FloatTensor("", vector(len(a.splits)), a.splits)),
		onnx.TensorAttr("nodes_modes", onnx.Uint8Tensor("", vector(len(a.modes)), a.modes)),
		onnx.Ints("nodes_truenodeids", a.trueIDs...),
		onnx.Ints("nodes_trueleafs", a.trueLeafs...),
		onnx.Ints("nodes_falsenodeids", a.falseIDs...),
		onnx.Ints("nodes_falseleafs", a.falseLeafs...),
		onnx.Ints("leaf_targetids", a.leafTargets...),
		onnx.TensorAttr("leaf_weights", onnx.FloatTensor("", vector(len(a.leafWeights)), a.leafWeights)),
	}
	if len(a.membership) > 0 {
		attrs = append(attrs, onnx.TensorAttr("membership_values", onnx.FloatTensor("", vector(len(a.membership)), a.membership)))
	}
	return attrs
}
