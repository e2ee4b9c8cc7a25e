package model_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/onnx"
	"github.com/streamscore/streamscore/internal/train"
)

// The models in these tests are built here, with the project's ONNX writer
// and trainer, rather than stored as fixtures: each is a few nodes, and the
// code that builds it says what it computes.

// batchDim is the symbolic batch dimension of every test graph.
const batchDim = "N"

// rows returns a float tensor description of shape [N, cols].
func rows(name string, cols int64) onnx.ValueInfo {
	return onnx.TensorInfo(name, onnx.TypeFloat, onnx.DimParam(batchDim), onnx.DimValue(cols))
}

// encode wraps g in a model importing the default and ML operator sets,
// stores spec as its metadata when spec is not nil, and encodes it.
func encode(t testing.TB, g onnx.Graph, spec *model.Spec) []byte {
	t.Helper()
	if spec == nil {
		return encodeMeta(t, g, nil)
	}
	meta, err := spec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return encodeMeta(t, g, map[string]string{model.SpecMetadataKey: meta})
}

// encodeMeta is encode with the metadata given as is.
func encodeMeta(t testing.TB, g onnx.Graph, meta map[string]string) []byte {
	t.Helper()
	if g.Name == "" {
		g.Name = "test"
	}
	m := onnx.Model{
		IRVersion:    onnx.IRVersion,
		ProducerName: "streamscore-model-test",
		Opsets: []onnx.Opset{
			{Domain: onnx.DomainDefault, Version: onnx.OpsetVersion},
			{Domain: onnx.DomainML, Version: onnx.OpsetMLVersion},
		},
		Metadata: meta,
		Graph:    g,
	}
	data, err := m.Marshal()
	if err != nil {
		t.Fatalf("encode test model: %v", err)
	}
	return data
}

