package train

import (
	"fmt"

	"github.com/streamscore/streamscore/internal/onnx"
)

// ONNX returns the model as an ONNX model with the interface of
// Ensemble.ONNX: input InputFeatures, float32 [N, NumFeatures], a
// categorical feature's column holding its code; a classifier outputs
// OutputLabel (int64 [N]), OutputProbabilities (float32 [N, NumClasses])
// and OutputMargin (its raw scores), a regressor OutputVariable (float32
// [N, 1]). ONNX Runtime reproduces PredictBatch and PredictProbaBatch to
// float32 rounding: both standardise in float32 and sum in float64, in
// different orders.
//
// The graph imputes (IsNaN, Where) and standardises (Sub, Mul) the numeric
// features in float32, then computes the raw scores in float64 (MatMul,
// Add), one column per output, under the classifier head the ensemble uses
// (addBinaryHead, addMulticlassHead), and rounds them once to float32 as
// Go does. These are default-domain operators rather than ai.onnx.ml's
// Imputer, Scaler and LinearRegressor, whose outputs the ONNX checker
// (onnx 1.12) cannot type, so that the model passes strict shape inference
// like every other export. Keeping the standardisation rather than folding
// it into the coefficients keeps the dot products as precise as the
// standardised features: folded, a feature of large mean and small spread
// would lose its digits to cancellation. Summing in float64 keeps a score
// made of large terms that cancel, as one-hot weights and an intercept
// can, to float32 precision. meta becomes the model's metadata_props.
//
// Categorical features are one-hot encoded inside the graph, without the
// one-hot: the product of a one-hot row with the weights is the weight of
// its code, so addCategoricalScores looks each code up (Gather) in one
// table of every categorical feature's weights, a row per code. That is
// exact, costs one lookup per feature and row whatever the number of codes,
// and keeps the input a float32 matrix of codes. ai.onnx.ml's
// OneHotEncoder, or OneHot, would write out the N × codes one-hot matrix
// only for a MatMul to multiply all but one of each row's entries by zero.
func (m *LinearModel) ONNX(meta map[string]string) (*onnx.Model, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("export ONNX: %w", err)
	}
	numeric, blocks, width := linearColumns(m.NumFeatures, m.categories)
	k := m.NumOutputs()
	g := onnx.Graph{
		Inputs: []onnx.ValueInfo{
			onnx.TensorInfo(InputFeatures, onnx.TypeFloat, onnx.DimParam(batchDim), onnx.DimValue(int64(m.NumFeatures))),
		},
		Initializers: []onnx.Tensor{
			onnx.FloatTensor("intercepts", []int64{int64(k)}, m.Intercepts),
		},
		Nodes: []onnx.Node{toDouble("intercepts", "intercepts_f64")},
	}
	scores := "intercepts_f64" // a float64 sum, [k] then [N, k]
	if len(numeric) > 0 {
		m.addNumericScores(&g, numeric, width)
		g.Nodes = append(g.Nodes, opNode("Add", []string{"numeric_scores_f64", scores}, "linear_scores_f64"))
		scores = "linear_scores_f64"
	}
	if len(blocks) > 0 {
		m.addCategoricalScores(&g, blocks, width)
		g.Nodes = append(g.Nodes, opNode("Add", []string{scores, "categorical_scores_f64"}, "scores_f64_sum"))
		scores = "scores_f64_sum"
	}
	cast := func(output string) onnx.Node { return toFloat(scores, output) }
	var kind string
	switch m.Objective {
	case BinaryLogLoss:
		kind = "logistic regression"
		g.Name = "linear_binary_classifier"
		g.Nodes = append(g.Nodes, cast("logit"))
		addBinaryHead(&g, "logit")
	case MulticlassLogLoss:
		kind = "multinomial logistic regression"
		g.Name = "linear_multiclass_classifier"
		g.Nodes = append(g.Nodes, cast("class_scores"))
		addMulticlassHead(&g, "class_scores", m.NumClasses())
	case SquaredError:
		kind = "ridge regression"
		g.Name = "linear_regressor"
		g.Nodes = append(g.Nodes, cast(OutputVariable))
		g.Outputs = []onnx.ValueInfo{
			onnx.TensorInfo(OutputVariable, onnx.TypeFloat, onnx.DimParam(batchDim), onnx.DimValue(1)),
		}
	default:
		return nil, fmt.Errorf("export ONNX: no graph for objective %v", m.Objective)
	}
	doc := fmt.Sprintf("%s: %v, %d features", kind, m.Objective, m.NumFeatures)
	if len(blocks) > 0 {
		doc += fmt.Sprintf(" (%d categorical, %d columns)", len(blocks), width)
	}
	return newMLModel(doc, g, meta), nil
}

