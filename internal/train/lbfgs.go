package train

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/optimize"
)

// lbfgsSettings are the stopping rules and the progress hook of
// minimizeLBFGS.
type lbfgsSettings struct {
	maxIterations int
	// tolerance stops the fit once no component of the gradient exceeds it
	// in absolute value.
	tolerance float64
	progress  func(done, total int) // nil: none; total is maxIterations
}

// lbfgsResult is where a minimisation ended.
type lbfgsResult struct {
	params     []float64
	iterations int
	// converged is true when the gradient fell below the tolerance or the
	// objective stopped decreasing, false when the iterations ran out or the
	// line search failed first.
	converged bool
	loss      float64 // the objective at params
}

// minimizeLBFGS minimises a smooth function of dim parameters from all
// zeros, so the same problem always gives the same answer, with the L-BFGS
// of scipy's L-BFGS-B, which scikit-learn uses: a memory of 10 pairs and a
// More-Thuente line search. It checks ctx before every evaluation. Running
// out of iterations is not an error: the result says so, as
// scikit-learn's ConvergenceWarning does.
func minimizeLBFGS(ctx context.Context, value func(x []float64) float64, gradient func(grad, x []float64), dim int, s lbfgsSettings) (lbfgsResult, error) {
	problem := optimize.Problem{
		Func: value,
		Grad: gradient,
		Status: func() (optimize.Status, error) {
			if err := ctx.Err(); err != nil {
				return optimize.Failure, err
			}
			return optimize.NotTerminated, nil
		},
	}
	settings := &optimize.Settings{
		GradientThreshold: s.tolerance,
		MajorIterations:   s.maxIterations,
		// A fallback for when rounding stops progress before the gradient
		// threshold is reached: five iterations without a relative decrease
		// of 1e-13.
		Converger: &optimize.FunctionConverge{Relative: 1e-13, Iterations: 5},
	}
	progress := &progressRecorder{report: s.progress, total: s.maxIterations}
	if s.progress != nil {
		settings.Recorder = progress
	}
	method := &optimize.LBFGS{Store: 10, Linesearcher: &optimize.MoreThuente{}}
	result, err := optimize.Minimize(problem, make([]float64, dim), settings, method)
	// A line search that cannot find a lower point has hit the limit of
	// floating point: the best point so far is the answer, as scipy returns
	// it after ABNORMAL_TERMINATION_IN_LNSRCH.
	stalled := errors.Is(err, optimize.ErrLinesearcherFailure) || errors.Is(err, optimize.ErrNoProgress)
	switch {
	case ctx.Err() != nil:
		return lbfgsResult{}, ctx.Err()
	case err != nil && !stalled:
		return lbfgsResult{}, err
	case stalled && math.IsInf(result.Location.F, 1):
		return lbfgsResult{}, fmt.Errorf("stalled before its first iteration: %w", err)
	}
	if s.progress != nil {
		// The optimizer does not record the iteration that ends the fit.
		progress.reportUpTo(result.Stats.MajorIterations)
	}
	return lbfgsResult{
		params:     result.Location.X,
		iterations: result.Stats.MajorIterations,
		converged:  !stalled && result.Status != optimize.IterationLimit,
		loss:       result.Location.F,
	}, nil
}

// progressRecorder is an optimize.Recorder that reports every major
// iteration to a progress hook, once each.
type progressRecorder struct {
	report func(done, total int)
	total  int
	done   int // iterations reported so far
}

func (r *progressRecorder) Init() error { return nil }

func (r *progressRecorder) Record(_ *optimize.Location, op optimize.Operation, stats *optimize.Stats) error {
	if op == optimize.MajorIteration {
		r.reportUpTo(stats.MajorIterations)
	}
	return nil
}

// reportUpTo reports the iterations after the last one reported, up to
// iterations.
func (r *progressRecorder) reportUpTo(iterations int) {
	for r.done < iterations {
		r.done++
		r.report(r.done, r.total)
	}
}
