package onnx

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/example.onnx from exampleModel")

func marshalExample(t *testing.T) []wireField {
	t.Helper()
	b, err := exampleModel().Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	return decodeMessage(t, b)
}

func TestMarshalWritesModelHeader(t *testing.T) {
	model := marshalExample(t)

	if got := varintsOf(model, modelIRVersion); !slices.Equal(got, []int64{IRVersion}) {
		t.Errorf("ir_version = %v, want [%d]", got, IRVersion)
	}
	if got := stringOf(t, model, modelProducerName); got != "onnx-test" {
		t.Errorf("producer_name = %q", got)
	}
	if got := stringOf(t, model, modelProducerVersion); got != "1.0" {
		t.Errorf("producer_version = %q", got)
	}
	if got := stringOf(t, model, modelDomain); got != "io.streamscore" {
		t.Errorf("domain = %q", got)
	}
	if got := varintsOf(model, modelModelVersion); !slices.Equal(got, []int64{3}) {
		t.Errorf("model_version = %v, want [3]", got)
	}
	if got := stringOf(t, model, modelDocString); got != "example covering every writer feature" {
		t.Errorf("doc_string = %q", got)
	}

	var opsets []Opset
	for _, f := range only(model, modelOpsetImport) {
		fields := decodeMessage(t, f.bytes)
		opsets = append(opsets, Opset{stringOf(t, fields, opsetDomain), varintsOf(fields, opsetVersion)[0]})
	}
	want := []Opset{{DomainDefault, OpsetVersion}, {DomainML, OpsetMLVersion}}
	if !slices.Equal(opsets, want) {
		t.Errorf("opset_import = %v, want %v", opsets, want)
	}
}

func TestMarshalWritesMetadataSortedByKey(t *testing.T) {
	model := marshalExample(t)

	var keys, values []string
	for _, f := range only(model, modelMetadataProps) {
		entry := decodeMessage(t, f.bytes)
		keys = append(keys, stringOf(t, entry, entryKey))
		values = append(values, stringOf(t, entry, entryValue))
	}
	if want := []string{"alpha", "mid", "zeta"}; !slices.Equal(keys, want) {
		t.Errorf("metadata keys = %v, want %v", keys, want)
	}
	if want := []string{"first", "middle", "last"}; !slices.Equal(values, want) {
		t.Errorf("metadata values = %v, want %v", values, want)
	}
}

func TestMarshalWritesGraph(t *testing.T) {
	graph := decodeMessage(t, one(t, marshalExample(t), modelGraph).bytes)

	if got := stringOf(t, graph, graphName); got != "example" {
		t.Errorf("graph name = %q", got)
	}
	var ops []string
	for _, f := range only(graph, graphNode) {
		ops = append(ops, stringOf(t, decodeMessage(t, f.bytes), nodeOpType))
	}
	if want := []string{"MatMul", "LeakyRelu", "TreeEnsembleRegressor", "Reshape", "Cast"}; !slices.Equal(ops, want) {
		t.Errorf("node op types = %v, want %v", ops, want)
	}

	tree := decodeMessage(t, only(graph, graphNode)[2].bytes)
	if got := stringOf(t, tree, nodeDomain); got != DomainML {
		t.Errorf("tree node domain = %q, want %q", got, DomainML)
	}
	if got := stringOf(t, tree, nodeName); got != "tree" {
		t.Errorf("tree node name = %q", got)
	}
	if in, out := stringsOf(tree, nodeInput), stringsOf(tree, nodeOutput); !slices.Equal(in, []string{"activated"}) || !slices.Equal(out, []string{"score"}) {
		t.Errorf("tree node inputs %v outputs %v, want [activated] [score]", in, out)
	}
	if matmul := decodeMessage(t, only(graph, graphNode)[0].bytes); len(only(matmul, nodeDomain)) != 0 {
		t.Error("default-domain node carries a domain field")
	}
}

func TestMarshalWritesValueInfoShapes(t *testing.T) {
	graph := decodeMessage(t, one(t, marshalExample(t), modelGraph).bytes)

	tests := []struct {
		field    wireField
		name     string
		elemType DataType
		dims     []Dim
	}{
		{one(t, graph, graphInput), "features", TypeFloat, []Dim{DimParam("N"), DimValue(2)}},
		{only(graph, graphOutput)[0], "score", TypeFloat, []Dim{DimParam("N"), DimValue(1)}},
		{only(graph, graphOutput)[1], "rounded", TypeInt64, []Dim{DimParam("N")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := decodeMessage(t, tt.field.bytes)
			if got := stringOf(t, info, valueInfoName); got != tt.name {
				t.Errorf("name = %q, want %q", got, tt.name)
			}
			typeProto := decodeMessage(t, one(t, info, valueInfoType).bytes)
			tensorType := decodeMessage(t, one(t, typeProto, typeTensorType).bytes)
			if got := DataType(varintsOf(tensorType, tensorTypeElem)[0]); got != tt.elemType {
				t.Errorf("elem_type = %v, want %v", got, tt.elemType)
			}
			var dims []Dim
			for _, f := range only(decodeMessage(t, one(t, tensorType, tensorTypeShape).bytes), shapeDim) {
				dim := decodeMessage(t, f.bytes)
				if param := stringsOf(dim, dimParam); len(param) == 1 {
					dims = append(dims, DimParam(param[0]))
				} else {
					dims = append(dims, DimValue(varintsOf(dim, dimValue)[0]))
				}
			}
			if !slices.Equal(dims, tt.dims) {
				t.Errorf("dims = %v, want %v", dims, tt.dims)
			}
		})
	}
}

