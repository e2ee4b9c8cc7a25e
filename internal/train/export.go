package train

import (
	"fmt"
	"maps"

	"github.com/streamscore/streamscore/internal/onnx"
)

// Names of the exported model's inputs and outputs.
const (
	InputFeatures       = "features"      // float32 [N, NumFeatures]
	OutputLabel         = "label"         // int64 [N], classifiers
	OutputProbabilities = "probabilities" // float32 [N, NumClasses], classifiers
	OutputVariable      = "variable"      // float32 [N, 1], regressors
	// OutputMargin is a classifier's raw scores, from which the
	// probabilities come: the logit, float32 [N, 1], of a binary one; the
	// class scores, float32 [N, NumClasses], of a multiclass one.
	OutputMargin = "margin"
)

// batchDim names the batch dimension, whose size is chosen at run time.
const batchDim = "N"

// ONNX returns the ensemble as an ONNX model. Its input InputFeatures is
// float32 [N, NumFeatures]. A classifier outputs OutputLabel (int64 [N]),
// OutputProbabilities (float32 [N, NumClasses], in class order: class 0
// then class 1 for a binary one) and OutputMargin (the raw scores); a
// regressor outputs OutputVariable (float32 [N, 1]). ONNX Runtime
// reproduces Predict exactly and PredictProbaBatch to float32 rounding, in
// the tails too.
//
// The trees become one ai.onnx.ml TreeEnsembleRegressor that computes the
// raw scores, one column per output, under the classifier head every
// family shares (addBinaryHead, addMulticlassHead): explicit arithmetic,
// rather than relying on how each runtime post-transforms a
// TreeEnsembleClassifier. An ensemble with categorical splits first
// computes, in the graph, a membership column for each of its category
// sets, on which its trees split by threshold like any other column (see
// setColumns.addMembership). meta becomes the model's metadata_props.
func (e *Ensemble) ONNX(meta map[string]string) (*onnx.Model, error) {
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("export ONNX: %w", err)
	}
	var graph onnx.Graph
	switch e.Objective {
	case BinaryLogLoss:
		graph = e.classifierGraph()
	case SquaredError:
		graph = e.regressorGraph()
	case MulticlassLogLoss:
		graph = e.multiclassGraph()
	default:
		return nil, fmt.Errorf("export ONNX: no graph for objective %v", e.Objective)
	}
	doc := fmt.Sprintf("gradient-boosted trees: %d trees, %v, %d features", len(e.Trees), e.Objective, e.NumFeatures)
	return newMLModel(doc, graph, meta), nil
}

// newMLModel wraps a graph of default and ai.onnx.ml operators in a model
// whose metadata_props are a copy of meta.
func newMLModel(doc string, graph onnx.Graph, meta map[string]string) *onnx.Model {
	return &onnx.Model{
		IRVersion:    onnx.IRVersion,
		ProducerName: "streamscore",
		Doc:          doc,
		Opsets: []onnx.Opset{
			{Domain: onnx.DomainDefault, Version: onnx.OpsetVersion},
			{Domain: onnx.DomainML, Version: onnx.OpsetMLVersion},
		},
		Metadata: maps.Clone(meta),
		Graph:    graph,
	}
}

func (e *Ensemble) featuresInput() onnx.ValueInfo {
	return onnx.TensorInfo(InputFeatures, onnx.TypeFloat, onnx.DimParam(batchDim), onnx.DimValue(int64(e.NumFeatures)))
}

func (e *Ensemble) regressorGraph() onnx.Graph {
	g := onnx.Graph{
		Name:   "gbdt_regressor",
		Inputs: []onnx.ValueInfo{e.featuresInput()},
		Outputs: []onnx.ValueInfo{
			onnx.TensorInfo(OutputVariable, onnx.TypeFloat, onnx.DimParam(batchDim), onnx.DimValue(1)),
		},
	}
	e.addTrees(&g, OutputVariable)
	return g
}

// classifierGraph is the ensemble's raw score (the logit) under the binary
// classifier head.
func (e *Ensemble) classifierGraph() onnx.Graph {
	g := onnx.Graph{
		Name:   "gbdt_binary_classifier",
		Inputs: []onnx.ValueInfo{e.featuresInput()},
	}
	e.addTrees(&g, "logit")
	addBinaryHead(&g, "logit")
	return g
}

// multiclassGraph is the ensemble's class scores under the multiclass
// classifier head.
func (e *Ensemble) multiclassGraph() onnx.Graph {
	g := onnx.Graph{
		Name:   "gbdt_multiclass_classifier",
		Inputs: []onnx.ValueInfo{e.featuresInput()},
	}
	e.addTrees(&g, "class_scores")
	addMulticlassHead(&g, "class_scores", e.NumClasses())
	return g
}

