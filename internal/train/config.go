package train

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalidConfig is wrapped by every error Config.Validate reports.
var ErrInvalidConfig = errors.New("invalid training config")

// Objective is the loss an ensemble is fitted to minimise.
type Objective int

const (
	// BinaryLogLoss fits a binary classifier on labels 0 and 1.
	BinaryLogLoss Objective = iota + 1
	// SquaredError fits a regressor.
	SquaredError
	// MulticlassLogLoss fits a classifier of Config.NumClasses classes,
	// labelled 0 to NumClasses-1, minimising the softmax cross-entropy. Each
	// boosting round grows one tree per class.
	MulticlassLogLoss
)

// String returns the objective's name.
func (o Objective) String() string {
	switch o {
	case BinaryLogLoss:
		return "binary_log_loss"
	case SquaredError:
		return "squared_error"
	case MulticlassLogLoss:
		return "multiclass_log_loss"
	}
	return fmt.Sprintf("Objective(%d)", int(o))
}

// Limits checked by Validate.
const (
	maxIterations = 100_000
	maxDepth      = 64  // deeper than any tree min_samples_leaf lets grow on 2^31 rows
	maxBins       = 255 // bin indexes fit in a byte, with one more for NaN
	minBins       = 2
	// maxClasses bounds NumClasses: every class adds a tree per round.
	maxClasses = 1000
)

// Config holds the training parameters. Start from DefaultConfig, whose
// values are scikit-learn's HistGradientBoostingClassifier and Regressor
// defaults; each field names the scikit-learn parameter it follows.
type Config struct {
	Objective Objective
	// MaxIter is the most boosting rounds (max_iter); early stopping may
	// end the fit sooner.
	MaxIter int
	// LearningRate shrinks every leaf value (learning_rate).
	LearningRate float64
	// MaxLeafNodes caps the leaves of each tree (max_leaf_nodes); 0 means
	// no cap (None). Trees grow best-first: the leaf whose split gains
	// most is split next.
	MaxLeafNodes int
	// MaxDepth caps the depth of each tree, in edges from the root to the
	// deepest leaf (max_depth); 0 means no cap (None).
	MaxDepth int
	// MinSamplesLeaf is the fewest training rows a leaf may hold
	// (min_samples_leaf).
	MinSamplesLeaf int
	// L2Regularization is the L2 penalty on leaf values
	// (l2_regularization).
	L2Regularization float64
	// MaxBins is the number of bins per feature, not counting the bin of
	// missing values (max_bins). A categorical feature's codes are its
	// bins, so it may have at most MaxBins codes.
	MaxBins int
	// EarlyStopping chooses whether rounds stop when the loss on a
	// validation set, ValidationFraction of the training rows, has not
	// improved by more than Tol for NIterNoChange rounds (early_stopping).
	EarlyStopping EarlyStopping
	// ValidationFraction is the share of the training rows held out to
	// score early stopping (validation_fraction), stratified by class for
	// a classifier.
	ValidationFraction float64
	// NIterNoChange is how many rounds without improvement stop the fit
	// (n_iter_no_change).
	NIterNoChange int
	// Tol is the improvement of the validation loss that counts
	// (tol).
	Tol float64
	// ClassWeight weights each training row by its class (class_weight),
	// in the gradients, hessians and so the leaf values, and in the
	// validation loss. Only classifiers take it.
	ClassWeight ClassWeight
	// NumClasses is the number of classes of MulticlassLogLoss, at least 3;
	// the other objectives ignore it.
	NumClasses int
	// Workers bounds the goroutines Fit uses to build histograms, compute
	// gradients, partition rows and bin features; 0 means GOMAXPROCS. The
	// fitted ensemble does not depend on it.
	Workers int
	// Seed drives the row sample that bin edges are computed from and the
	// validation split of early stopping (random_state); with the same
	// seed and data, Fit returns the same ensemble.
	Seed uint64
	// Progress, if not nil, is called after each boosting round with the
	// rounds done and MaxIter, from the goroutine that called Fit; a fit
	// that stops early stops reporting before done reaches total. It is
	// not checked by Validate.
	Progress func(done, total int)
}

// DefaultConfig returns scikit-learn's defaults: 100 rounds at a learning
// rate of 0.1 of trees of up to 31 leaves, of any depth, with at least 20
// rows per leaf, no L2 penalty, 255 bins, and early stopping on a tenth of
// the rows when there are more than 10,000 (n_iter_no_change 10, tol
// 1e-7). Unlike scikit-learn's random_state=None, the seed is fixed, so
// that a fit can be repeated.
func DefaultConfig() Config {
	return Config{
		Objective:          BinaryLogLoss,
		MaxIter:            100,
		LearningRate:       0.1,
		MaxLeafNodes:       31,
		MaxDepth:           0,
		MinSamplesLeaf:     20,
		L2Regularization:   0,
		MaxBins:            255,
		EarlyStopping:      EarlyStoppingAuto,
		ValidationFraction: 0.1,
		NIterNoChange:      10,
		Tol:                1e-7,
	}
}

// Validate reports every parameter that is out of range, joined into one
// error that wraps ErrInvalidConfig.
func (c Config) Validate() error {
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
	check(c.MaxIter >= 1 && c.MaxIter <= maxIterations, "MaxIter %d not in [1, %d]", c.MaxIter, maxIterations)
	check(c.MaxLeafNodes == 0 || c.MaxLeafNodes >= 2, "MaxLeafNodes %d must be at least 2, or 0 for no limit", c.MaxLeafNodes)
	check(c.MaxDepth >= 0 && c.MaxDepth <= maxDepth, "MaxDepth %d not in [1, %d], or 0 for no limit", c.MaxDepth, maxDepth)
	check(c.LearningRate > 0 && c.LearningRate <= 1, "LearningRate %v not in (0, 1]", c.LearningRate)
	check(c.MaxBins >= minBins && c.MaxBins <= maxBins, "MaxBins %d not in [%d, %d]", c.MaxBins, minBins, maxBins)
	check(c.MinSamplesLeaf >= 1, "MinSamplesLeaf %d must be at least 1", c.MinSamplesLeaf)
	check(c.L2Regularization >= 0 && !math.IsInf(c.L2Regularization, 1), "L2Regularization %v must be finite and >= 0", c.L2Regularization)
	check(c.EarlyStopping.valid(), "unknown EarlyStopping %v", c.EarlyStopping)
	check(c.ValidationFraction > 0 && c.ValidationFraction < 1, "ValidationFraction %v not in (0, 1)", c.ValidationFraction)
	check(c.NIterNoChange >= 1, "NIterNoChange %d must be at least 1", c.NIterNoChange)
	check(c.Tol >= 0 && !math.IsInf(c.Tol, 1), "Tol %v must be finite and >= 0", c.Tol)
	if c.Objective == SquaredError {
		check(c.ClassWeight.isZero(), "ClassWeight is for classifiers, not %v", c.Objective)
	} else {
		errs = append(errs, c.ClassWeight.validate(c.numClasses())...)
	}
	check(c.Workers >= 0, "Workers %d must be >= 0", c.Workers)
	return errors.Join(errs...)
}

// numClasses returns the number of classes of a classifier's labels.
func (c Config) numClasses() int {
	if c.Objective == MulticlassLogLoss {
		return c.NumClasses
	}
	return 2
}
