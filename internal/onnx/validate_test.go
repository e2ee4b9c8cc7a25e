package onnx

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name        string
		mutate      func(m *Model)
		errContains string // empty: the model is valid
	}{
		{"example is valid", func(*Model) {}, ""},
		{"ai.onnx alias imports the default domain", func(m *Model) {
			m.Opsets[0].Domain = "ai.onnx"
		}, ""},
		{"omitted optional input is allowed", func(m *Model) {
			m.Graph.Nodes[0].Inputs = append(m.Graph.Nodes[0].Inputs, "")
		}, ""},
		{"zero IR version", func(m *Model) { m.IRVersion = 0 }, "IR version 0"},
		{"opset without version", func(m *Model) { m.Opsets[1].Version = 0 }, `opset "ai.onnx.ml": version 0`},
		{"opset imported twice", func(m *Model) {
			m.Opsets = append(m.Opsets, Opset{"ai.onnx", 13})
		}, `opset "ai.onnx" imported twice`},
		{"missing opset for a used domain", func(m *Model) {
			m.Opsets = m.Opsets[:1]
		}, `no opset imported for domain "ai.onnx.ml"`},
		{"empty metadata key", func(m *Model) { m.Metadata[""] = "x" }, "metadata key is empty"},
		{"empty graph name", func(m *Model) { m.Graph.Name = "" }, "graph name is empty"},
		{"empty input name", func(m *Model) { m.Graph.Inputs[0].Name = "" }, "graph input name is empty"},
		{"input without element type", func(m *Model) {
			m.Graph.Inputs[0].Type = 0
		}, `graph input "features": element type 0`},
		{"negative dimension", func(m *Model) {
			m.Graph.Inputs[0].Shape[1] = DimValue(-1)
		}, `graph input "features": dimension 1`},
		{"empty initializer name", func(m *Model) {
			m.Graph.Initializers[0] = FloatTensor("", []int64{1}, []float32{1})
		}, "initializer name is empty"},
		{"initializer data does not fit shape", func(m *Model) {
			m.Graph.Initializers[0] = FloatTensor("weights", []int64{2, 2}, []float32{1, 2, 3})
		}, `initializer "weights": shape [2 2] holds 4 elements, got 3 values`},
		{"initializer built without constructor", func(m *Model) {
			m.Graph.Initializers[0] = Tensor{name: "weights"}
		}, `initializer "weights" has no element type`},
		{"initializer named like an input", func(m *Model) {
			m.Graph.Initializers[0] = FloatTensor("features", []int64{1}, []float32{1})
		}, `value "features" defined by an initializer is already defined by a graph input`},
		{"empty op type", func(m *Model) { m.Graph.Nodes[1].OpType = "" }, "node 1: op type is empty"},
		{"duplicate node output", func(m *Model) {
			m.Graph.Nodes[1].Outputs = []string{"projected"}
		}, `value "projected" defined by node 1 (LeakyRelu "activate") is already defined by node 0 (MatMul "project")`},
		{"empty node output", func(m *Model) {
			m.Graph.Nodes[4].Outputs = []string{""}
		}, `node 4 (Cast "round"): output name is empty`},
		{"node without outputs", func(m *Model) {
			m.Graph.Nodes[4].Outputs = nil
		}, `node 4 (Cast "round"): has no outputs`},
		{"undefined node input", func(m *Model) {
			m.Graph.Nodes[1].Inputs = []string{"nowhere"}
		}, `input "nowhere" is not a graph input`},
		{"node reads a later node's output", func(m *Model) {
			m.Graph.Nodes[0].Inputs = []string{"activated", "weights"}
		}, `node 0 (MatMul "project"): input "activated"`},
		{"duplicate node name", func(m *Model) {
			m.Graph.Nodes[1].Name = "project"
		}, `node 1 (LeakyRelu "project"): node name is used twice`},
		{"empty attribute name", func(m *Model) {
			m.Graph.Nodes[1].Attributes = []Attribute{Float("", 1)}
		}, "attribute name is empty"},
		{"attribute set twice", func(m *Model) {
			m.Graph.Nodes[1].Attributes = []Attribute{Float("alpha", 1), Float("alpha", 2)}
		}, `attribute "alpha" is set twice`},
		{"attribute built without constructor", func(m *Model) {
			m.Graph.Nodes[1].Attributes = []Attribute{{name: "alpha"}}
		}, `attribute "alpha" has no type`},
		{"tensor attribute data does not fit its shape", func(m *Model) {
			m.Graph.Nodes[1].Attributes = []Attribute{TensorAttr("table", Uint8Tensor("", []int64{3}, []uint8{1, 2}))}
		}, `node 1 (LeakyRelu "activate"): attribute "table": shape [3] holds 3 elements, got 2 values`},
		{"tensor attribute without element type", func(m *Model) {
			m.Graph.Nodes[1].Attributes = []Attribute{TensorAttr("table", Tensor{})}
		}, `attribute "table" has no element type`},
		{"unnamed tensor attribute is valid", func(m *Model) {
			m.Graph.Nodes[1].Attributes = append(m.Graph.Nodes[1].Attributes, TensorAttr("table", FloatTensor("", []int64{1}, []float32{1})))
		}, ""},
		{"no graph outputs", func(m *Model) { m.Graph.Outputs = nil }, "graph has no outputs"},
		{"empty output name", func(m *Model) { m.Graph.Outputs[0].Name = "" }, "graph output name is empty"},
		{"output nothing produces", func(m *Model) {
			m.Graph.Outputs[0].Name = "missing"
		}, `graph output "missing" is not produced`},
		{"output listed twice", func(m *Model) {
			m.Graph.Outputs[1] = m.Graph.Outputs[0]
		}, `graph output "score" is listed twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := exampleModel()
			tt.mutate(m)
			err := m.Validate()
			if tt.errContains == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted the model, want error containing %q", tt.errContains)
			}
			if !errors.Is(err, ErrInvalidModel) {
				t.Errorf("error %v does not wrap ErrInvalidModel", err)
			}
			if !strings.Contains(err.Error(), tt.errContains) {
				t.Errorf("error %q does not contain %q", err, tt.errContains)
			}
		})
	}
}

func TestMarshalRejectsInvalidModel(t *testing.T) {
	m := exampleModel()
	m.Graph.Name = ""
	if b, err := m.Marshal(); !errors.Is(err, ErrInvalidModel) || b != nil {
		t.Fatalf("Marshal = %d bytes, %v; want no bytes and ErrInvalidModel", len(b), err)
	}
}
