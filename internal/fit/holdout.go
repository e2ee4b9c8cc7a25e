package fit

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// A training is judged on one of four kinds of holdout, given by at most
// one option:
//
//   - holdout, a fraction (DefaultHoldout when nothing is given): the
//     newest rows in time order, so a model is judged on records newer
//     than any it learnt from;
//   - holdout: 0: every row trains and none evaluates. There are then no
//     metrics to compare with the champion, so a job must not promote
//     if_better (jobs.Job.Validate refuses it), and the REST API, which
//     promotes only if_better, refuses it;
//   - holdout_from, a time: the records stamped at or after it (a job's
//     only: rows sent to the REST API carry no time);
//   - a job's test_source: every row of the source trains, and the test
//     source's rows, read the same way, evaluate.

// errHoldoutFromRows refuses holdout_from where rows carry no time.
var errHoldoutFromRows = errors.New("holdout_from: applies to a training job reading a topic, whose records carry a time; rows sent to the REST API carry none: give holdout, a fraction")

// ErrHoldoutZeroIfBetter refuses a training that could never be compared
// with the champion under a policy that promotes only what beats it.
var ErrHoldoutZeroIfBetter = errors.New("holdout: 0 trains on every row and leaves none to judge the champion on, so the if_better policy could never decide: give a fraction, a holdout_from or a test_source, or set promote to always, or never (a forced run still promotes)")

// holdoutSplit is where training rows end and which rows evaluate.
type holdoutSplit struct {
	cut     int     // rows [0, cut) of the source train
	holdout colRows // may be empty (holdout 0)
}

// split applies opts' holdout to c, or takes test as the holdout.
func split(c, test *columns, opts Options) (holdoutSplit, error) {
	n := c.Len()
	var sp holdoutSplit
	switch {
	case test != nil:
		sp = holdoutSplit{cut: n, holdout: colRows{c: test, from: 0, to: test.Len(), names: test.dict.names}}
		if test.Len() == 0 {
			return sp, fmt.Errorf("%w: test_source: no usable rows to evaluate on (unusable: %v)", ErrNotEnoughData, test.skipped)
		}
	case !opts.HoldoutFrom.IsZero():
		cut := c.firstAtOrAfter(opts.HoldoutFrom.UnixMilli())
		sp = holdoutSplit{cut: cut, holdout: colRows{c: c, from: cut, to: n, names: c.dict.names}}
		if cut == n {
			return sp, fmt.Errorf("%w: holdout_from: none of the %d usable rows is at or after %s", ErrNotEnoughData, n, opts.HoldoutFrom.Format(time.RFC3339))
		}
	default:
		cut := n - holdoutLen(n, opts.Holdout)
		sp = holdoutSplit{cut: cut, holdout: colRows{c: c, from: cut, to: n, names: c.dict.names}}
		if opts.Holdout > 0 && cut == n {
			return sp, fmt.Errorf("%w: %d usable rows leave none to evaluate (unusable: %v)", ErrNotEnoughData, n, c.skipped)
		}
	}
	if sp.cut < 2 {
		return sp, fmt.Errorf("%w: %d usable rows leave %d to train on (unusable: %v)", ErrNotEnoughData, n, sp.cut, c.skipped)
	}
	return sp, nil
}

// holdoutLen is how many of n rows the holdout takes: the fraction,
// rounded up.
func holdoutLen(n int, holdout float64) int {
	return int(math.Ceil(float64(n) * holdout))
}

// ValidateForAPI refuses what options sent to the REST API cannot do: the
// API trains on rows that carry no time, and promotes a version only when
// it beats the champion on its holdout.
func (o Options) ValidateForAPI() error {
	o = o.WithDefaults()
	var errs []error
	if !o.HoldoutFrom.IsZero() {
		errs = append(errs, fmt.Errorf("%w: %w", ErrInvalidOptions, errHoldoutFromRows))
	}
	if o.Holdout == 0 && o.HoldoutFrom.IsZero() {
		errs = append(errs, fmt.Errorf("%w: %w", ErrInvalidOptions, ErrHoldoutZeroIfBetter))
	}
	return errors.Join(errs...)
}
