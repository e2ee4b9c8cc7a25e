package trainer

import (
	"context"
	"errors"
	"fmt"
)

// LinearParams are the parameters of a linear model.
type LinearParams struct {
	C             float64 `json:"c,omitempty"`
	MaxIterations int     `json:"max_iterations,omitempty"`
}

func linearParams(o Options, wrap func(error) error) (any, error) {
	var p LinearParams
	if err := decodeParams(o.Params, &p); err != nil {
		return nil, wrap(err)
	}
	return p, nil
}

func fitLinear(context.Context, Options, any, *dataset, Progress) (fittedModel, error) {
	return nil, fmt.Errorf("%w: family: linear is not available yet", ErrInvalidOptions)
}

var _ = errors.New
