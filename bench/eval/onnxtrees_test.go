package main

import (
	"errors"
	"testing"

	"github.com/streamscore/streamscore/internal/onnx"
)

// ensembleModel is a model with one TreeEnsembleRegressor per entry of
// trees, each node numbering its trees from 0 with the given ids.
func ensembleModel(t *testing.T, trees ...[]int64) []byte {
	t.Helper()
	var nodes []onnx.Node
	for i, ids := range trees {
		nodes = append(nodes, onnx.Node{
			OpType: "TreeEnsembleRegressor", Domain: onnx.DomainML, Name: "trees" + string(rune('a'+i)),
			Inputs: []string{"x"}, Outputs: []string{"y" + string(rune('a'+i))},
			Attributes: []onnx.Attribute{onnx.Int("n_targets", 1), onnx.Ints("nodes_treeids", ids...)},
		})
	}
	nodes = append(nodes, onnx.Node{OpType: "Identity", Name: "other", Inputs: []string{"x"}, Outputs: []string{"z"}})
	m := &onnx.Model{
		IRVersion: onnx.IRVersion,
		Opsets:    []onnx.Opset{{Domain: onnx.DomainDefault, Version: onnx.OpsetVersion}, {Domain: onnx.DomainML, Version: onnx.OpsetMLVersion}},
		Graph: onnx.Graph{
			Name: "g", Nodes: nodes,
			Inputs:  []onnx.ValueInfo{onnx.TensorInfo("x", onnx.TypeFloat, onnx.DimParam("N"), onnx.DimValue(1))},
			Outputs: []onnx.ValueInfo{onnx.TensorInfo("z", onnx.TypeFloat, onnx.DimParam("N"), onnx.DimValue(1))},
		},
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBoostingIterations(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trees   [][]int64
		classes int
		want    int
	}{
		{"binary", [][]int64{{0, 0, 0, 1, 1, 1, 2}}, 2, 3},
		{"regression", [][]int64{{0, 1, 2, 3}}, 0, 4},
		{"three classes", [][]int64{{0, 0, 1, 2, 3, 4, 5}}, 3, 2},
		{"one node per class", [][]int64{{0, 1}, {0, 1}, {0, 0, 1}}, 3, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := boostingIterations(ensembleModel(t, tc.trees...), tc.classes)
			if err != nil || got != tc.want {
				t.Fatalf("boostingIterations = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
	if _, err := boostingIterations(ensembleModel(t), 2); !errors.Is(err, errNoTrees) {
		t.Fatalf("a model without trees: %v, want errNoTrees", err)
	}
	if _, err := boostingIterations([]byte{0x3a, 0x05, 0x0a}, 2); err == nil {
		t.Fatal("a truncated model: no error")
	}
}