// load loads a model that the test expects to be valid and closes it when
// the test ends.
func load(t testing.TB, data []byte, opts model.Options) *model.Model {
	t.Helper()
	m, err := model.Load(data, opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return m
}

// newBatch returns a batch of m that is closed when the test ends.
func newBatch(t testing.TB, m *model.Model) *model.Batch {
	t.Helper()
	b := m.NewBatch()
	t.Cleanup(b.Close)
	return b
}

// node returns a one-output node named after its output.
func node(op string, inputs []string, output string, attrs ...onnx.Attribute) onnx.Node {
	return onnx.Node{OpType: op, Name: output, Inputs: inputs, Outputs: []string{output}, Attributes: attrs}
}

// mlNode is node in the ai.onnx.ml domain.
func mlNode(op string, inputs []string, output string, attrs ...onnx.Attribute) onnx.Node {
	n := node(op, inputs, output, attrs...)
	n.Domain = onnx.DomainML
	return n
}

// identityGraph echoes its float input "features" [N, cols] as the output
// "scores" [N, cols], so a test reads back exactly the features a batch
// fed the model.
func identityGraph(cols int64) onnx.Graph {
	return onnx.Graph{
		Inputs:  []onnx.ValueInfo{rows("features", cols)},
		Nodes:   []onnx.Node{node("Identity", []string{"features"}, "scores")},
		Outputs: []onnx.ValueInfo{rows("scores", cols)},
	}
}

// identitySpec maps fields, in order, onto identityGraph's columns, and
// names one label per column, so each score is one feature.
func identitySpec(fields ...string) model.Spec {
	spec := model.Spec{
		Name:    "identity",
		Task:    model.Classification,
		Inputs:  []model.Input{{Name: "features", Fields: columns(fields...)}},
		Outputs: model.Outputs{Scores: "scores"},
	}
	for i := range fields {
		spec.Labels = append(spec.Labels, fmt.Sprintf("c%d", i))
	}
	return spec
}

// columns returns one Feature per field, without defaults.
func columns(fields ...string) []model.Feature {
	cols := make([]model.Feature, len(fields))
	for i, f := range fields {
		cols[i] = model.Feature{Field: f}
	}
	return cols
}

// Words the text graphs know, and the probability of "spam" they give.
var spamScore = map[string]float32{"ham": 0, "spam": 1, "": 0.5}

// textGraph scores a string input "text" of the given rank ([N, 1] or
// [N]) by looking each text up: "spam" scores [0, 1], "ham" [1, 0], any
// other text [0.5, 0.5]. The output "scores" is float [N, 2].
func textGraph(rank int) onnx.Graph {
	shape := []onnx.Dim{onnx.DimParam(batchDim), onnx.DimValue(1)}[:rank]
	lookup := "p_spam"
	g := onnx.Graph{
		Inputs: []onnx.ValueInfo{onnx.TensorInfo("text", onnx.TypeString, shape...)},
		Initializers: []onnx.Tensor{
			onnx.FloatTensor("one", nil, []float32{1}),
			onnx.Int64Tensor("column_axis", []int64{1}, []int64{1}),
		},
		Nodes: []onnx.Node{
			mlNode("LabelEncoder", []string{"text"}, lookup,
				onnx.Strings("keys_strings", "ham", "spam"),
				onnx.Floats("values_floats", spamScore["ham"], spamScore["spam"]),
				onnx.Float("default_float", spamScore[""])),
		},
		Outputs: []onnx.ValueInfo{rows("scores", 2)},
	}
	if rank == 1 {
		g.Nodes = append(g.Nodes, node("Unsqueeze", []string{lookup, "column_axis"}, "p_spam_column"))
		lookup = "p_spam_column"
	}
	g.Nodes = append(g.Nodes,
		node("Sub", []string{"one", lookup}, "p_ham"),
		node("Concat", []string{"p_ham", lookup}, "scores", onnx.Int("axis", 1)),
	)
	return g
}

// textSpec maps the Avro field "body" onto textGraph's input.
func textSpec() model.Spec {
	return model.Spec{
		Name:    "spam",
		Task:    model.Classification,
		Labels:  []string{"ham", "spam"},
		Inputs:  []model.Input{{Name: "text", Type: model.StringInput, Fields: columns("body")}},
		Outputs: model.Outputs{Scores: "scores"},
	}
}

// argMaxGraph outputs "label", the int64 index [N] of the largest of its
// float input "features" [N, cols]; with labelNames it maps the index to a
// string label instead.
func argMaxGraph(cols int64, labelNames ...string) onnx.Graph {
	g := onnx.Graph{
		Inputs: []onnx.ValueInfo{rows("features", cols)},
		Nodes: []onnx.Node{
			node("ArgMax", []string{"features"}, "class", onnx.Int("axis", 1), onnx.Int("keepdims", 0)),
		},
		Outputs: []onnx.ValueInfo{onnx.TensorInfo("label", onnx.TypeInt64, onnx.DimParam(batchDim))},
	}
	if len(labelNames) == 0 {
		g.Nodes[0].Outputs, g.Nodes[0].Name = []string{"label"}, "label"
		return g
	}
	keys := make([]int64, len(labelNames))
	for i := range keys {
		keys[i] = int64(i)
	}
	g.Nodes = append(g.Nodes, mlNode("LabelEncoder", []string{"class"}, "label",
		onnx.Ints("keys_int64s", keys...),
		onnx.Strings("values_strings", labelNames...),
		onnx.String("default_string", "unknown")))
	g.Outputs[0].Type = onnx.TypeString
	return g
}

// sumGraph outputs "value", the row sums of its float input "features"
// [N, cols], as float [N, 1] (rank 2) or [N] (rank 1).
func sumGraph(cols int64, rank int) onnx.Graph {
	keep := int64(0)
	shape := []onnx.Dim{onnx.DimParam(batchDim)}
	if rank == 2 {
		keep = 1
		shape = append(shape, onnx.DimValue(1))
	}
	return onnx.Graph{
		Inputs:       []onnx.ValueInfo{rows("features", cols)},
		Initializers: []onnx.Tensor{onnx.Int64Tensor("column_axis", []int64{1}, []int64{1})},
		Nodes: []onnx.Node{
			node("ReduceSum", []string{"features", "column_axis"}, "value", onnx.Int("keepdims", keep)),
		},
		Outputs: []onnx.ValueInfo{onnx.TensorInfo("value", onnx.TypeFloat, shape...)},
	}
}

// withMapSequenceOutput declares one more graph output in an encoded
// model: name, of type seq(map(int64, float)), as scikit-learn's ZipMap
// produces. The project's writer only declares tensors, so this appends a
// second ModelProto.graph field holding just the new GraphProto.output;
// protobuf parsers merge repeated occurrences of an embedded message, so
// ONNX Runtime reads one graph with both outputs.
func withMapSequenceOutput(encoded []byte, name string) []byte {
	// Field numbers from onnx.proto.
	const (
		modelGraph       = 7  // ModelProto.graph
		graphOutput      = 12 // GraphProto.output
		valueInfoName    = 1  // ValueInfoProto.name
		valueInfoType    = 2  // ValueInfoProto.type
		typeTensor       = 1  // TypeProto.tensor_type
		typeSequence     = 4  // TypeProto.sequence_type
		typeMap          = 5  // TypeProto.map_type
		tensorElemType   = 1  // TypeProto.Tensor.elem_type
		sequenceElemType = 1  // TypeProto.Sequence.elem_type
		mapKeyType       = 1  // TypeProto.Map.key_type
		mapValueType     = 2  // TypeProto.Map.value_type
	)
	message := func(b []byte, num protowire.Number, msg []byte) []byte {
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendBytes(b, msg)
	}
	varint := func(b []byte, num protowire.Number, v uint64) []byte {
		b = protowire.AppendTag(b, num, protowire.VarintType)
		return protowire.AppendVarint(b, v)
	}
	floatTensor := message(nil, typeTensor, varint(nil, tensorElemType, uint64(onnx.TypeFloat)))
	mapType := message(varint(nil, mapKeyType, uint64(onnx.TypeInt64)), mapValueType, floatTensor)
	sequence := message(nil, sequenceElemType, message(nil, typeMap, mapType))
	valueInfo := protowire.AppendTag(nil, valueInfoName, protowire.BytesType)
	valueInfo = protowire.AppendString(valueInfo, name)
	valueInfo = message(valueInfo, valueInfoType, message(nil, typeSequence, sequence))
	out := append([]byte(nil), encoded...)
	return message(out, modelGraph, message(nil, graphOutput, valueInfo))
}

// zipMapModel is a scikit-learn style classifier over float "features"
// [N, 2]: "label" (int64 [N]) and "output_probability", a ZipMap
// sequence of maps rather than a tensor.
func zipMapModel(t testing.TB) []byte {
	t.Helper()
	g := argMaxGraph(2)
	g.Nodes = append(g.Nodes, mlNode("ZipMap", []string{"features"}, "output_probability",
		onnx.Ints("classlabels_int64s", 0, 1)))
	return withMapSequenceOutput(encode(t, g, nil), "output_probability")
}

// featureNames returns the field names f0, f1, ... of n synthetic features.
func featureNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("f%d", i)
	}
	return names
}

