package online

import (
	"errors"
	"fmt"
	"time"
)

// ErrConfig is wrapped by every Config.Validate error.
var ErrConfig = errors.New("invalid online join config")

// Defaults of the zero fields of Config (LabelWait's zero is meaningful:
// a label does not wait).
const (
	DefaultWindow  = 5 * time.Minute
	DefaultBudget  = 64 << 20
	DefaultPairCap = 100_000
)

// Config shapes a Join.
type Config struct {
	Task      string        // TaskClassification or TaskRegression
	Labels    []string      // class names in the model's order; the positive class is the last
	Window    time.Duration // tumbling window length, aligned to the Unix epoch
	Budget    int64         // bytes for held predictions and labels
	LabelWait time.Duration // how long (in label record time) a label waits for its prediction
	PairCap   int           // per window and version, pairs kept for ROC AUC; paired records kept for the comparison
}

// Validate reports the first problem of c after defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	switch c.Task {
	case TaskClassification:
		if len(c.Labels) < 2 {
			return bad("a classifier needs at least two labels, got %d", len(c.Labels))
		}
		seen := make(map[string]bool, len(c.Labels))
		for _, l := range c.Labels {
			if seen[l] {
				return bad("label %q appears twice", l)
			}
			seen[l] = true
		}
	case TaskRegression:
	default:
		return bad("task %q is neither %q nor %q", c.Task, TaskClassification, TaskRegression)
	}
	switch {
	case c.Window < 0:
		return bad("window %v is negative", c.Window)
	case c.Budget < 0:
		return bad("budget %d is negative", c.Budget)
	case c.LabelWait < 0:
		return bad("label wait %v is negative", c.LabelWait)
	case c.PairCap < 0:
		return bad("pair cap %d is negative", c.PairCap)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.Budget == 0 {
		c.Budget = DefaultBudget
	}
	if c.PairCap == 0 {
		c.PairCap = DefaultPairCap
	}
	return c
}

func (c Config) binary() bool     { return c.Task == TaskClassification && len(c.Labels) == 2 }
func (c Config) multiclass() bool { return c.Task == TaskClassification && len(c.Labels) > 2 }
