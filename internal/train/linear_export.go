package train

import (
	"fmt"

	"github.com/streamscore/streamscore/internal/onnx"
)

// ONNX returns the model as an ONNX model with the interface of
// Ensemble.ONNX: input InputFeatures, float32 [N, NumFeatures]; a
// classifier outputs OutputLabel (int64 [N]), OutputProbabilities
// (float32 [N, NumClasses]) and OutputMargin (its raw scores), a regressor
// OutputVariable (float32 [N, 1]).
// ONNX Runtime reproduces PredictBatch and PredictProbaBatch within float32
// rounding: it sums the dot products in float32 where Go sums in float64.
//
// The graph imputes (IsNaN, Where), standardises (Sub, Mul) and computes
// the raw scores (MatMul, Add), one column per output, under the
// classifier head the ensemble uses (addBinaryHead, addMulticlassHead).
// These are default-domain
// operators rather than ai.onnx.ml's Imputer, Scaler and LinearRegressor,
// whose outputs the ONNX checker (onnx 1.12) cannot type, so that the
// model passes strict shape inference like every other export. Keeping the
// standardisation rather than folding it into the coefficients keeps the
// float32 dot products as precise as the standardised features: folded, a
// feature of large mean and small spread would lose its digits to
// cancellation. meta becomes the model's metadata_props.
func (m *LinearModel) ONNX(meta map[string]string) (*onnx.Model, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("export ONNX: %w", err)
	}
	p, k := int64(m.NumFeatures), int64(m.NumOutputs())
	weights := make([]float32, 0, len(m.Coefficients)) // [p, k]: the coefficients transposed
	for f := range m.NumFeatures {
		for out := range m.NumOutputs() {
			weights = append(weights, m.Coefficients[out*m.NumFeatures+f])
		}
	}
	g := onnx.Graph{
		Inputs: []onnx.ValueInfo{
			onnx.TensorInfo(InputFeatures, onnx.TypeFloat, onnx.DimParam(batchDim), onnx.DimValue(p)),
		},
		Initializers: []onnx.Tensor{
			onnx.FloatTensor("means", []int64{p}, m.Means),
			onnx.FloatTensor("scales", []int64{p}, m.Scales),
			onnx.FloatTensor("weights", []int64{p, k}, weights),
			onnx.FloatTensor("intercepts", []int64{k}, m.Intercepts),
		},
		Nodes: []onnx.Node{
			opNode("IsNaN", []string{InputFeatures}, "is_missing"),
			opNode("Where", []string{"is_missing", "means", InputFeatures}, "imputed"),
			opNode("Sub", []string{"imputed", "means"}, "centred"),
			opNode("Mul", []string{"centred", "scales"}, "standardized"),
			opNode("MatMul", []string{"standardized", "weights"}, "products"),
		},
	}
	scores := func(output string) onnx.Node {
		return opNode("Add", []string{"products", "intercepts"}, output)
	}
	var kind string
	switch m.Objective {
	case BinaryLogLoss:
		kind = "logistic regression"
		g.Name = "linear_binary_classifier"
		g.Nodes = append(g.Nodes, scores("logit"))
		addBinaryHead(&g, "logit")
	case MulticlassLogLoss:
		kind = "multinomial logistic regression"
		g.Name = "linear_multiclass_classifier"
		g.Nodes = append(g.Nodes, scores("class_scores"))
		addMulticlassHead(&g, "class_scores", m.NumClasses())
	case SquaredError:
		kind = "ridge regression"
		g.Name = "linear_regressor"
		g.Nodes = append(g.Nodes, scores(OutputVariable))
		g.Outputs = []onnx.ValueInfo{
			onnx.TensorInfo(OutputVariable, onnx.TypeFloat, onnx.DimParam(batchDim), onnx.DimValue(1)),
		}
	default:
		return nil, fmt.Errorf("export ONNX: no graph for objective %v", m.Objective)
	}
	return newMLModel(fmt.Sprintf("%s: %v, %d features", kind, m.Objective, m.NumFeatures), g, meta), nil
}
