package train

import (
	"errors"
	"math"
	"strings"
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
	// Each class is its own logistic function, not one minus the other.
	want := []float32{float32(1 / (1 + math.Exp(1.25))), float32(1 / (1 + math.Exp(-1.25)))}
	if proba[0] != want[0] || proba[1] != want[1] {
		t.Errorf("PredictProba = %v, want %v", proba, want)
	}
}

// threeClassStump returns a one-split classifier of three classes over one
// feature: scores base+(2, 0, 0) when x[0] <= 0, base+(0, 2, 2) otherwise.
func threeClassStump(base []float32) *Ensemble {
	split := func(left, right float32) Tree {
		return Tree{Nodes: []Node{
			{Feature: 0, Threshold: 0, Left: 1, Right: 2},
			{Leaf: true, Value: left},
			{Leaf: true, Value: right},
		}}
	}
	return &Ensemble{
		Objective:   MulticlassLogLoss,
		NumFeatures: 1,
		BaseScores:  base,
		Trees:       []Tree{split(2, 0), split(0, 2), split(0, 2)},
	}
}

func TestMulticlassPredictIsArgmaxOfSoftmax(t *testing.T) {
	e2 := math.Exp(2)
	tests := []struct {
		name      string
		base      []float32
		x         float32
		wantLabel float32
		wantProba []float64
	}{
		{"left favours class 0", []float32{0, 0, 0}, -1, 0, []float64{e2 / (e2 + 2), 1 / (e2 + 2), 1 / (e2 + 2)}},
		{"right ties classes 1 and 2: the first wins", []float32{0, 0, 0}, 1, 1, []float64{1 / (1 + 2*e2), e2 / (1 + 2*e2), e2 / (1 + 2*e2)}},
		{"base score breaks the tie", []float32{0, 0, 1}, 1, 2, []float64{1 / (1 + e2 + e2*math.E), e2 / (1 + e2 + e2*math.E), e2 * math.E / (1 + e2 + e2*math.E)}},
		{"NaN goes right", []float32{0, 0, 0}, float32(math.NaN()), 1, []float64{1 / (1 + 2*e2), e2 / (1 + 2*e2), e2 / (1 + 2*e2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := threeClassStump(tt.base)
			got, err := e.Predict([]float32{tt.x})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.wantLabel {
				t.Errorf("Predict(%v) = %v, want %v", tt.x, got, tt.wantLabel)
			}
			proba := make([]float32, 3)
			if err := e.PredictProba([]float32{tt.x}, proba); err != nil {
				t.Fatal(err)
			}
			for k, want := range tt.wantProba {
				if math.Abs(float64(proba[k])-want) > 1e-7 {
					t.Errorf("PredictProba(%v) = %v, want %v", tt.x, proba, tt.wantProba)
					break
				}
			}
		})
	}
}

func TestPredictBatchMatchesSingleRows(t *testing.T) {
	for _, obj := range []Objective{BinaryLogLoss, SquaredError, MulticlassLogLoss} {
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
		{"two probabilities of three classes", func() error {
			return threeClassStump([]float32{0, 0, 0}).PredictProba([]float32{1}, make([]float32, 2))
		}, ErrInvalidData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestEnsembleValidate(t *testing.T) {
	tests := []struct {
		name        string
		mutate      func(e *Ensemble)
		errContains string // empty: valid
	}{
		{"stump", func(*Ensemble) {}, ""},
		{"no trees", func(e *Ensemble) { e.Trees = nil }, ""},
		{"unknown objective", func(e *Ensemble) { e.Objective = 9 }, "unknown objective Objective(9)"},
		{"no features", func(e *Ensemble) { e.NumFeatures = 0 }, "NumFeatures 0"},
		{"missing base score", func(e *Ensemble) { e.BaseScores = nil }, "0 base scores, binary_log_loss needs 1"},
		{"multiclass of two classes", func(e *Ensemble) { e.Objective, e.BaseScores = MulticlassLogLoss, []float32{0, 0} }, "needs between 3 and 1000 classes, not 2"},
		{"multiclass of three classes", func(e *Ensemble) { e.Objective, e.BaseScores = MulticlassLogLoss, []float32{0, 0, 0} }, ""},
		{"empty tree", func(e *Ensemble) { e.Trees[0].Nodes = nil }, "tree 0: no nodes"},
		{"feature out of range", func(e *Ensemble) { e.Trees[0].Nodes[0].Feature = 1 }, "node 0 reads feature 1 of 1"},
		{"NaN threshold", func(e *Ensemble) { e.Trees[0].Nodes[0].Threshold = float32(math.NaN()) }, "threshold NaN"},
		{"NaN leaf", func(e *Ensemble) { e.Trees[0].Nodes[2].Value = float32(math.NaN()) }, "leaf 2 has value NaN"},
		{"child out of range", func(e *Ensemble) { e.Trees[0].Nodes[0].Right = 3 }, "node 0 has children 1 and 3"},
		{"cycle back to the root", func(e *Ensemble) { e.Trees[0].Nodes[0].Left = 0 }, "node 0 has children 0 and 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := stump(0)
			tt.mutate(e)
			err := e.Validate()
			if tt.errContains == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidEnsemble) || !strings.Contains(err.Error(), tt.errContains) {
				t.Errorf("Validate = %v, want ErrInvalidEnsemble containing %q", err, tt.errContains)
			}
			if _, err := e.ONNX(nil); !errors.Is(err, ErrInvalidEnsemble) {
				t.Errorf("ONNX = %v, want ErrInvalidEnsemble", err)
			}
		})
	}
}
