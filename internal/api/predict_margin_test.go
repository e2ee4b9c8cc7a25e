package api

import (
	"reflect"
	"testing"

	"github.com/streamscore/streamscore/internal/model"
)

// TestPredictionMargin checks that a result's margin reaches the REST
// answer by class name: a binary classifier's logit under its positive
// (last) class, a multiclass one's scores under each class, and no margin
// when the model reads none.
func TestPredictionMargin(t *testing.T) {
	tests := []struct {
		name   string
		labels []string
		margin []float32
		want   map[string]float32
	}{
		{"binary logit", []string{"legit", "fraud"}, []float32{-17.25}, map[string]float32{"fraud": -17.25}},
		{"multiclass scores", []string{"a", "b", "c"}, []float32{2, -1, 0.5}, map[string]float32{"a": 2, "b": -1, "c": 0.5}},
		{"no margin", []string{"legit", "fraud"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := model.Spec{Name: "m", Task: model.Classification, Labels: tt.labels}
			res := model.Result{Label: tt.labels[0], Scores: make([]float32, len(tt.labels)), Margin: tt.margin}
			if got := prediction(spec, res).Margin; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("margin %v, want %v", got, tt.want)
			}
		})
	}
}
