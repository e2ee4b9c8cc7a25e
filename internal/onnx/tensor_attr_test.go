package onnx

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// tensorAttrModel is a node carrying one tensor attribute of each element
// type that ai.onnx.ml's TreeEnsemble reads, float (leaf_weights,
// nodes_splits, membership_values with its NaN separators) and uint8
// (nodes_modes), and of the other types the writer has.
func tensorAttrModel() *Model {
	return &Model{
		IRVersion: IRVersion,
		Opsets:    []Opset{{DomainDefault, OpsetVersion}},
		Graph: Graph{
			Name:   "tensor_attributes",
			Inputs: []ValueInfo{TensorInfo("x", TypeFloat)},
			Nodes: []Node{{OpType: "Custom", Inputs: []string{"x"}, Outputs: []string{"y"}, Attributes: []Attribute{
				TensorAttr("weights", FloatTensor("", []int64{4}, []float32{1.5, -2, float32(math.NaN()), 0})),
				TensorAttr("modes", Uint8Tensor("", []int64{3}, []uint8{0, 6, 255})),
				TensorAttr("named", Int64Tensor("table", []int64{2, 1}, []int64{-1, 1 << 40})),
				TensorAttr("mask", BoolTensor("", []int64{3}, []bool{true, false, true})),
			}}},
			Outputs: []ValueInfo{TensorInfo("y", TypeFloat)},
		},
	}
}

func TestMarshalWritesTensorAttributes(t *testing.T) {
	b, err := tensorAttrModel().Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	graph := decodeMessage(t, one(t, decodeMessage(t, b), modelGraph).bytes)
	attrs := map[string][]wireField{}
	for _, f := range only(decodeMessage(t, one(t, graph, graphNode).bytes), nodeAttribute) {
		fields := decodeMessage(t, f.bytes)
		attrs[stringOf(t, fields, attrName)] = fields
	}
	tensorOf := func(t *testing.T, name string) []wireField {
		t.Helper()
		fields, ok := attrs[name]
		if !ok {
			t.Fatalf("attribute %q not written", name)
		}
		if got := AttributeType(varintsOf(fields, attrType)[0]); got != AttrTensor {
			t.Fatalf("attribute %q has type %d, want TENSOR (%d)", name, got, AttrTensor)
		}
		return decodeMessage(t, one(t, fields, attrT).bytes)
	}

	t.Run("float", func(t *testing.T) {
		tensor := tensorOf(t, "weights")
		if got := DataType(varintsOf(tensor, tensorDataType)[0]); got != TypeFloat {
			t.Errorf("data_type = %v, want FLOAT", got)
		}
		if got := varintsOf(tensor, tensorDims); !slices.Equal(got, []int64{4}) {
			t.Errorf("dims = %v, want [4]", got)
		}
		got := packedFloats(t, one(t, tensor, tensorFloatData).bytes)
		if len(got) != 4 || got[0] != 1.5 || got[1] != -2 || !math.IsNaN(float64(got[2])) || got[3] != 0 {
			t.Errorf("float_data = %v, want [1.5 -2 NaN 0]", got)
		}
		if len(only(tensor, tensorName)) != 0 {
			t.Error("an unnamed tensor carries a name field")
		}
	})
	t.Run("uint8 in int32_data", func(t *testing.T) {
		tensor := tensorOf(t, "modes")
		if got := DataType(varintsOf(tensor, tensorDataType)[0]); got != TypeUint8 {
			t.Errorf("data_type = %v, want UINT8", got)
		}
		if got := packedVarints(t, one(t, tensor, tensorInt32Data).bytes); !slices.Equal(got, []int64{0, 6, 255}) {
			t.Errorf("int32_data = %v, want [0 6 255]", got)
		}
	})
	t.Run("bool in int32_data", func(t *testing.T) {
		tensor := tensorOf(t, "mask")
		if got := DataType(varintsOf(tensor, tensorDataType)[0]); got != TypeBool {
			t.Errorf("data_type = %v, want BOOL", got)
		}
		if got := packedVarints(t, one(t, tensor, tensorInt32Data).bytes); !slices.Equal(got, []int64{1, 0, 1}) {
			t.Errorf("int32_data = %v, want [1 0 1]", got)
		}
	})
	t.Run("named int64", func(t *testing.T) {
		tensor := tensorOf(t, "named")
		if got := stringOf(t, tensor, tensorName); got != "table" {
			t.Errorf("name = %q, want table", got)
		}
		if got := varintsOf(tensor, tensorDims); !slices.Equal(got, []int64{2, 1}) {
			t.Errorf("dims = %v, want [2 1]", got)
		}
	})
}

// readTensorAttrsScript prints every tensor attribute of the first node as
// the python onnx package decodes it: name -> {dtype, dims, values}, NaN
// written as null and booleans as 0 and 1.
const readTensorAttrsScript = `import json, math, sys, onnx
from onnx import numpy_helper
node = onnx.load(sys.argv[1]).graph.node[0]
out = {}
for a in node.attribute:
    if a.type != onnx.AttributeProto.TENSOR:
        continue
    arr = numpy_helper.to_array(a.t)
    vals = [None if isinstance(v, float) and math.isnan(v) else int(v) if isinstance(v, bool) else v
            for v in arr.flatten().tolist()]
    out[a.name] = {"dtype": str(arr.dtype), "dims": list(arr.shape), "values": vals}
print(json.dumps(out))`

// TestTensorAttributesReadByONNX decodes the tensor attributes with the
// reference python onnx package, which is what tells a proto reader which
// field holds uint8 data.
func TestTensorAttributesReadByONNX(t *testing.T) {
	b, err := tensorAttrModel().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("/usr/bin/python3", "-c", readTensorAttrsScript, path).CombinedOutput()
	if err != nil {
		t.Fatalf("python onnx could not read the model (run `make setup` if the package is missing): %v\n%s", err, out)
	}
	type decoded struct {
		DType  string     `json:"dtype"`
		Dims   []int64    `json:"dims"`
		Values []*float64 `json:"values"`
	}
	var got map[string]decoded
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	num := func(v float64) *float64 { return &v }
	want := map[string]decoded{
		"weights": {"float32", []int64{4}, []*float64{num(1.5), num(-2), nil, num(0)}},
		"modes":   {"uint8", []int64{3}, []*float64{num(0), num(6), num(255)}},
		"named":   {"int64", []int64{2, 1}, []*float64{num(-1), num(1 << 40)}},
		"mask":    {"bool", []int64{3}, []*float64{num(1), num(0), num(1)}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("python onnx read %s, want %+v", out, want)
	}
}
