package drift_test

import (
	"fmt"
	"testing"

	"github.com/streamscore/streamscore/internal/drift"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/onnx"
)

// The models here are a few ONNX nodes built with the project's writer:
// what they compute matters less than that ONNX Runtime runs them, as the
// scorer does, and that their scores follow their features.

const batchDim = "N"

func node(op string, inputs []string, output string, attrs ...onnx.Attribute) onnx.Node {
	return onnx.Node{OpType: op, Name: output, Inputs: inputs, Outputs: []string{output}, Attributes: attrs}
}

// sigmoidSumGraph is a binary classifier of its float input "features"
// [N, cols]: the positive class scores the sigmoid of the row's sum
// scaled by scale.
func sigmoidSumGraph(cols int64, scale float32) onnx.Graph {
	return onnx.Graph{
		Inputs: []onnx.ValueInfo{onnx.TensorInfo("features", onnx.TypeFloat, onnx.DimParam(batchDim), onnx.DimValue(cols))},
		Initializers: []onnx.Tensor{
			onnx.Int64Tensor("axis", []int64{1}, []int64{1}),
			onnx.FloatTensor("one", nil, []float32{1}),
			onnx.FloatTensor("scale", nil, []float32{scale}),
		},
		Nodes: []onnx.Node{
			node("ReduceSum", []string{"features", "axis"}, "sum", onnx.Int("keepdims", 1)),
			node("Mul", []string{"sum", "scale"}, "logit"),
			node("Sigmoid", []string{"logit"}, "p1"),
			node("Sub", []string{"one", "p1"}, "p0"),
			node("Concat", []string{"p0", "p1"}, "scores", onnx.Int("axis", 1)),
		},
		Outputs: []onnx.ValueInfo{onnx.TensorInfo("scores", onnx.TypeFloat, onnx.DimParam(batchDim), onnx.DimValue(2))},
	}
}

// textLengthGraph is a regressor of its string input "text" [N, 1]: a
// constant 0.5, whatever the text.
func textLengthGraph() onnx.Graph {
	return onnx.Graph{
		Inputs:       []onnx.ValueInfo{onnx.TensorInfo("text", onnx.TypeString, onnx.DimParam(batchDim), onnx.DimValue(1))},
		Initializers: []onnx.Tensor{onnx.FloatTensor("half", nil, []float32{0.5})},
		Nodes: []onnx.Node{
			{OpType: "LabelEncoder", Domain: onnx.DomainML, Name: "code", Inputs: []string{"text"}, Outputs: []string{"code"},
				Attributes: []onnx.Attribute{onnx.Strings("keys_strings", "x"), onnx.Floats("values_floats", 1), onnx.Float("default_float", 0)}},
			node("Mul", []string{"code", "half"}, "zero_or_half"),
			node("Sub", []string{"half", "zero_or_half"}, "value"),
		},
		Outputs: []onnx.ValueInfo{onnx.TensorInfo("value", onnx.TypeFloat, onnx.DimParam(batchDim), onnx.DimValue(1))},
	}
}

// binarySpec maps features onto sigmoidSumGraph.
func binarySpec(features ...model.Feature) model.Spec {
	return model.Spec{
		Name: "drift-test", Task: model.Classification, Labels: []string{"no", "yes"},
		Inputs:  []model.Input{{Name: "features", Fields: features}},
		Outputs: model.Outputs{Scores: "scores"},
	}
}

func textSpec() model.Spec {
	return model.Spec{
		Name: "drift-text", Task: model.Regression,
		Inputs:  []model.Input{{Name: "text", Type: model.StringInput, Fields: []model.Feature{{Field: "body"}}}},
		Outputs: model.Outputs{Value: "value"},
	}
}

// numbered are fields f0, f1, ... as plain numeric features.
func numbered(n int) []model.Feature {
	out := make([]model.Feature, n)
	for i := range out {
		out[i] = model.Feature{Field: fmt.Sprintf("f%d", i)}
	}
	return out
}

// load encodes g with spec and loads it in ONNX Runtime.
func load(t testing.TB, g onnx.Graph, spec model.Spec) *model.Model {
	t.Helper()
	meta, err := spec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	g.Name = "drift"
	data, err := (&onnx.Model{
		IRVersion: onnx.IRVersion, ProducerName: "drift-test",
		Opsets:   []onnx.Opset{{Domain: onnx.DomainDefault, Version: onnx.OpsetVersion}, {Domain: onnx.DomainML, Version: onnx.OpsetMLVersion}},
		Metadata: map[string]string{model.SpecMetadataKey: meta},
		Graph:    g,
	}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(data, model.Options{MaxBatch: 256})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// scorer runs records through a model in batches, as the scorer does,
// and hands every scored row to each.
type scorer struct {
	t testing.TB
	m *model.Model
	b *model.Batch
}

func newScorer(t testing.TB, m *model.Model) *scorer {
	b := m.NewBatch()
	t.Cleanup(b.Close)
	return &scorer{t, m, b}
}

func (s *scorer) score(recs []map[string]any, each func(b *model.Batch, row int, r model.Result)) {
	s.t.Helper()
	for len(recs) > 0 {
		s.b.Reset()
		for len(recs) > 0 && !s.b.Full() {
			if err := s.b.Add(recs[0]); err != nil {
				s.t.Fatalf("Add %v: %v", recs[0], err)
			}
			recs = recs[1:]
		}
		res, err := s.m.Run(s.b)
		if err != nil {
			s.t.Fatal(err)
		}
		for i, r := range res {
			each(s.b, i, r)
		}
	}
}

// reference is the profile of recs as training rows of m.
func reference(t testing.TB, m *model.Model, recs []map[string]any, vocab map[int]drift.TextVocabulary) *drift.Profile {
	t.Helper()
	ref := drift.NewReference(m.Spec(), vocab)
	newScorer(t, m).score(recs, func(b *model.Batch, row int, r model.Result) {
		ref.AddBatchRow(b, row)
		ref.AddPrediction(r)
	})
	p := ref.Profile()
	if err := p.Check(m.Spec()); err != nil {
		t.Fatalf("the reference fails its own check: %v", err)
	}
	return p
}

// window is the report of recs scored by m against ref.
func window(t testing.TB, m *model.Model, ref *drift.Profile, recs []map[string]any) drift.Report {
	t.Helper()
	w := drift.NewWindow(m.Spec(), ref)
	newScorer(t, m).score(recs, w.Observe)
	return w.Report()
}

// feature is the report of the feature named name.
func feature(t testing.TB, rep drift.Report, name string) drift.FeatureReport {
	t.Helper()
	for _, f := range rep.Features {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no feature %q in %+v", name, rep.Features)
	return drift.FeatureReport{}
}

func value(p *float64) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprintf("%.4f", *p)
}

func ptr(v float64) *float64 { return &v }
