package trainer

import (
	"context"
	"fmt"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/onnx"
	"github.com/streamscore/streamscore/internal/train"
)

// LinearParams are the parameters of a linear model; zero means the
// default (train.DefaultLinearConfig, which follows scikit-learn's
// LogisticRegression and Ridge).
type LinearParams struct {
	// C is the inverse regularisation strength of a logistic regression.
	C float64 `json:"c,omitempty"`
	// Alpha is the regularisation strength of a ridge regression.
	Alpha         float64 `json:"alpha,omitempty"`
	MaxIterations int     `json:"max_iterations,omitempty"`
}

func linearParams(o Options, wrap func(error) error) (any, error) {
	var p LinearParams
	if err := decodeParams(o.Params, &p); err != nil {
		return nil, wrap(err)
	}
	cfg := train.DefaultLinearConfig()
	if o.Task == model.Regression {
		cfg.Objective = train.SquaredError
	}
	setIf(&cfg.C, p.C)
	setIf(&cfg.Alpha, p.Alpha)
	setIf(&cfg.MaxIterations, p.MaxIterations)
	if err := cfg.Validate(); err != nil {
		return nil, wrap(err)
	}
	return cfg, nil
}

func fitLinear(ctx context.Context, opts Options, params any, d *dataset, progress Progress) (fittedModel, error) {
	cfg := params.(train.LinearConfig)
	if opts.Task == model.Classification && len(d.classes) > 2 {
		cfg.Objective = train.MulticlassLogLoss
		cfg.NumClasses = len(d.classes)
	}
	cfg.Progress = progress
	data, err := train.NewDataset(d.features, d.width, d.targets)
	if err != nil {
		return nil, err
	}
	m, err := train.FitLinear(ctx, cfg, data)
	if err != nil {
		return nil, fmt.Errorf("train linear: %w", err)
	}
	return linearModel{m, opts.Task}, nil
}

type linearModel struct {
	*train.LinearModel
	task model.Task
}

func (m linearModel) onnx(meta map[string]string) (*onnx.Model, error) { return m.ONNX(meta) }

func (m linearModel) score(features []float32, _ string, dst []float32) error {
	if m.task == model.Regression {
		v, err := m.Predict(features)
		dst[0] = v
		return err
	}
	return m.PredictProba(features, dst)
}
