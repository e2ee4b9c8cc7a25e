package trainer

import (
	"errors"
	"fmt"
	"math"

	"github.com/streamscore/streamscore/internal/model"
)

// ErrDivergence means ONNX Runtime's scores of the exported model differ
// from the Go model's own by more than ParityTolerance: the export is
// wrong, and the model is not published.
var ErrDivergence = errors.New("exported model disagrees with the trained one")

// ParityTolerance is the largest difference allowed between a trained
// model's scores in Go and in ONNX Runtime, on every holdout row.
const ParityTolerance = 1e-5

// parity scores the holdout rows ONNX Runtime scored with the Go model
// and returns the largest difference; over ParityTolerance is an error.
func parity(spec model.Spec, fitted fittedModel, scored []scoredRow, holdout Rows) (float64, error) {
	var err error
	input := spec.Inputs[0]
	width := max(len(spec.Labels), 1)
	goScores := make([]float32, width)
	var features []float32
	worst := 0.0
	scratch := map[string]any{}
	for _, s := range scored {
		rec := holdout.Record(s.index, scratch)
		var text string
		if input.Type == model.StringInput {
			if text, err = input.Text(rec, spec.MaxText()); err != nil {
				return 0, err
			}
		} else if features, err = input.AppendNumbers(features[:0], rec, spec.AllowNonFinite); err != nil {
			return 0, err
		}
		if err := fitted.score(features, text, goScores); err != nil {
			return 0, err
		}
		ort := s.scores
		if spec.Task == model.Regression {
			ort = []float32{float32(s.prediction)}
		}
		for i, v := range ort {
			worst = math.Max(worst, math.Abs(float64(v)-float64(goScores[i])))
		}
	}
	if worst > ParityTolerance {
		return worst, fmt.Errorf("%w: scores differ by up to %g (limit %g)", ErrDivergence, worst, ParityTolerance)
	}
	return worst, nil
}
