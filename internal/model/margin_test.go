package model_test

import (
	"math"
	"testing"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/train"
)

// stumpEnsemble returns a model of one feature whose first class score is
// low when x <= 0 and high otherwise, and whose other class scores (for a
// multiclass one) are 0: its margins are (low, 0, ...) or (high, 0, ...).
func stumpEnsemble(obj train.Objective, numOutputs int, low, high float32) *train.Ensemble {
	e := &train.Ensemble{Objective: obj, NumFeatures: 1, BaseScores: make([]float32, numOutputs)}
	e.Trees = append(e.Trees, train.Tree{Nodes: []train.Node{
		{Feature: 0, Threshold: 0, Left: 1, Right: 2},
		{Leaf: true, Value: low},
		{Leaf: true, Value: high},
	}})
	for range numOutputs - 1 {
		e.Trees = append(e.Trees, train.Tree{Nodes: []train.Node{{Leaf: true}}})
	}
	return e
}

// TestMarginOutput loads exported classifiers whose Spec declares their
// margin output and checks that each result carries its row's raw scores,
// beside probabilities that keep the tail class's digits; and that
// without the declaration a result has no margin.
func TestMarginOutput(t *testing.T) {
	const low, high = -20, 30
	tests := []struct {
		name   string
		obj    train.Objective
		labels []string
		want   [][]float32 // margins of x = -1 and x = 1
	}{
		{"binary", train.BinaryLogLoss, []string{"normal", "anomaly"}, [][]float32{{low}, {high}}},
		{"multiclass", train.MulticlassLogLoss, []string{"a", "b", "c"}, [][]float32{{low, 0, 0}, {high, 0, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ens := stumpEnsemble(tt.obj, len(tt.want[0]), low, high)
			spec := treeSpec(model.Classification, []string{"x"})
			spec.Labels = tt.labels
			for _, margin := range []string{train.OutputMargin, ""} {
				spec.Outputs.Margin = margin
				m := load(t, ensembleModel(t, ens, spec), model.Options{})
				b := newBatch(t, m)
				addAll(t, b, map[string]any{"x": -1.0}, map[string]any{"x": 1.0})
				for i, r := range run(t, m, b) {
					if margin == "" {
						if r.Margin != nil {
							t.Errorf("row %d: margin %v from a spec that declares none", i, r.Margin)
						}
						continue
					}
					if len(r.Margin) != len(tt.want[i]) {
						t.Fatalf("row %d: margin %v, want %v", i, r.Margin, tt.want[i])
					}
					for c, v := range tt.want[i] {
						if r.Margin[c] != v {
							t.Errorf("row %d: margin %v, want %v", i, r.Margin, tt.want[i])
						}
					}
					checkTailScore(t, i, r, tt.want[i])
				}
			}
		})
	}
}

// checkTailScore checks the least likely class's score against the
// float64 probability its margins give, relative to its size.
func checkTailScore(t *testing.T, row int, r model.Result, margins []float32) {
	t.Helper()
	if len(margins) == 1 {
		margins = []float32{0, margins[0]} // the logit is class 1's margin over class 0's
	}
	var sum float64
	least := 0
	for c, s := range margins {
		sum += math.Exp(float64(s))
		if s < margins[least] {
			least = c
		}
	}
	want := math.Exp(float64(margins[least])) / sum
	if got := float64(r.Scores[least]); math.Abs(got-want) > 1e-6*want {
		t.Errorf("row %d: class %d score %v, want %v", row, least, got, want)
	}
}

// TestMarginRefused checks that a margin output the graph lacks, or of a
// type or shape that is not a margin, is refused at load, and a spec that
// puts a margin where there are no scores is invalid.
func TestMarginRefused(t *testing.T) {
	ens := stumpEnsemble(train.MulticlassLogLoss, 3, -1, 1)
	tests := []struct {
		name   string
		margin string
		want   error
	}{
		{"absent from the graph", "raw_scores", model.ErrBadModel},
		{"an int64 tensor", train.OutputLabel, model.ErrBadModel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := treeSpec(model.Classification, []string{"x"})
			spec.Labels = []string{"a", "b", "c"}
			spec.Outputs.Margin = tt.margin
			_, err := model.Load(ensembleModel(t, ens, spec), model.Options{})
			requireErr(t, err, tt.want, tt.margin)
		})
	}
	specs := []struct {
		name   string
		mutate func(*model.Spec)
	}{
		{"on a regressor", func(s *model.Spec) { *s = treeSpec(model.Regression, []string{"x"}); s.Outputs.Margin = "margin" }},
		{"without scores", func(s *model.Spec) { s.Outputs.Scores, s.Outputs.Label, s.Outputs.Margin = "", "label", "margin" }},
	}
	for _, tt := range specs {
		t.Run(tt.name, func(t *testing.T) {
			spec := treeSpec(model.Classification, []string{"x"})
			tt.mutate(&spec)
			requireErr(t, spec.Validate(), model.ErrBadSpec, "margin")
		})
	}
}