// synthetic returns n rows of nf features in [-2, 2) and, per row, a binary
// label (classification) or a noisy value (regression) that depends on the
// first features non-linearly, so that trees have something to learn.
func synthetic(seed uint64, n, nf int, obj train.Objective) (features []float32, labels []float64) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	features = make([]float32, n*nf)
	labels = make([]float64, n)
	for i := range n {
		row := features[i*nf : (i+1)*nf]
		for j := range row {
			row[j] = float32(rng.Float64()*4 - 2)
		}
		signal := float64(row[0]) + 0.8*float64(row[1]*row[min(2, nf-1)]) - 0.5*float64(row[nf-1])
		noise := rng.NormFloat64() * 0.3
		if obj == train.SquaredError {
			labels[i] = 10*signal + noise
		} else if signal+noise > 0 {
			labels[i] = 1
		}
	}
	return features, labels
}

// fit trains an ensemble of the given size on rows of synthetic data.
func fit(t testing.TB, obj train.Objective, trees, depth, n, nf int) *train.Ensemble {
	t.Helper()
	features, labels := synthetic(1, n, nf, obj)
	data, err := train.NewDataset(features, nf, labels)
	if err != nil {
		t.Fatal(err)
	}
	cfg := train.DefaultConfig()
	cfg.Objective, cfg.MaxIter, cfg.MaxDepth = obj, trees, depth
	ens, err := train.Fit(context.Background(), cfg, data)
	if err != nil {
		t.Fatalf("Fit: %v", err)
	}
	return ens
}

