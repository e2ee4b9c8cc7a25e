package fit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/drift"
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
	// holdout (see holdout.go); empty when there is none (holdout 0).
	Evaluation Evaluation
	// Holdout are the rows evaluated on, kept so that the champion can be
	// judged on the very same ones before the new model may replace it.
	// They share the training rows' memory: DropHoldout lets them go once
	// the version is published.
	Holdout   Rows
	TrainRows int
	// Skipped counts rows left out, by reason: rows that cannot be mapped
	// (training and holdout rows alike, since rows are mapped as they are
	// read), and a classifier's rows of another label kind.
	Skipped map[string]int
	// Params are the parameters the model was trained with, defaults
	// included, as they are stored with the version.
	Params json.RawMessage
	// Divergence is the largest difference between the Go model's scores
	// and ONNX Runtime's on the holdout, or on the newest training rows
	// when there is no holdout (at most ParityTolerance).
	Divergence float64
	// Fit tells how a gbdt model's boosting went (rounds grown, early
	// stopping); nil for the other families.
	Fit *catalog.FitStats
	// Profile is the drift reference of the training rows (see
	// profile.go), stored with the version.
	Profile  *drift.Profile
	Duration time.Duration

	// rival are the holdout rows as the champion reads them: with the raw
	// values of the fields it reads and this model does not.
	rival Rows
}

// RivalHoldout are the holdout rows as the champion reads them: with the
// raw values of the fields it reads and this model does not (see
// TableConfig.Extra). They are Holdout when no such field was kept.
func (r *Result) RivalHoldout() Rows {
	if r.rival == nil {
		return r.Holdout
	}
	return r.rival
}

