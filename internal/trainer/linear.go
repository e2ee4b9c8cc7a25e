package trainer

import (
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/train"
)

// LinearParams are the parameters of a linear model, under the names of
// scikit-learn's LogisticRegression (C, max_iter, tol, class_weight) and
// Ridge (alpha); an absent parameter takes train.DefaultLinearConfig's
// value, which is scikit-learn's default. max_iterations, the name used
// before, is read as an alias of max_iter; c is read as C, since parameter
// names are matched without regard to case.
type LinearParams struct {
	// C is the inverse regularisation strength of a logistic regression.
	C float64 `json:"C,omitempty"`
	// Alpha is the regularisation strength of a ridge regression.
	Alpha       float64      `json:"alpha,omitempty"`
	MaxIter     int          `json:"max_iter,omitempty"`
	Tol         float64      `json:"tol,omitempty"`
	ClassWeight *classWeight `json:"class_weight,omitempty"`

	// The name used before, read as an alias and never written.
	MaxIterations int `json:"max_iterations,omitempty"`
}

func linearParams(o Options, wrap func(error) error) (any, error) {
	var p LinearParams
	if err := decodeParams(o.Params, &p); err != nil {
		return nil, wrap(err)
	}
	if err := renamed(&p.MaxIter, p.MaxIterations, "max_iter", "max_iterations"); err != nil {
		return nil, wrap(err)
	}
	cfg := train.DefaultLinearConfig()
	if o.Task == model.Regression {
		cfg.Objective = train.SquaredError
	}
	setIf(&cfg.C, p.C)
	setIf(&cfg.Alpha, p.Alpha)
	setIf(&cfg.MaxIterations, p.MaxIter)
	setIf(&cfg.Tolerance, p.Tol)
	cfg.ClassWeight = p.ClassWeight.config()
	if err := cfg.Validate(); err != nil {
		return nil, wrap(err)
	}
	return cfg, nil
}