// addNumericScores adds the nodes that compute "numeric_scores_f64", float64
// [N, k]: the numeric features imputed and standardised in float32, then
// their product with their weights in float64. With no categorical feature
// the features are the input itself; otherwise a Gather picks the numeric
// columns.
func (m *LinearModel) addNumericScores(g *onnx.Graph, numeric []int, width int) {
	p, k := int64(len(numeric)), int64(m.NumOutputs())
	means, scales := make([]float32, 0, p), make([]float32, 0, p)
	for _, f := range numeric {
		means, scales = append(means, m.Means[f]), append(scales, m.Scales[f])
	}
	weights := make([]float32, 0, p*k) // [p, k]: the numeric columns transposed
	for j := range numeric {
		for out := range k {
			weights = append(weights, m.Coefficients[int(out)*width+j])
		}
	}
	values := InputFeatures
	if int(p) < m.NumFeatures {
		indices := make([]int64, p)
		for j, f := range numeric {
			indices[j] = int64(f)
		}
		g.Initializers = append(g.Initializers, onnx.Int64Tensor("numeric_features", []int64{p}, indices))
		g.Nodes = append(g.Nodes, opNode("Gather", []string{InputFeatures, "numeric_features"}, "numeric_values", onnx.Int("axis", 1)))
		values = "numeric_values"
	}
	g.Initializers = append(g.Initializers,
		onnx.FloatTensor("means", []int64{p}, means),
		onnx.FloatTensor("scales", []int64{p}, scales),
		onnx.FloatTensor("weights", []int64{p, k}, weights),
	)
	g.Nodes = append(g.Nodes,
		opNode("IsNaN", []string{values}, "is_missing"),
		opNode("Where", []string{"is_missing", "means", values}, "imputed"),
		opNode("Sub", []string{"imputed", "means"}, "centred"),
		opNode("Mul", []string{"centred", "scales"}, "standardized"),
		toDouble("standardized", "standardized_f64"),
		toDouble("weights", "weights_f64"),
		opNode("MatMul", []string{"standardized_f64", "weights_f64"}, "numeric_scores_f64"),
	)
}

// addCategoricalScores adds the nodes that compute
// "categorical_scores_f64", float64 [N, k]: the sum over the categorical
// features of the weights of their codes,
//
//	values = features[:, categorical]                          [N, c] float32
//	code   = values if whole and 0 <= values < codes else other
//	row    = int64(code) + offset                              [N, c]
//	scores = ReduceSum(table[row], axis 1)                     [N, k] float64
//
// where table stacks every categorical feature's weights, [Σ codes, k], a
// row per code, and offset is each feature's first row. The test of code
// is categoryCode's: a value that is not a code (negative, too large,
// fractional, NaN, infinite) becomes the feature's other code, so the
// Gather never reads outside the feature's rows, which ONNX Runtime would
// refuse with an error rather than score.
func (m *LinearModel) addCategoricalScores(g *onnx.Graph, blocks []categoryBlock, width int) {
	c, k := int64(len(blocks)), m.NumOutputs()
	features, codes, other, offsets := make([]int64, c), make([]float32, c), make([]float32, c), make([]int64, c)
	var rows int64
	for j, b := range blocks {
		features[j], codes[j], other[j], offsets[j] = int64(b.feature), float32(b.codes), float32(otherCode(b.codes)), rows
		rows += int64(b.codes)
	}
	table := make([]float32, 0, rows*int64(k)) // [rows, k]
	for _, b := range blocks {
		for code := range b.codes {
			for out := range k {
				table = append(table, m.Coefficients[out*width+b.start+code])
			}
		}
	}
	g.Initializers = append(g.Initializers,
		onnx.Int64Tensor("categorical_features", []int64{c}, features),
		onnx.FloatTensor("category_zero", nil, []float32{0}),
		onnx.FloatTensor("category_codes", []int64{c}, codes),
		onnx.FloatTensor("category_other", []int64{c}, other),
		onnx.Int64Tensor("category_offsets", []int64{c}, offsets),
		onnx.FloatTensor("category_weights", []int64{rows, int64(k)}, table),
		onnx.Int64Tensor("category_axis", []int64{1}, []int64{1}),
	)
	g.Nodes = append(g.Nodes,
		opNode("Gather", []string{InputFeatures, "categorical_features"}, "category_values", onnx.Int("axis", 1)),
		opNode("Floor", []string{"category_values"}, "category_floor"),
		opNode("Equal", []string{"category_floor", "category_values"}, "category_is_whole"),
		opNode("GreaterOrEqual", []string{"category_values", "category_zero"}, "category_not_negative"),
		opNode("Less", []string{"category_values", "category_codes"}, "category_below_codes"),
		opNode("And", []string{"category_is_whole", "category_not_negative"}, "category_whole_not_negative"),
		opNode("And", []string{"category_whole_not_negative", "category_below_codes"}, "category_is_code"),
		opNode("Where", []string{"category_is_code", "category_values", "category_other"}, "category_code_values"),
		opNode("Cast", []string{"category_code_values"}, "category_codes_i64", onnx.Int("to", int64(onnx.TypeInt64))),
		opNode("Add", []string{"category_codes_i64", "category_offsets"}, "category_rows"),
		toDouble("category_weights", "category_weights_f64"),
		opNode("Gather", []string{"category_weights_f64", "category_rows"}, "category_row_weights_f64", onnx.Int("axis", 0)),
		opNode("ReduceSum", []string{"category_row_weights_f64", "category_axis"}, "categorical_scores_f64", onnx.Int("keepdims", 0)),
	)
}
