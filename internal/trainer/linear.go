package trainer

import (
	"github.com/streamscore/streamscore/internal/model"
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
