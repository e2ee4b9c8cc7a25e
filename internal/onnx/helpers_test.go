package onnx

import (
	"math"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// exampleModel uses every feature the writer supports: both domains,
// metadata, symbolic and fixed dims, float/int64/string initializers and
// every attribute kind. It is a real model: y = tree(leaky_relu(x·W)).
func exampleModel() *Model {
	return &Model{
		IRVersion:       IRVersion,
		ProducerName:    "onnx-test",
		ProducerVersion: "1.0",
		Domain:          "io.streamscore",
		ModelVersion:    3,
		Doc:             "example covering every writer feature",
		Opsets:          []Opset{{DomainDefault, OpsetVersion}, {DomainML, OpsetMLVersion}},
		Metadata:        map[string]string{"zeta": "last", "alpha": "first", "mid": "middle"},
		Graph: Graph{
			Name: "example",
			Inputs: []ValueInfo{
				TensorInfo("features", TypeFloat, DimParam("N"), DimValue(2)),
			},
			Initializers: []Tensor{
				FloatTensor("weights", []int64{2, 2}, []float32{1, 0.5, -0.25, 2}),
				Int64Tensor("flat_shape", []int64{1}, []int64{-1}),
				StringTensor("class_names", []int64{2}, []string{"low", "high"}),
			},
			Nodes: []Node{
				{OpType: "MatMul", Name: "project", Inputs: []string{"features", "weights"}, Outputs: []string{"projected"}},
				{OpType: "LeakyRelu", Name: "activate", Inputs: []string{"projected"}, Outputs: []string{"activated"},
					Attributes: []Attribute{Float("alpha", 0.1)}},
				{OpType: "TreeEnsembleRegressor", Domain: DomainML, Name: "tree",
					Inputs: []string{"activated"}, Outputs: []string{"score"},
					Attributes: []Attribute{
						Int("n_targets", 1),
						String("post_transform", "NONE"),
						Ints("nodes_treeids", 0, 0, 0),
						Ints("nodes_nodeids", 0, 1, 2),
						Ints("nodes_featureids", 1, 0, 0),
						Floats("nodes_values", 0.5, 0, 0),
						Strings("nodes_modes", "BRANCH_LEQ", "LEAF", "LEAF"),
						Ints("nodes_truenodeids", 1, 0, 0),
						Ints("nodes_falsenodeids", 2, 0, 0),
						Ints("target_treeids", 0, 0),
						Ints("target_nodeids", 1, 2),
						Ints("target_ids", 0, 0),
						Floats("target_weights", -1.5, 2.25),
					}},
				{OpType: "Reshape", Name: "flatten", Inputs: []string{"score", "flat_shape"}, Outputs: []string{"flat"}},
				{OpType: "Cast", Name: "round", Inputs: []string{"flat"}, Outputs: []string{"rounded"},
					Attributes: []Attribute{Int("to", int64(TypeInt64))}},
			},
			Outputs: []ValueInfo{
				TensorInfo("score", TypeFloat, DimParam("N"), DimValue(1)),
				TensorInfo("rounded", TypeInt64, DimParam("N")),
			},
		},
	}
}

// wireField is one decoded protobuf field. Embedded messages, strings and
// packed values stay as raw bytes until a test asks for them.
type wireField struct {
	num   protowire.Number
	typ   protowire.Type
	value uint64 // varint, or the bits of a fixed32
	bytes []byte
}

func decodeMessage(t *testing.T, b []byte) []wireField {
	t.Helper()
	var fields []wireField
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		f := wireField{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.value, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.value = uint64(v)
		case protowire.BytesType:
			f.bytes, n = protowire.ConsumeBytes(b)
		default:
			t.Fatalf("field %d: unexpected wire type %d", num, typ)
		}
		if n < 0 {
			t.Fatalf("field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
		fields = append(fields, f)
	}
	return fields
}

// only returns the fields numbered num, in order.
func only(fields []wireField, num protowire.Number) []wireField {
	var out []wireField
	for _, f := range fields {
		if f.num == num {
			out = append(out, f)
		}
	}
	return out
}

// one returns the single field numbered num.
func one(t *testing.T, fields []wireField, num protowire.Number) wireField {
	t.Helper()
	matches := only(fields, num)
	if len(matches) != 1 {
		t.Fatalf("field %d: got %d occurrences, want 1", num, len(matches))
	}
	return matches[0]
}

func stringOf(t *testing.T, fields []wireField, num protowire.Number) string {
	t.Helper()
	return string(one(t, fields, num).bytes)
}

func stringsOf(fields []wireField, num protowire.Number) []string {
	var out []string
	for _, f := range only(fields, num) {
		out = append(out, string(f.bytes))
	}
	return out
}

func varintsOf(fields []wireField, num protowire.Number) []int64 {
	var out []int64
	for _, f := range only(fields, num) {
		out = append(out, int64(f.value))
	}
	return out
}

func floatsOf(fields []wireField, num protowire.Number) []float32 {
	var out []float32
	for _, f := range only(fields, num) {
		out = append(out, math.Float32frombits(uint32(f.value)))
	}
	return out
}

func packedFloats(t *testing.T, b []byte) []float32 {
	t.Helper()
	var out []float32
	for len(b) > 0 {
		v, n := protowire.ConsumeFixed32(b)
		if n < 0 {
			t.Fatal(protowire.ParseError(n))
		}
		out = append(out, math.Float32frombits(v))
		b = b[n:]
	}
	return out
}

func packedVarints(t *testing.T, b []byte) []int64 {
	t.Helper()
	var out []int64
	for len(b) > 0 {
		v, n := protowire.ConsumeVarint(b)
		if n < 0 {
			t.Fatal(protowire.ParseError(n))
		}
		out = append(out, int64(v))
		b = b[n:]
	}
	return out
}
