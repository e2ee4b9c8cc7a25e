package fit

import (
	"errors"
	"fmt"
	"slices"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/model"
)

// Evaluation is how a model scored on a labelled holdout.
type Evaluation struct {
	Metrics Metrics `json:"metrics"`
	// Rows were scored; Skipped could not be (a feature the model cannot
	// read, a label it does not know), by reason.
	Rows    int            `json:"rows"`
	Skipped map[string]int `json:"skipped,omitempty"`
}

// Evaluate scores labelled rows with a loaded model, through ONNX Runtime
// and the model's own feature mapping, exactly as the scorer would, and
// computes the metrics of its task. Every model is judged this way: a
// freshly trained candidate, the champion it may replace, a model imported
// from elsewhere. Rows are scored in batches of the model's size.
func Evaluate(m *model.Model, rows []map[string]any, label string) (Evaluation, error) {
	return EvaluateRows(m, Records(rows), label)
}

// EvaluateRows is Evaluate on rows held in any form.
func EvaluateRows(m *model.Model, rows Rows, label string) (Evaluation, error) {
	scored, skipped, err := scoreRows(m, rows, label)
	if err != nil {
		return Evaluation{}, err
	}
	return evaluation(m.Spec(), scored, skipped), nil
}

// evaluation computes the metrics of rows scored by a model of spec.
func evaluation(spec model.Spec, scored []scoredRow, skipped map[string]int) Evaluation {
	ev := Evaluation{Rows: len(scored), Skipped: skipped}
	if spec.Task == model.Regression {
		truth := make([]float64, len(scored))
		predicted := make([]float64, len(scored))
		for i, s := range scored {
			truth[i], predicted[i] = s.value, s.prediction
		}
		ev.Metrics = scoreRegressor(truth, predicted)
		return ev
	}
	k := len(spec.Labels)
	truth := make([]int, len(scored))
	scores := make([]float32, 0, len(scored)*k)
	for i, s := range scored {
		truth[i] = s.class
		scores = append(scores, s.scores...)
	}
	ev.Metrics = scoreClassifier(truth, scores, k)
	return ev
}

// scoredRow is one holdout row's truth and the model's answer.
type scoredRow struct {
	index      int       // position in the rows scored
	class      int       // true class index in the model's labels
	value      float64   // true value, for a regressor
	scores     []float32 // per class, for a classifier
	prediction float64   // predicted value, for a regressor
}

// Skip reasons: why a row was left out of training or evaluation.
const (
	skipBadLabel     = "bad_label"
	skipUnknownClass = "unknown_class"
	// skipMixedLabelKind: a classifier's label of another kind than most
	// rows' (a string among numbers), from a record of another schema.
	skipMixedLabelKind = "mixed_label_kind"
)

func scoreRows(m *model.Model, rows Rows, label string) ([]scoredRow, map[string]int, error) {
	spec := m.Spec()
	if spec.Task == model.Classification && len(spec.Labels) < 2 {
		return nil, nil, fmt.Errorf("evaluate %s: a classifier needs its class names and scores to be evaluated", spec.Name)
	}
	skipped := map[string]int{}
	out := make([]scoredRow, 0, rows.Len())
	batch := m.NewBatch()
	defer batch.Close()
	pending := make([]scoredRow, 0, 128)
	run := func() error {
		if batch.Len() == 0 {
			return nil
		}
		results, err := m.Run(batch)
		if err != nil {
			return fmt.Errorf("evaluate %s: %w", spec.Name, err)
		}
		for i := range pending {
			r := results[i]
			if spec.Task == model.Regression {
				pending[i].prediction = r.Value
			} else {
				pending[i].scores = classScores(r, spec.Labels)
			}
		}
		out = append(out, pending...)
		pending = pending[:0]
		batch.Reset()
		return nil
	}
	labelReader := newLabelReader(label)
	scratch := map[string]any{}
	for i := range rows.Len() {
		rec := rows.Record(i, scratch)
		row := scoredRow{index: i}
		if spec.Task == model.Regression {
			v, err := valueOf(rec, labelReader)
			if err != nil {
				skipped[skipBadLabel]++
				continue
			}
			row.value = v
		} else {
			c, _, err := classOf(rec, labelReader)
			if err != nil {
				skipped[skipBadLabel]++
				continue
			}
			row.class = slices.Index(spec.Labels, c)
			if row.class < 0 {
				skipped[skipUnknownClass]++
				continue
			}
		}
		if rf, ok := rows.(refusingRows); ok {
			if reason, refused := rf.Refused(i); refused {
				skipped[reason]++
				continue
			}
		}
		if err := deadletter.Guard(func() error { return batch.Add(rec) }); err != nil {
			batch.DropPartial()
			skipped[reasonOf(err)]++
			continue
		}
		pending = append(pending, row)
		if batch.Full() {
			if err := run(); err != nil {
				return nil, nil, err
			}
		}
	}
	if err := run(); err != nil {
		return nil, nil, err
	}
	return out, skipped, nil
}

// classScores copies a classifier's scores out of the batch; a model that
// outputs only labels gets a one-hot row.
func classScores(r model.Result, labels []string) []float32 {
	if r.Scores != nil {
		return slices.Clone(r.Scores)
	}
	s := make([]float32, len(labels))
	if i := slices.Index(labels, r.Label); i >= 0 {
		s[i] = 1
	}
	return s
}

// reasonOf names the class of a row's error, as the scorer names a
// dead letter's (deadletter.Classify); a bad label is the trainer's own, and
// an error of no class unreadable.
func reasonOf(err error) string {
	if errors.Is(err, ErrBadLabel) {
		return skipBadLabel
	}
	if r := deadletter.Classify(err); r != deadletter.InferenceFailed {
		return r
	}
	return "unreadable"
}
