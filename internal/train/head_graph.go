package train

import "github.com/streamscore/streamscore/internal/onnx"

// The classifier heads compute probabilities in float64 and round them once
// to float32, the arithmetic of head.probabilities, and never use ONNX
// Runtime's Sigmoid or Softmax. Those float32 kernels are coarse in the
// tails: ONNX Runtime 1.24's Sigmoid gives 5.96e-8 at -16 and 8.94e-8 at
// -17 (1.1e-7 and 4.1e-8 are right) and 0 below -18, which merges the
// scores of rare events and reorders them. Its float64 Exp is within 4e-16
// of the true value over [-100, 100] (float32 Exp within one ulp), so the
// heads here give, in float32, the same bits as Go's float64 arithmetic
// rounded; TestHeadTailParity holds every family to that.
//
// Working in float32 instead would not do: 1/(1+e^-m) rounds 1+e^-m to a
// multiple of 2^-23, so near 1 it skips every other float32, and
// exp(s - max) inherits the rounding of s - max, up to 5e-6 relative.

// addBinaryHead completes a graph that computes a logit [N, 1] into a
// binary classifier, the same for every model family:
//
//	probabilities = concat(1/(1+e^logit), 1/(1+e^-logit))   in float64
//	label         = int64(logit > 0)
//	margin        = logit
//
// Each class's probability is its own logistic function rather than one
// minus the other, whose tail would round to 0. It adds the constants
// "one" and "zero", which the graph may use too.
func addBinaryHead(g *onnx.Graph, logit string) {
	g.Initializers = append(g.Initializers,
		onnx.FloatTensor("one", nil, []float32{1}),
		onnx.FloatTensor("zero", nil, []float32{0}),
		onnx.Int64Tensor("class_axis", []int64{1}, []int64{1}),
	)
	g.Nodes = append(g.Nodes,
		toDouble("one", "one_f64"),
		toDouble(logit, "logit_f64"),
		opNode("Neg", []string{"logit_f64"}, "minus_logit_f64"),
		opNode("Exp", []string{"logit_f64"}, "odds_0_f64"), // p0/p1
		opNode("Exp", []string{"minus_logit_f64"}, "odds_1_f64"),
		opNode("Add", []string{"one_f64", "odds_0_f64"}, "inverse_0_f64"),
		opNode("Add", []string{"one_f64", "odds_1_f64"}, "inverse_1_f64"),
		opNode("Reciprocal", []string{"inverse_0_f64"}, "probability_0_f64"),
		opNode("Reciprocal", []string{"inverse_1_f64"}, "probability_1_f64"),
		opNode("Concat", []string{"probability_0_f64", "probability_1_f64"}, "probabilities_f64", onnx.Int("axis", 1)),
		toFloat("probabilities_f64", OutputProbabilities),
		opNode("Greater", []string{logit, "zero"}, "is_class_1"),
		opNode("Cast", []string{"is_class_1"}, "label_column", onnx.Int("to", int64(onnx.TypeInt64))),
		opNode("Squeeze", []string{"label_column", "class_axis"}, OutputLabel),
		opNode("Identity", []string{logit}, OutputMargin),
	)
	g.Outputs = []onnx.ValueInfo{
		onnx.TensorInfo(OutputLabel, onnx.TypeInt64, onnx.DimParam(batchDim)),
		onnx.TensorInfo(OutputProbabilities, onnx.TypeFloat, onnx.DimParam(batchDim), onnx.DimValue(2)),
		onnx.TensorInfo(OutputMargin, onnx.TypeFloat, onnx.DimParam(batchDim), onnx.DimValue(1)),
	}
}

// addMulticlassHead completes a graph that computes class scores [N, K]
// into a classifier of K classes, the same for every model family:
//
//	probabilities = e^(s - max s) / sum(e^(s - max s))   in float64
//	label         = argmax(scores), the first class on a tie
//	margin        = scores
//
// Shifting by the largest score keeps every exponential in (0, 1], and
// in float64 the shift is exact.
func addMulticlassHead(g *onnx.Graph, scores string, numClasses int) {
	g.Initializers = append(g.Initializers,
		onnx.Int64Tensor("class_axis", []int64{1}, []int64{1}),
	)
	g.Nodes = append(g.Nodes,
		toDouble(scores, "scores_f64"),
		opNode("ReduceMax", []string{"scores_f64"}, "max_score_f64", onnx.Ints("axes", 1), onnx.Int("keepdims", 1)),
		opNode("Sub", []string{"scores_f64", "max_score_f64"}, "shifted_f64"),
		opNode("Exp", []string{"shifted_f64"}, "exp_shifted_f64"),
		opNode("ReduceSum", []string{"exp_shifted_f64", "class_axis"}, "exp_sum_f64", onnx.Int("keepdims", 1)),
		opNode("Div", []string{"exp_shifted_f64", "exp_sum_f64"}, "probabilities_f64"),
		toFloat("probabilities_f64", OutputProbabilities),
		opNode("ArgMax", []string{scores}, OutputLabel, onnx.Int("axis", 1), onnx.Int("keepdims", 0)),
		opNode("Identity", []string{scores}, OutputMargin),
	)
	g.Outputs = []onnx.ValueInfo{
		onnx.TensorInfo(OutputLabel, onnx.TypeInt64, onnx.DimParam(batchDim)),
		onnx.TensorInfo(OutputProbabilities, onnx.TypeFloat, onnx.DimParam(batchDim), onnx.DimValue(int64(numClasses))),
		onnx.TensorInfo(OutputMargin, onnx.TypeFloat, onnx.DimParam(batchDim), onnx.DimValue(int64(numClasses))),
	}
}

// toDouble casts a float32 value to float64.
func toDouble(input, output string) onnx.Node {
	return opNode("Cast", []string{input}, output, onnx.Int("to", int64(onnx.TypeDouble)))
}

// toFloat casts a float64 value to float32, rounding to nearest.
func toFloat(input, output string) onnx.Node {
	return opNode("Cast", []string{input}, output, onnx.Int("to", int64(onnx.TypeFloat)))
}
