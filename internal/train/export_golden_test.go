package train

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/gbdt_*.onnx from the ensembles of TestNumericExportIsUnchanged")

// goldenEnsembles are ensembles without categorical splits, built by hand
// so that their encoding depends on the exporter alone: each objective,
// thresholds of +Inf and on adjacent float32 values, a one-leaf tree.
func goldenEnsembles() map[string]*Ensemble {
	inf := float32(math.Inf(1))
	regressor := &Ensemble{
		Objective:   SquaredError,
		NumFeatures: 3,
		BaseScores:  []float32{1.25},
		Trees: []Tree{
			{Nodes: []Node{
				{Feature: 2, Threshold: inf, Left: 1, Right: 2},
				{Feature: 0, Threshold: math.Nextafter32(0.5, 1), Left: 3, Right: 4},
				{Leaf: true, Value: -0.75},
				{Leaf: true, Value: 0.125},
				{Leaf: true, Value: 3e-8},
			}},
			{Nodes: []Node{{Leaf: true, Value: 0.5}}},
		},
	}
	return map[string]*Ensemble{
		"binary":     stump(0.5),
		"multiclass": threeClassStump([]float32{-0.5, 0.25, 0.125}),
		"regression": regressor,
	}
}

// TestNumericExportIsUnchanged pins the encoding of ensembles without
// categorical splits to the bytes the exporter wrote before categorical
// splits existed (testdata/gbdt_*.onnx, written by that exporter with
// -update): models already exported, and the tests of their parity, see
// no change.
func TestNumericExportIsUnchanged(t *testing.T) {
	for name, ens := range goldenEnsembles() {
		t.Run(name, func(t *testing.T) {
			model, err := ens.ONNX(map[string]string{"model_name": "golden"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := model.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "gbdt_"+name+".onnx")
			if *updateGolden {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("the export of %s differs from %s (%d bytes, want %d)", name, path, len(got), len(want))
			}
		})
	}
}
