package fit

import (
	"github.com/streamscore/streamscore/internal/drift"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/train"
)

// profile is the drift reference of a model trained on c's rows [0, cut):
// the columns of every training row, null flags included, and the
// fitted model's predictions, computed in Go, on up to
// drift.MaxSampleRows of them, evenly spaced. classes are a classifier's
// class names in score order.
func profile(spec model.Spec, c *columns, cut int, fitted fittedModel, classes []string) (*drift.Profile, error) {
	l := c.layout
	var vocab map[int]drift.TextVocabulary
	if tm, ok := fitted.(textModel); ok {
		if words, lower, minChars, ok := tm.WordVocabulary(); ok {
			vocab = map[int]drift.TextVocabulary{0: {Words: words, ASCII: lower == train.LowercaseASCII, MinChars: minChars}}
		}
	}
	ref := drift.NewReference(spec, vocab)
	row := drift.Row{Numbers: make([][]float32, 1), Nulls: make([][]bool, 1), Texts: make([]string, 1)}
	nulls := make([]bool, l.width)
	for r := range cut {
		if l.text {
			row.Texts[0] = c.texts[r]
		} else {
			row.Numbers[0] = c.features[r*l.width : (r+1)*l.width]
			c.rowNulls(r, nulls)
			row.Nulls[0] = nulls
		}
		ref.Add(row)
	}
	scores := make([]float32, max(len(classes), 1))
	step := max(1, (cut+drift.MaxSampleRows-1)/drift.MaxSampleRows)
	for r := 0; r < cut; r += step {
		var (
			features []float32
			text     string
		)
		if l.text {
			text = c.texts[r]
		} else {
			features = c.features[r*l.width : (r+1)*l.width]
		}
		if err := fitted.score(features, text, scores); err != nil {
			return nil, err
		}
		ref.AddPrediction(prediction(scores, classes))
	}
	return ref.Profile(), nil
}

// prediction is a Go model's scores as ONNX Runtime's would read: a
// classifier's label is its highest score's class (the first on a tie),
// and a binary classifier's value the positive (last) class's score.
func prediction(scores []float32, classes []string) model.Result {
	if classes == nil {
		return model.Result{Value: float64(scores[0]), HasValue: true}
	}
	best := 0
	for i, s := range scores {
		if s > scores[best] {
			best = i
		}
	}
	res := model.Result{Label: classes[best], Scores: scores}
	if len(classes) == 2 {
		res.Value, res.HasValue = float64(scores[1]), true
	}
	return res
}
