package train

import (
	"errors"
	"math"
	"testing"
)

// stump returns a one-split classifier: raw score base-1 when
// x[0] <= threshold, base+1 otherwise.
func stump(threshold float32) *Ensemble {
	return &Ensemble{
		Objective:   BinaryLogLoss,
		NumFeatures: 1,
		BaseScores:  []float32{0.25},
		Trees: []Tree{{Nodes: []Node{
			{Feature: 0, Threshold: threshold, Left: 1, Right: 2},
			{Leaf: true, Value: -1},
			{Leaf: true, Value: 1},
		}}},
	}
}

func TestPredictRoutesByLessOrEqual(t *testing.T) {
	inf := float32(math.Inf(1))
	tests := []struct {
		name      string
		threshold float32
		x         float32
		wantLabel float32
	}{
		{"below threshold goes left", 0.5, 0.25, 0},
		{"equal to threshold goes left", 0.5, 0.5, 0},
		{"next float above goes right", 0.5, math.Nextafter32(0.5, 1), 1},
		{"NaN goes right", 0.5, float32(math.NaN()), 1},
		{"+Inf threshold takes +Inf left", inf, inf, 0},
		{"+Inf threshold sends NaN right", inf, float32(math.NaN()), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := stump(tt.threshold).Predict([]float32{tt.x})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.wantLabel {
				t.Errorf("Predict(%v) = %v, want %v", tt.x, got, tt.wantLabel)
			}
		})
	}
}

func TestPredictProbaIsSigmoidOfRawScore(t *testing.T) {
	proba := make([]float32, 2)
	if err := stump(0).PredictProba([]float32{1}, proba); err != nil {
		t.Fatal(err)
	}
	want := float32(1 / (1 + math.Exp(-1.25)))
	if proba[1] != want || proba[0] != 1-want {
		t.Errorf("PredictProba = %v, want [%v %v]", proba, 1-want, want)
	}
}

func TestPredictBatchMatchesSingleRows(t *testing.T) {
	for _, obj := range []Objective{BinaryLogLoss, SquaredError} {
		t.Run(obj.String(), func(t *testing.T) {
			data := syntheticData(t, obj, 500, 6)
			ens := fitForTest(t, configFor(obj, 10), data)
			batch := make([]float32, data.NumRows())
			if err := ens.PredictBatch(data.features, batch); err != nil {
				t.Fatal(err)
			}
			for i := range data.NumRows() {
				if got, _ := ens.Predict(data.Row(i)); got != batch[i] {
					t.Fatalf("row %d: Predict = %v, PredictBatch = %v", i, got, batch[i])
				}
			}
		})
	}
}

func TestPredictRejectsBadShapes(t *testing.T) {
	classifier := stump(0)
	regressor := stump(0)
	regressor.Objective = SquaredError

	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"row too long", func() error { _, err := classifier.Predict([]float32{1, 2}); return err }, ErrInvalidData},
		{"batch with a partial row", func() error {
			return classifier.PredictBatch([]float32{1, 2, 3}, make([]float32, 2))
		}, ErrInvalidData},
		{"probabilities of a partial row", func() error {
			return classifier.PredictProbaBatch([]float32{1}, make([]float32, 3))
		}, ErrInvalidData},
		{"probabilities of a regressor", func() error {
			return regressor.PredictProba([]float32{1}, make([]float32, 2))
		}, ErrNotClassifier},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
		})
	}
}
