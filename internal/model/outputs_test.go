package model_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/train"
)

func TestTreeRegressor(t *testing.T) {
	const nf = 4
	names := featureNames(nf)
	ens := fit(t, train.SquaredError, 20, 4, 3000, nf)
	m := load(t, ensembleModel(t, ens, treeSpec(model.Regression, names)), model.Options{})
	b := newBatch(t, m)
	rows, _ := synthetic(3, 50, nf, train.SquaredError)
	for i := range 50 {
		addAll(t, b, record(names, rows[i*nf:(i+1)*nf]))
	}
	want := make([]float32, 50)
	if err := ens.PredictBatch(rows, want); err != nil {
		t.Fatal(err)
	}
	distinct := map[float64]bool{}
	for i, r := range run(t, m, b) {
		// Both sum the same float32 leaves, perhaps in another order.
		if !r.HasValue || math.Abs(r.Value-float64(want[i])) > 1e-5*math.Max(1, math.Abs(float64(want[i]))) {
			t.Errorf("row %d: value %v (has %v); the ensemble says %v", i, r.Value, r.HasValue, want[i])
		}
		if r.Label != "" || r.Scores != nil {
			t.Errorf("row %d: a regressor gave label %q and scores %v", i, r.Label, r.Scores)
		}
		distinct[r.Value] = true
	}
	if len(distinct) < 10 {
		t.Errorf("only %d distinct values in 50 rows: the model learned little, so the test proves little", len(distinct))
	}
}

func TestValueOutputShapes(t *testing.T) {
	for _, rank := range []int{1, 2} {
		t.Run(fmt.Sprintf("rank %d", rank), func(t *testing.T) {
			spec := model.Spec{
				Name: "sum", Task: model.Regression,
				Inputs:  []model.Input{{Name: "features", Fields: columns("a", "b", "c")}},
				Outputs: model.Outputs{Value: "value"},
			}
			m := load(t, encode(t, sumGraph(3, rank), &spec), model.Options{})
			b := newBatch(t, m)
			for _, n := range []int{3, 1, 3} { // reuse, at a seen row count too
				b.Reset()
				for i := range n {
					addAll(t, b, map[string]any{"a": float64(n), "b": float64(i), "c": 0.5})
				}
				for i, r := range run(t, m, b) {
					if want := float64(n) + float64(i) + 0.5; !r.HasValue || r.Value != want {
						t.Errorf("%d rows, row %d: value %v (has %v); want %v", n, i, r.Value, r.HasValue, want)
					}
				}
			}
		})
	}
}

func TestLabelOnlyClassifiers(t *testing.T) {
	rows := []map[string]any{
		{"a": 3.0, "b": 1.0, "c": 2.0},
		{"a": 0.0, "b": 1.0, "c": -1.0},
		{"a": 0.0, "b": 1.0, "c": 5.0},
	}
	tests := []struct {
		name   string
		labels []string // Spec.Labels
		names  []string // string labels the graph outputs itself
		want   []string
	}{
		{"int64 classes named by the spec", []string{"red", "green", "blue"}, nil, []string{"red", "green", "blue"}},
		{"int64 classes beyond the spec's labels", []string{"red"}, nil, []string{"red", "1", "2"}},
		{"int64 classes without labels", nil, nil, []string{"0", "1", "2"}},
		{"string labels", nil, []string{"cat", "dog", "fish"}, []string{"cat", "dog", "fish"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := model.Spec{
				Name: "argmax", Task: model.Classification, Labels: tt.labels,
				Inputs:  []model.Input{{Name: "features", Fields: columns("a", "b", "c")}},
				Outputs: model.Outputs{Label: "label"},
			}
			m := load(t, encode(t, argMaxGraph(3, tt.names...), &spec), model.Options{})
			b := newBatch(t, m)
			for _, n := range []int{3, 2, 3} {
				b.Reset()
				addAll(t, b, rows[:n]...)
				for i, r := range run(t, m, b) {
					if r.Label != tt.want[i] || r.HasValue || r.Scores != nil {
						t.Errorf("%d rows, row %d: %+v; want label %q alone", n, i, r, tt.want[i])
					}
				}
			}
		})
	}
}

// The tree classifier's own int64 label output, read without its scores.
func TestTreeClassifierLabelOutput(t *testing.T) {
	const nf = 4
	names := featureNames(nf)
	ens := fit(t, train.BinaryLogLoss, 20, 4, 3000, nf)
	spec := treeSpec(model.Classification, names)
	spec.Outputs = model.Outputs{Label: train.OutputLabel}
	m := load(t, ensembleModel(t, ens, spec), model.Options{})
	b := newBatch(t, m)
	rows, _ := synthetic(4, 64, nf, train.BinaryLogLoss)
	for i := range 64 {
		addAll(t, b, record(names, rows[i*nf:(i+1)*nf]))
	}
	for i, r := range run(t, m, b) {
		class, err := ens.Predict(rows[i*nf : (i+1)*nf])
		if err != nil {
			t.Fatal(err)
		}
		if want := spec.Labels[int(class)]; r.Label != want {
			t.Errorf("row %d: label %q; the ensemble says %q", i, r.Label, want)
		}
	}
}

// With more than two classes there is no single positive-class value.
func TestMulticlassScoresHaveNoValue(t *testing.T) {
	spec := identitySpec("a", "b", "c")
	m := load(t, encode(t, identityGraph(3), &spec), model.Options{})
	b := newBatch(t, m)
	addAll(t, b, map[string]any{"a": 0.2, "b": 0.7, "c": 0.1})
	r := run(t, m, b)[0]
	if r.Label != "c1" || r.HasValue {
		t.Errorf("result %+v; want label c1 and no value", r)
	}
}
