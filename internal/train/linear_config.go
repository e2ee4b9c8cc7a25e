package train

import (
	"errors"
	"fmt"
	"math"
)

// LinearConfig holds the parameters of FitLinear. Start from
// DefaultLinearConfig.
type LinearConfig struct {
	// Objective chooses the model: BinaryLogLoss and MulticlassLogLoss fit
	// a logistic regression (multinomial for more than two classes),
	// SquaredError a ridge regression, or ordinary least squares when Alpha
	// is 0.
	Objective Objective
	// NumClasses is the number of classes of MulticlassLogLoss, at least 3;
	// the other objectives ignore it.
	NumClasses int
	// C is the inverse L2 regularisation strength of the logistic
	// regression, scikit-learn's LogisticRegression C: the fit minimises
	// (mean log loss) + ‖W‖²/(2·C·rows) over the standardised features. The
	// intercepts are not penalised.
	C float64
	// Alpha is the L2 regularisation strength of the ridge regression,
	// scikit-learn's Ridge alpha: the fit minimises ‖y − Zw − b‖² + Alpha·‖w‖²
	// over the standardised features Z. 0 is ordinary least squares.
	Alpha float64
	// MaxIterations caps the L-BFGS iterations of the logistic regression.
	MaxIterations int
	// Tolerance stops L-BFGS once no component of the gradient of the
	// objective exceeds it in absolute value, as scikit-learn's tol does.
	Tolerance float64
	// ClassWeight weighs each row's log loss by its class, as
	// LogisticRegression's class_weight does; a ridge regression takes
	// none.
	ClassWeight ClassWeight
	// Progress, if not nil, is called from the goroutine that called
	// FitLinear: after each L-BFGS iteration of a logistic regression with
	// the iterations done and MaxIterations (a fit that converges early
	// stops before done reaches total), or once with (1, 1) when a ridge
	// regression is solved. It is not checked by Validate.
	Progress func(done, total int)
}

// DefaultLinearConfig returns the defaults: a binary logistic regression
// with scikit-learn's LogisticRegression defaults (C 1, 100 iterations,
// tolerance 1e-4) and, for regression, Ridge's alpha of 1.
func DefaultLinearConfig() LinearConfig {
	return LinearConfig{
		Objective:     BinaryLogLoss,
		C:             1,
		Alpha:         1,
		MaxIterations: 100,
		Tolerance:     1e-4,
	}
}

// maxLinearIterations bounds LinearConfig.MaxIterations.
const maxLinearIterations = 100_000

// Validate reports every parameter that is out of range, joined into one
// error that wraps ErrInvalidConfig.
func (c LinearConfig) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...)))
		}
	}
	check(c.Objective == BinaryLogLoss || c.Objective == SquaredError || c.Objective == MulticlassLogLoss, "unknown objective %v", c.Objective)
	if c.Objective == MulticlassLogLoss {
		check(c.NumClasses >= 3 && c.NumClasses <= maxClasses, "NumClasses %d not in [3, %d] for %v", c.NumClasses, maxClasses, c.Objective)
	}
	check(c.C > 0 && !math.IsInf(c.C, 1), "C %v must be finite and > 0", c.C)
	check(c.Alpha >= 0 && !math.IsInf(c.Alpha, 1), "Alpha %v must be finite and >= 0", c.Alpha)
	check(c.MaxIterations >= 1 && c.MaxIterations <= maxLinearIterations, "MaxIterations %d not in [1, %d]", c.MaxIterations, maxLinearIterations)
	check(c.Tolerance > 0 && !math.IsInf(c.Tolerance, 1), "Tolerance %v must be finite and > 0", c.Tolerance)
	switch c.Objective {
	case SquaredError:
		check(c.ClassWeight.isZero(), "ClassWeight is for classifiers, not %v", c.Objective)
	case MulticlassLogLoss:
		errs = append(errs, c.ClassWeight.validate(c.NumClasses)...)
	default:
		errs = append(errs, c.ClassWeight.validate(2)...)
	}
	return errors.Join(errs...)
}