func TestMarshalWritesEveryAttributeKind(t *testing.T) {
	model := &Model{
		IRVersion: IRVersion,
		Opsets:    []Opset{{DomainDefault, OpsetVersion}},
		Graph: Graph{
			Name:   "attributes",
			Inputs: []ValueInfo{TensorInfo("x", TypeFloat)},
			Nodes: []Node{{OpType: "Custom", Inputs: []string{"x"}, Outputs: []string{"y"}, Attributes: []Attribute{
				Float("f", 0), Int("i", -7), String("s", ""),
				Floats("fs", 1.5, float32(math.Inf(1))), Ints("is", -1, 1<<40), Strings("ss", "a", ""),
			}}},
			Outputs: []ValueInfo{TensorInfo("y", TypeFloat)},
		},
	}
	b, err := model.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	graph := decodeMessage(t, one(t, decodeMessage(t, b), modelGraph).bytes)
	attrs := map[string][]wireField{}
	for _, f := range only(decodeMessage(t, one(t, graph, graphNode).bytes), nodeAttribute) {
		fields := decodeMessage(t, f.bytes)
		attrs[stringOf(t, fields, attrName)] = fields
	}

	tests := []struct {
		name string
		kind AttributeType
		got  func([]wireField) any
		want any
	}{
		// Zero scalar values are still written: presence tells readers the type.
		{"f", AttrFloat, func(f []wireField) any { return floatsOf(f, attrF) }, []float32{0}},
		{"i", AttrInt, func(f []wireField) any { return varintsOf(f, attrI) }, []int64{-7}},
		{"s", AttrString, func(f []wireField) any { return stringsOf(f, attrS) }, []string{""}},
		{"fs", AttrFloats, func(f []wireField) any { return floatsOf(f, attrFloats) }, []float32{1.5, float32(math.Inf(1))}},
		{"is", AttrInts, func(f []wireField) any { return varintsOf(f, attrInts) }, []int64{-1, 1 << 40}},
		{"ss", AttrStrings, func(f []wireField) any { return stringsOf(f, attrStrings) }, []string{"a", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields, ok := attrs[tt.name]
			if !ok {
				t.Fatalf("attribute %q not written", tt.name)
			}
			if got := AttributeType(varintsOf(fields, attrType)[0]); got != tt.kind {
				t.Errorf("type = %d, want %d", got, tt.kind)
			}
			if got := tt.got(fields); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("value = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMarshalWritesInitializers(t *testing.T) {
	graph := decodeMessage(t, one(t, marshalExample(t), modelGraph).bytes)
	inits := only(graph, graphInitializer)
	if len(inits) != 3 {
		t.Fatalf("got %d initializers, want 3", len(inits))
	}

	weights := decodeMessage(t, inits[0].bytes)
	if got := stringOf(t, weights, tensorName); got != "weights" {
		t.Errorf("name = %q", got)
	}
	if got := varintsOf(weights, tensorDims); !slices.Equal(got, []int64{2, 2}) {
		t.Errorf("weights dims = %v", got)
	}
	if got := DataType(varintsOf(weights, tensorDataType)[0]); got != TypeFloat {
		t.Errorf("weights data_type = %v", got)
	}
	if got := packedFloats(t, one(t, weights, tensorFloatData).bytes); !slices.Equal(got, []float32{1, 0.5, -0.25, 2}) {
		t.Errorf("weights float_data = %v", got)
	}

	shape := decodeMessage(t, inits[1].bytes)
	if got := packedVarints(t, one(t, shape, tensorInt64Data).bytes); !slices.Equal(got, []int64{-1}) {
		t.Errorf("flat_shape int64_data = %v", got)
	}

	names := decodeMessage(t, inits[2].bytes)
	if got := DataType(varintsOf(names, tensorDataType)[0]); got != TypeString {
		t.Errorf("class_names data_type = %v", got)
	}
	if got := stringsOf(names, tensorStringData); !slices.Equal(got, []string{"low", "high"}) {
		t.Errorf("class_names string_data = %v", got)
	}
}

func TestMarshalIsDeterministic(t *testing.T) {
	first, err := exampleModel().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for range 20 { // map iteration order varies between calls
		again, err := exampleModel().Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again) {
			t.Fatal("two encodings of the same model differ")
		}
	}
}

// TestMarshalMatchesGolden pins the exact encoding. After an intended change,
// refresh it with: go test ./internal/onnx -run Golden -update
func TestMarshalMatchesGolden(t *testing.T) {
	got, err := exampleModel().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "example.onnx")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("encoding differs from %s (%d bytes, want %d); rerun with -update if the change is intended", path, len(got), len(want))
	}
}