// DropHoldout lets the holdout rows go: they share the training rows'
// memory, which a Result kept after its publication would otherwise hold.
func (r *Result) DropHoldout() {
	r.Holdout, r.rival = nil, nil
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

// FitRows is Fit on rows held in any form. Each row is mapped into
// columns, as a Table maps records, then trained on as FitTable does. A classifier's rows whose label is of another kind than most
// rows' (see ClassLabel) are skipped and counted (mixed_label_kind).
// Rows carry no time, so HoldoutFrom is refused; the holdout is the last
// fraction of the rows in their order.
func FitRows(ctx context.Context, name string, opts Options, rows Rows, progress Progress) (*Result, error) {
	start := time.Now()
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if !opts.HoldoutFrom.IsZero() {
		return nil, fmt.Errorf("%w: %s", ErrInvalidOptions, errHoldoutFromRows)
	}
	c := newColumns(newLayout(opts, nil), rows.Len())
	scratch := map[string]any{}
	for i := range rows.Len() {
		// A row's index stands for its offset: it orders rows and chooses
		// the Sample.
		if err := c.add(rows.Record(i, scratch), 0, 0, int64(i)); err != nil {
			return nil, err
		}
	}
	c.finish(0)
	return fitColumns(ctx, name, opts, c, nil, progress, start)
}

// ErrTableConsumed means a table was handed to FitTable again.
var ErrTableConsumed = errors.New("fit: the table was already trained on (FitTable consumes it): build it again")

// FitTable is Fit on a Table: its columns are handed to the algorithms
// as they are, never copied. test, when not nil, is a table of test rows
// built with the same options: the model trains on every row of t and is
// evaluated on test's.
//
// FitTable consumes t: a classifier's training labels are renumbered in
// place into the model's classes, and the columns that ordered the rows
// are let go. t still gives its Len, counts and ClassCounts, and the
// Result's Holdout reads it, but a second FitTable of t fails with
// ErrTableConsumed (unless the first failed before changing it). test
// keeps its labels but loses its ordering columns too: it may evaluate
// again, not train.
func FitTable(ctx context.Context, name string, opts Options, t, test *Table, progress Progress) (*Result, error) {
	start := time.Now()
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if t.c.consumed || test != nil && test.c.trained != nil {
		return nil, ErrTableConsumed
	}
	var tc *columns
	if test != nil {
		tc = test.c
	}
	return fitColumns(ctx, name, opts, t.c, tc, progress, start)
}

// parityRows is how many of the newest training rows the parity check
// scores when there is no holdout.
const parityRows = 10_000

// fitColumns trains on rows of c, split as opts say (or on all of them,
// evaluated on test), exports, checks and evaluates.
func fitColumns(ctx context.Context, name string, opts Options, c, test *columns, progress Progress, start time.Time) (*Result, error) {
	params, err := opts.params()
	if err != nil {
		return nil, err
	}
	sp, err := split(c, test, opts)
	if err != nil {
		return nil, err
	}
	// Categories are learnt from the training rows alone, so that the
	// holdout meets unseen values as the scorer will. Training rows the
	// scorer would dead-letter are dropped, and the holdout moves down.
	tables, codes, left, err := c.learnCategories(sp.cut)
	if err != nil {
		return nil, err
	}
	if dropped := sp.cut - left; dropped > 0 {
		sp.cut = left
		if sp.holdout.c == c {
			sp.holdout.from -= dropped
			sp.holdout.to -= dropped
		}
		if sp.cut < 2 {
			return nil, fmt.Errorf("%w: %d usable rows leave %d to train on (unusable: %v)", ErrNotEnoughData, c.Len(), sp.cut, c.skipped)
		}
	}
	if test != nil {
		test.outside = c.outside
	}
	var classes []string
	if opts.Task == model.Classification {
		classes = c.classes(0, sp.cut)
		if len(classes) < 2 {
			return nil, fmt.Errorf("%w: label %q has a single class (%q) in the %d training rows", ErrNotEnoughData, opts.Label, classes[0], sp.cut)
		}
		// Holdout rows keep their dictionary indices, named by names.
		c.relabel(sp.cut, classes)
	}
	// Rows are in order and split: what ordered them is no longer needed.
	c.dropOrder()
	if test != nil {
		test.dropOrder()
	}
	data := &dataset{width: c.layout.width, targets: c.labels[:sp.cut], classes: classes, rows: sp.cut, skipped: c.skipped, categorical: codes}
	if c.layout.text {
		data.texts = c.texts[:sp.cut]
	} else {
		data.features = c.features[:sp.cut*c.layout.width]
	}
	spec := opts.spec(name, classes, tables)
	fitted, err := fitFamily(ctx, opts, params, data, progress)
	if err != nil {
		return nil, err
	}
	drifted, err := profile(spec, c, sp.cut, fitted, classes)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", name, err)
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
	holdout := sp.holdout
	// One ONNX Runtime pass over the holdout serves both the evaluation
	// and the parity check; without a holdout, the check scores the newest
	// training rows.
	checked := Rows(holdout)
	if holdout.Len() == 0 {
		checked = colRows{c: c, from: max(0, sp.cut-parityRows), to: sp.cut, names: classes}
	}
	scored, skipped, err := scoreRows(loaded, checked, opts.Label)
	if err != nil {
		return nil, err
	}
	var ev Evaluation
	if holdout.Len() > 0 {
		ev = evaluation(loaded.Spec(), scored, skipped)
	}
	divergence, err := parity(loaded.Spec(), fitted, scored, checked)
	if err != nil {
		return nil, err
	}
	effective, err := json.Marshal(effectiveParams(params))
	if err != nil {
		return nil, err
	}
	rival := holdout
	rival.raw = true
	return &Result{
		ONNX: artifact, Spec: spec, Evaluation: ev, Holdout: holdout, rival: rival,
		TrainRows: data.rows, Skipped: c.skipped, Params: effective,
		Divergence: divergence, Fit: fitStats(fitted), Profile: drifted, Duration: time.Since(start),
	}, nil
}

// fitStats is how a boosted model's fit went, nil for other models.
func fitStats(fitted fittedModel) *catalog.FitStats {
	t, ok := fitted.(tabular)
	if !ok {
		return nil
	}
	ens, ok := t.tabularModel.(*train.Ensemble)
	if !ok {
		return nil
	}
	return &catalog.FitStats{Iterations: ens.Stats.Iterations, EarlyStopped: ens.Stats.EarlyStopped}
}

// dataset is training rows as the algorithms take them: slices of the
// columns, not copies.
type dataset struct {
	features []float32 // row-major, for numeric families
	width    int
	texts    []string  // for the text family
	targets  []float64 // class index or value
	classes  []string  // class names in index order, for classifiers
	rows     int
	skipped  map[string]int
	// categorical are the codes of each categorical column, by column.
	categorical map[int]int
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
	for col, codes := range d.categorical {
		if err := data.SetCategorical(col, codes); err != nil {
			return nil, err
		}
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

// score computes each class's probability on its own, as the exported
// head does: class 0 as 1 - P(class 1) would keep no digit of a
// probability below about 1e-16.
func (m textModel) score(_ []float32, text string, dst []float32) error {
	return m.PredictProbaClasses(text, dst)
}