// ensembleModel exports ens with spec in its metadata.
func ensembleModel(t testing.TB, ens *train.Ensemble, spec model.Spec) []byte {
	t.Helper()
	meta, err := spec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m, err := ens.ONNX(map[string]string{model.SpecMetadataKey: meta})
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	data, err := m.Marshal()
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return data
}

// treeSpec maps fields onto the exported ensemble's input.
func treeSpec(task model.Task, fields []string) model.Spec {
	spec := model.Spec{
		Name:    "trees",
		Version: "1",
		Task:    task,
		Inputs:  []model.Input{{Name: train.InputFeatures, Fields: columns(fields...)}},
	}
	if task == model.Classification {
		spec.Labels = []string{"normal", "anomaly"}
		spec.Outputs.Scores = train.OutputProbabilities
	} else {
		spec.Outputs.Value = train.OutputVariable
	}
	return spec
}

// record returns row as a goavro-native record of doubles named by names.
func record(names []string, row []float32) map[string]any {
	rec := make(map[string]any, len(names))
	for i, name := range names {
		rec[name] = float64(row[i])
	}
	return rec
}

// addAll adds every record to b, failing the test on the first error.
func addAll(t testing.TB, b *model.Batch, recs ...map[string]any) {
	t.Helper()
	for i, r := range recs {
		if err := b.Add(r); err != nil {
			t.Fatalf("Add record %d: %v", i, err)
		}
	}
}

// run scores b and checks that it returned one result per row.
func run(t testing.TB, m *model.Model, b *model.Batch) []model.Result {
	t.Helper()
	results, err := m.Run(b)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(results) != b.Len() {
		t.Fatalf("Run returned %d results for %d rows", len(results), b.Len())
	}
	return results
}

// same reports whether two float32s are equal, NaN matching NaN.
func same(a, b float32) bool {
	return a == b || (math.IsNaN(float64(a)) && math.IsNaN(float64(b)))
}

// requireErr fails t unless err wraps want and its message holds every
// fragment.
func requireErr(t testing.TB, err, want error, fragments ...string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v; want one wrapping %q", err, want)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}

// mixedGraph takes float "features" [N, 2] and string "text" [N, 1] and
// outputs "scores" [N, 3]: both features, then the text's spam score (see
// textGraph), so a test can read back every input of every row.
func mixedGraph() onnx.Graph {
	return onnx.Graph{
		Inputs: []onnx.ValueInfo{
			rows("features", 2),
			onnx.TensorInfo("text", onnx.TypeString, onnx.DimParam(batchDim), onnx.DimValue(1)),
		},
		Nodes: []onnx.Node{
			mlNode("LabelEncoder", []string{"text"}, "p_spam",
				onnx.Strings("keys_strings", "ham", "spam"),
				onnx.Floats("values_floats", spamScore["ham"], spamScore["spam"]),
				onnx.Float("default_float", spamScore[""])),
			node("Concat", []string{"features", "p_spam"}, "scores", onnx.Int("axis", 1)),
		},
		Outputs: []onnx.ValueInfo{rows("scores", 3)},
	}
}

// mixedSpec maps fields x, y and body onto mixedGraph, listing the inputs
// text first when textFirst is set: the order in which a batch fills them.
func mixedSpec(textFirst bool) model.Spec {
	inputs := []model.Input{
		{Name: "features", Fields: columns("x", "y")},
		{Name: "text", Type: model.StringInput, Fields: columns("body")},
	}
	if textFirst {
		inputs[0], inputs[1] = inputs[1], inputs[0]
	}
	return model.Spec{
		Name:    "mixed",
		Task:    model.Classification,
		Labels:  []string{"x", "y", "spam"},
		Inputs:  inputs,
		Outputs: model.Outputs{Scores: "scores"},
	}
}
