package fit

import (
	"errors"
	"testing"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/onnx"
)

// fixedScores is a fitted model whose Go scores are given: every row
// scores want.
type fixedScores struct{ want []float32 }

func (f fixedScores) onnx(map[string]string) (*onnx.Model, error) {
	return nil, errors.New("not exported")
}

func (f fixedScores) score(_ []float32, _ string, dst []float32) error {
	copy(dst, f.want)
	return nil
}

// TestParityHoldsTailsRelative checks that the divergence check compares
// class probabilities relative to their size, so that a tail disagreement
// far below the absolute tolerance is caught, while float32 rounding,
// values of order one within the tolerance and regression values near
// zero pass.
func TestParityHoldsTailsRelative(t *testing.T) {
	tests := []struct {
		name      string
		task      model.Task
		goScores  []float32
		ortScores []float32 // ONNX Runtime's class scores, or its value
		diverges  bool
	}{
		{"tail ten times too large", model.Classification, []float32{1, 1e-9}, []float32{1, 1e-8}, true},
		{"tail rounded to zero", model.Classification, []float32{1, 4.1e-8}, []float32{1, 0}, true},
		{"tail reordered by a coarse sigmoid", model.Classification, []float32{1 - 4.1e-8, 4.1e-8}, []float32{1 - 8.94e-8, 8.94e-8}, true},
		{"tail within float32 rounding", model.Classification, []float32{1, 1e-30}, []float32{1, 1e-30 * (1 + 6e-8)}, false},
		{"tail within the relative tolerance", model.Classification, []float32{1, 2e-20}, []float32{1, 2e-20 * (1 + 9e-6)}, false},
		{"below the smallest normal", model.Classification, []float32{1, 1e-40}, []float32{1, 0}, false},
		{"order one within 1e-5", model.Classification, []float32{0.4, 0.6}, []float32{0.400004, 0.599996}, false},
		{"order one beyond 1e-5", model.Classification, []float32{0.4, 0.6}, []float32{0.40002, 0.59998}, true},
		{"multiclass tail", model.Classification, []float32{0.5, 0.5, 3e-12}, []float32{0.5, 0.5, 3.1e-12}, true},
		{"regression near zero stays absolute", model.Regression, []float32{1e-9}, []float32{3e-6}, false},
		{"regression beyond 1e-5", model.Regression, []float32{2}, []float32{2.0001}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := model.Spec{
				Name: "m", Task: tt.task,
				Inputs: []model.Input{{Name: "features", Fields: []model.Feature{{Field: "x"}}}},
			}
			row := scoredRow{index: 0}
			if tt.task == model.Regression {
				row.prediction = float64(tt.ortScores[0])
			} else {
				spec.Labels = []string{"a", "b", "c"}[:len(tt.goScores)]
				row.scores = tt.ortScores
			}
			_, err := parity(spec, fixedScores{tt.goScores}, []scoredRow{row}, Records{{"x": 1.0}})
			if got := errors.Is(err, ErrDivergence); got != tt.diverges {
				t.Errorf("parity error %v; want divergence %v", err, tt.diverges)
			}
		})
	}
}
