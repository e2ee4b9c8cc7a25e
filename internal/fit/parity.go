package fit

import (
	"errors"
	"fmt"
	"math"

	"github.com/streamscore/streamscore/internal/model"
)

// ErrDivergence means ONNX Runtime's scores of the exported model differ
// from the Go model's own by more than scoreAllowance: the export is
// wrong, and the model is not published.
var ErrDivergence = errors.New("exported model disagrees with the trained one")

// ParityTolerance bounds the difference between a trained model's scores
// in Go and in ONNX Runtime, on every holdout row; scoreAllowance says how
// it applies to each kind of score.
const ParityTolerance = 1e-5

// smallestNormal32 is float32's smallest normal number, about 1.2e-38.
const smallestNormal32 = 0x1p-126

// scoreAllowance is how far ONNX Runtime's score may be from Go's, goScore.
//
// A class probability is held relative to itself: ParityTolerance times
// |goScore|, but no less than smallestNormal32, below which float32 keeps
// fewer digits and a runtime may flush to zero. An absolute bound would pass any two probabilities under 1e-5,
// such as 1e-9 against 1e-8, or 0 for every rare event, which is what ONNX
// Runtime's float32 Sigmoid gave in the tails. Both sides compute a
// probability from the margin in float64, so they agree to float32 rounding
// (relative 6e-8); the rest of the allowance is for a margin summed in
// float32 by ONNX Runtime and in float64 by Go, whose difference becomes a
// relative error of about the same size in a tail probability. For
// probabilities of order one this is the absolute 1e-5 it always was.
//
// A regressor's value stays absolute: a value near zero is often the
// difference of larger float32 sums, and its relative error says nothing
// about the export.
func scoreAllowance(task model.Task, goScore float32) float64 {
	if task == model.Regression {
		return ParityTolerance
	}
	return math.Max(ParityTolerance*math.Abs(float64(goScore)), smallestNormal32)
}

// parity scores the holdout rows ONNX Runtime scored with the Go model
// and returns the largest absolute difference; a score further from Go's
// than scoreAllowance is an error.
func parity(spec model.Spec, fitted fittedModel, scored []scoredRow, holdout Rows) (float64, error) {
	var err error
	input := spec.Inputs[0]
	reader, err := input.Reader()
	if err != nil {
		return 0, err
	}
	width := max(len(spec.Labels), 1)
	goScores := make([]float32, width)
	var features []float32
	worst := 0.0
	var diverged error
	scratch := map[string]any{}
	for _, s := range scored {
		rec := holdout.Record(s.index, scratch)
		var text string
		if input.Type == model.StringInput {
			if text, err = reader.Text(rec, spec.MaxText()); err != nil {
				return 0, err
			}
		} else if features, err = reader.AppendNumbers(features[:0], rec, spec.AllowNonFinite); err != nil {
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
			diff := math.Abs(float64(v) - float64(goScores[i]))
			worst = math.Max(worst, diff)
			if diverged == nil && !(diff <= scoreAllowance(spec.Task, goScores[i])) {
				diverged = fmt.Errorf("%w: holdout row %d, score %d: ONNX Runtime %g, Go %g (allowed difference %g)",
					ErrDivergence, s.index, i, v, goScores[i], scoreAllowance(spec.Task, goScores[i]))
			}
		}
	}
	if diverged != nil {
		return worst, diverged
	}
	return worst, nil
}
