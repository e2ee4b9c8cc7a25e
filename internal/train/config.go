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
	maxTrees = 100_000
	maxDepth = 20  // 2^20 leaves per tree is far beyond useful
	maxBins  = 255 // bin indexes fit in a byte, with one more for NaN
	minBins  = 2
	// maxClasses bounds NumClasses: every class adds a tree per round.
	maxClasses = 1000
)

// Config holds the training parameters. Start from DefaultConfig.
type Config struct {
	Objective      Objective
	NumTrees       int     // boosting rounds
	MaxDepth       int     // depth of each tree; a depth-1 tree is a stump
	LearningRate   float64 // shrinkage applied to every leaf value
	MaxBins        int     // bins per feature, not counting the NaN bin
	MinSamplesLeaf int     // fewest training rows a leaf may hold
	L2             float64 // L2 regularisation of leaf values
	// NumClasses is the number of classes of MulticlassLogLoss, at least 3;
	// the other objectives ignore it.
	NumClasses int
	// Workers bounds the goroutines Fit uses to build histograms, compute
	// gradients, partition rows and bin features; 0 means GOMAXPROCS. The
	// fitted ensemble does not depend on it.
	Workers int
	// Seed drives the row sample that bin edges are computed from; with the
	// same seed and data, Fit returns the same ensemble.
	Seed uint64
	// Progress, if not nil, is called after each boosting round with the
	// rounds done and NumTrees, from the goroutine that called Fit. It is
	// not checked by Validate.
	Progress func(done, total int)
}

// DefaultConfig returns the defaults, which follow scikit-learn's
// HistGradientBoostingClassifier where they overlap.
func DefaultConfig() Config {
	return Config{
		Objective:      BinaryLogLoss,
		NumTrees:       100,
		MaxDepth:       6,
		LearningRate:   0.1,
		MaxBins:        255,
		MinSamplesLeaf: 20,
		L2:             0,
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
	check(c.NumTrees >= 1 && c.NumTrees <= maxTrees, "NumTrees %d not in [1, %d]", c.NumTrees, maxTrees)
	check(c.MaxDepth >= 1 && c.MaxDepth <= maxDepth, "MaxDepth %d not in [1, %d]", c.MaxDepth, maxDepth)
	check(c.LearningRate > 0 && c.LearningRate <= 1, "LearningRate %v not in (0, 1]", c.LearningRate)
	check(c.MaxBins >= minBins && c.MaxBins <= maxBins, "MaxBins %d not in [%d, %d]", c.MaxBins, minBins, maxBins)
	check(c.MinSamplesLeaf >= 1, "MinSamplesLeaf %d must be at least 1", c.MinSamplesLeaf)
	check(c.L2 >= 0 && !math.IsInf(c.L2, 1), "L2 %v must be finite and >= 0", c.L2)
	check(c.Workers >= 0, "Workers %d must be >= 0", c.Workers)
	return errors.Join(errs...)
}
