package trainer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/onnx"
	"github.com/streamscore/streamscore/internal/train"
)

// ErrNotEnoughData means too few usable rows, or a single class: a
// training that could not produce a model.
var ErrNotEnoughData = errors.New("not enough training data")

// Progress is told how far a training is: done of total steps (boosting
// rounds, optimiser iterations). It is called from the training goroutine.
type Progress func(done, total int)

// Result is a trained, exported and evaluated model.
type Result struct {
	// ONNX is the model, with its Spec in the metadata; the catalog gives it
	// a version when it is published.
	ONNX []byte
	Spec model.Spec
	// Evaluation is ONNX Runtime's score of the exported model on the
	// holdout: the last Options.Holdout of the rows, in the order given.
	Evaluation Evaluation
	// Holdout are the rows evaluated on, kept so that the champion can be
	// judged on the very same ones before the new model may replace it.
	Holdout   Rows
	TrainRows int
	// Skipped counts training rows left out, by reason.
	Skipped map[string]int
	// Params are the parameters the model was trained with, defaults
	// included, as they are stored with the version.
	Params json.RawMessage
	// Divergence is the largest difference between the Go model's scores
	// and ONNX Runtime's on the holdout (at most ParityTolerance).
	Divergence float64
	Duration   time.Duration
}

// Split divides rows, in time order, into training rows and the holdout:
// the last fraction, rounded up, so that a model is judged on records newer
// than any it learnt from.
func Split(rows []map[string]any, holdout float64) (trainRows, holdoutRows []map[string]any) {
	n := holdoutLen(len(rows), holdout)
	return rows[:len(rows)-n], rows[len(rows)-n:]
}

// Fit trains a model named name on rows (oldest first), exports it to ONNX,
// checks ONNX Runtime agrees with it, and evaluates it on the holdout. Rows
// whose label or features cannot be read are skipped and counted; training
// fails only when too few remain.
func Fit(ctx context.Context, name string, opts Options, rows []map[string]any, progress Progress) (*Result, error) {
	return FitRows(ctx, name, opts, Records(rows), progress)
}

// FitRows is Fit on rows held in any form. A classifier's rows whose label
// is of another kind than most rows' (see ClassLabel) are skipped and
// counted (mixed_label_kind).
func FitRows(ctx context.Context, name string, opts Options, rows Rows, progress Progress) (*Result, error) {
	start := time.Now()
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	params, err := opts.params()
	if err != nil {
		return nil, err
	}
	trainRows, holdout := splitRows(rows, opts.Holdout)
	if trainRows.Len() < 2 || holdout.Len() < 1 {
		return nil, fmt.Errorf("%w: %d rows leave %d to train on and %d to evaluate", ErrNotEnoughData, rows.Len(), trainRows.Len(), holdout.Len())
	}
	var kind LabelKind
	if opts.Task == model.Classification {
		kind = labelKindOf(rows, opts.Label)
	}
	data, err := extract(opts, trainRows, kind)
	if err != nil {
		return nil, err
	}
	spec := opts.Spec(name, data.classes)
	fitted, err := fitFamily(ctx, opts, params, data, progress)
	if err != nil {
		return nil, err
	}
	meta, err := spec.Marshal()
	if err != nil {
		return nil, err
	}
	graph, err := fitted.onnx(map[string]string{model.SpecMetadataKey: meta})
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", name, err)
	}
	artifact, err := graph.Marshal()
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", name, err)
	}

	loaded, err := model.Load(artifact, model.Options{DefaultVersion: "candidate"})
	if err != nil {
		return nil, fmt.Errorf("load the exported %s: %w", name, err)
	}
	defer loaded.Close()
	// One ONNX Runtime pass over the holdout serves both the evaluation
	// and the parity check.
	scored, skipped, err := scoreRows(loaded, holdout, opts.Label)
	if err != nil {
		return nil, err
	}
	ev := evaluation(loaded.Spec(), scored, skipped)
	divergence, err := parity(loaded.Spec(), fitted, scored, holdout)
	if err != nil {
		return nil, err
	}
	effective, err := json.Marshal(effectiveParams(params))
	if err != nil {
		return nil, err
	}
	return &Result{
		ONNX: artifact, Spec: spec, Evaluation: ev, Holdout: holdout,
		TrainRows: data.rows, Skipped: data.skipped, Params: effective,
		Divergence: divergence, Duration: time.Since(start),
	}, nil
}

// dataset is training rows mapped to what the algorithms take.
type dataset struct {
	features []float32 // row-major, for numeric families
	width    int
	texts    []string  // for the text family
	targets  []float64 // class index or value
	classes  []string  // class names in index order, for classifiers
	rows     int
	skipped  map[string]int
}

// add maps one record's label and features, appending the features (or
// text) to d only if every part of the record could be read.
func (d *dataset) add(opts Options, input model.Input, rec map[string]any, labelKind LabelKind) (target float64, class string, err error) {
	if opts.Task == model.Regression {
		if target, err = valueOf(rec, opts.Label); err != nil {
			return 0, "", fmt.Errorf("%w: %w", ErrBadLabel, err)
		}
	} else {
		var kind LabelKind
		if class, kind, err = classOf(rec, opts.Label); err != nil {
			return 0, "", fmt.Errorf("%w: %w", ErrBadLabel, err)
		}
		if kind != labelKind {
			return 0, "", fmt.Errorf("%w: label %q is %s, most rows' are %s", errOtherLabelKind, opts.Label, kind, labelKind.Plural())
		}
	}
	if opts.Family == Text {
		s, err := input.Text(rec, model.DefaultMaxTextBytes)
		if err != nil {
			return 0, "", err
		}
		d.texts = append(d.texts, s)
		return target, class, nil
	}
	features, err := input.AppendNumbers(d.features, rec, false)
	if err != nil {
		return 0, "", err
	}
	d.features = features
	return target, class, nil
}