// addTrees adds to g the nodes that write the raw scores, base scores
// included, one column per output, to output: a TreeEnsembleRegressor
// reading the features, or, for an ensemble with categorical splits, the
// features and the membership columns of its category sets.
func (e *Ensemble) addTrees(g *onnx.Graph, output string) {
	if !e.hasCategoricalSplit() {
		g.Nodes = append(g.Nodes, e.treeEnsembleNode(InputFeatures, output, nil))
		return
	}
	sets := newSetColumns(e)
	input := sets.addMembership(g)
	g.Nodes = append(g.Nodes, e.treeEnsembleNode(input, output, sets))
}

// opNode is a one-output operator named for its output.
func opNode(op string, inputs []string, output string, attrs ...onnx.Attribute) onnx.Node {
	return onnx.Node{OpType: op, Name: output, Inputs: inputs, Outputs: []string{output}, Attributes: attrs}
}

// treeEnsembleNode returns a TreeEnsembleRegressor that reads input and
// writes the raw scores, one column per output, to output. sets, nil for
// an ensemble without categorical splits, places the membership columns
// its set splits read.
func (e *Ensemble) treeEnsembleNode(input, output string, sets *setColumns) onnx.Node {
	a := treeAttributes{sets: sets}
	for i := range e.Trees {
		a.addTree(int64(i), int64(i%e.NumOutputs()), &e.Trees[i])
	}
	attrs := append(a.list(),
		onnx.Int("n_targets", int64(e.NumOutputs())),
		onnx.String("aggregate_function", "SUM"),
		onnx.String("post_transform", "NONE"),
		onnx.Floats("base_values", e.BaseScores...),
	)
	return onnx.Node{
		OpType:     "TreeEnsembleRegressor",
		Domain:     onnx.DomainML,
		Name:       "trees",
		Inputs:     []string{input},
		Outputs:    []string{output},
		Attributes: attrs,
	}
}

// treeAttributes accumulates the parallel nodes_* and target_* lists in
// which TreeEnsembleRegressor describes its trees. Node ids are indexes
// into Tree.Nodes.
type treeAttributes struct {
	sets                                            *setColumns
	treeIDs, nodeIDs, featureIDs, trueIDs, falseIDs []int64
	values                                          []float32
	modes                                           []string
	targetTreeIDs, targetNodeIDs, targetIDs         []int64
	targetWeights                                   []float32
}

func (a *treeAttributes) addTree(treeID, target int64, t *Tree) {
	for i, n := range t.Nodes {
		a.treeIDs = append(a.treeIDs, treeID)
		a.nodeIDs = append(a.nodeIDs, int64(i))
		if n.Leaf {
			a.modes = append(a.modes, "LEAF")
			a.featureIDs = append(a.featureIDs, 0)
			a.values = append(a.values, 0)
			a.trueIDs = append(a.trueIDs, 0)
			a.falseIDs = append(a.falseIDs, 0)
			a.targetTreeIDs = append(a.targetTreeIDs, treeID)
			a.targetNodeIDs = append(a.targetNodeIDs, int64(i))
			a.targetIDs = append(a.targetIDs, target)
			a.targetWeights = append(a.targetWeights, n.Value)
			continue
		}
		a.modes = append(a.modes, "BRANCH_LEQ") // true branch when x <= value; NaN is false
		if set := t.categories(i); set != nil {
			a.featureIDs = append(a.featureIDs, a.sets.column(n.Feature, set))
			a.values = append(a.values, membershipThreshold) // 0, in the set, goes left
		} else {
			a.featureIDs = append(a.featureIDs, int64(n.Feature))
			a.values = append(a.values, n.Threshold)
		}
		a.trueIDs = append(a.trueIDs, int64(n.Left))
		a.falseIDs = append(a.falseIDs, int64(n.Right))
	}
}

func (a *treeAttributes) list() []onnx.Attribute {
	return []onnx.Attribute{
		onnx.Ints("nodes_treeids", a.treeIDs...),
		onnx.Ints("nodes_nodeids", a.nodeIDs...),
		onnx.Ints("nodes_featureids", a.featureIDs...),
		onnx.Floats("nodes_values", a.values...),
		onnx.Strings("nodes_modes", a.modes...),
		onnx.Ints("nodes_truenodeids", a.trueIDs...),
		onnx.Ints("nodes_falsenodeids", a.falseIDs...),
		onnx.Ints("target_treeids", a.targetTreeIDs...),
		onnx.Ints("target_nodeids", a.targetNodeIDs...),
		onnx.Ints("target_ids", a.targetIDs...),
		onnx.Floats("target_weights", a.targetWeights...),
	}
}