// extract maps rows through the model's own feature mapping, the one the
// scorer will use, so training and serving read a record the same way.
// A classifier's rows whose label is not of labelKind are skipped.
func extract(opts Options, rows Rows, labelKind LabelKind) (*dataset, error) {
	d := &dataset{skipped: map[string]int{}}
	input := opts.Spec("", nil).Inputs[0]
	var classNames []string
	scratch := map[string]any{}
	for i := range rows.Len() {
		rec := rows.Record(i, scratch)
		var target float64
		var class string
		err := guarded(func() (err error) {
			target, class, err = d.add(opts, input, rec, labelKind)
			return err
		})
		if err != nil {
			d.skipped[reasonOf(err)]++
			continue
		}
		if opts.Task != model.Regression {
			classNames = append(classNames, class)
		}
		d.targets = append(d.targets, target)
		d.rows++
	}
	d.width = len(input.Fields)
	if d.rows < 2 {
		return nil, fmt.Errorf("%w: %d of %d training rows are usable (skipped: %v)", ErrNotEnoughData, d.rows, rows.Len(), d.skipped)
	}
	if opts.Task == model.Classification {
		d.classes = distinct(classNames)
		if len(d.classes) < 2 {
			return nil, fmt.Errorf("%w: label %q has a single class (%q) in the training rows", ErrNotEnoughData, opts.Label, d.classes[0])
		}
		index := make(map[string]float64, len(d.classes))
		for i, c := range d.classes {
			index[c] = float64(i)
		}
		for i, c := range classNames {
			d.targets[i] = index[c]
		}
	}
	return d, nil
}

func distinct(names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sortClasses(out)
	return out
}

// fittedModel is a trained model of any family: it exports itself, and
// scores one row in Go for the parity check.
type fittedModel interface {
	onnx(meta map[string]string) (*onnx.Model, error)
	// score writes a classifier's class scores or a regressor's value (one
	// element) for one row into dst.
	score(features []float32, text string, dst []float32) error
}

func fitFamily(ctx context.Context, opts Options, params any, d *dataset, progress Progress) (fittedModel, error) {
	multiclass := opts.Task == model.Classification && len(d.classes) > 2
	switch cfg := params.(type) {
	case train.Config:
		if multiclass {
			cfg.Objective, cfg.NumClasses = train.MulticlassLogLoss, len(d.classes)
		}
		cfg.Progress = progress
		return fitTabular(opts, d, func(data *train.Dataset) (tabularModel, error) { return train.Fit(ctx, cfg, data) })
	case train.LinearConfig:
		if multiclass {
			cfg.Objective, cfg.NumClasses = train.MulticlassLogLoss, len(d.classes)
		}
		cfg.Progress = progress
		return fitTabular(opts, d, func(data *train.Dataset) (tabularModel, error) { return train.FitLinear(ctx, cfg, data) })
	case train.TextConfig:
		if len(d.classes) != 2 {
			return nil, fmt.Errorf("%w: label: a text model is binary, and the training rows hold %d classes", ErrInvalidOptions, len(d.classes))
		}
		cfg.Progress = progress
		m, err := train.FitText(ctx, cfg, d.texts, d.targets)
		if err != nil {
			return nil, fmt.Errorf("train text: %w", err)
		}
		return textModel{m}, nil
	}
	return nil, fmt.Errorf("%w: family %q", ErrInvalidOptions, opts.Family)
}

// tabularModel is what the gbdt and linear families' models have in common.
type tabularModel interface {
	ONNX(meta map[string]string) (*onnx.Model, error)
	Predict(row []float32) (float32, error)
	PredictProba(row, dst []float32) error
}

func fitTabular(opts Options, d *dataset, fit func(*train.Dataset) (tabularModel, error)) (fittedModel, error) {
	data, err := train.NewDataset(d.features, d.width, d.targets)
	if err != nil {
		return nil, err
	}
	m, err := fit(data)
	if err != nil {
		return nil, fmt.Errorf("train %s: %w", opts.Family, err)
	}
	return tabular{m, opts.Task}, nil
}

// tabular is a fitted numeric model: scores of every class for a
// classifier, the value for a regressor.
type tabular struct {
	tabularModel
	task model.Task
}

func (t tabular) onnx(meta map[string]string) (*onnx.Model, error) { return t.ONNX(meta) }

func (t tabular) score(features []float32, _ string, dst []float32) error {
	if t.task == model.Regression {
		v, err := t.Predict(features)
		dst[0] = v
		return err
	}
	return t.PredictProba(features, dst)
}

type textModel struct{ *train.TextModel }

func (m textModel) onnx(meta map[string]string) (*onnx.Model, error) { return m.ONNX(meta) }

func (m textModel) score(_ []float32, text string, dst []float32) error {
	p, err := m.PredictProba(text)
	dst[0], dst[1] = float32(1-p), float32(p)
	return err
}
