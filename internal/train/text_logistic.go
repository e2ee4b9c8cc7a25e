package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/optimize"
)

// csrMatrix is a sparse matrix in compressed sparse row form: row i holds
// the values vals[rowStart[i]:rowStart[i+1]] in columns cols[...].
type csrMatrix struct {
	rowStart []int
	cols     []int32
	vals     []float64
	numCols  int
}

func (m *csrMatrix) numRows() int { return len(m.rowStart) - 1 }

func (m *csrMatrix) appendRow(v sparseVector) {
	if len(m.rowStart) == 0 {
		m.rowStart = append(m.rowStart, 0)
	}
	m.cols = append(m.cols, v.idx...)
	m.vals = append(m.vals, v.val...)
	m.rowStart = append(m.rowStart, len(m.cols))
}

// TextFitStats tells how the logistic regression fit ended.
type TextFitStats struct {
	Iterations int // L-BFGS major iterations
	// Converged is true when the gradient fell below Tolerance or the
	// objective stopped decreasing, false when MaxIterations ran out or the
	// line search failed first.
	Converged bool
	Loss      float64 // final objective: log loss sum plus the L2 penalty
}

// logisticObjective is the L2-penalised log loss of a binary logistic
// regression on a sparse matrix, over parameters [w..., b]:
//
//	f(w, b) = Σᵢ log(1 + exp(zᵢ)) − yᵢ zᵢ + ‖w‖²/(2C),  zᵢ = xᵢ·w + b
//
// It remembers the residuals σ(zᵢ) − yᵢ of the last point evaluated, because
// the optimizer asks for the value and the gradient at the same point.
type logisticObjective struct {
	x        *csrMatrix
	y        []float64
	invC     float64
	lastX    []float64
	residual []float64
	loss     float64 // the log loss sum at lastX, without the penalty
}

func newLogisticObjective(x *csrMatrix, y []float64, c float64) *logisticObjective {
	return &logisticObjective{x: x, y: y, invC: 1 / c, residual: make([]float64, len(y))}
}

// evaluate computes the loss and residuals at params unless they are cached.
func (o *logisticObjective) evaluate(params []float64) {
	if o.lastX != nil && slices.Equal(o.lastX, params) {
		return
	}
	o.lastX = append(o.lastX[:0], params...)
	w, b := params[:o.x.numCols], params[o.x.numCols]
	o.loss = 0
	for i, y := range o.y {
		z := b
		for k := o.x.rowStart[i]; k < o.x.rowStart[i+1]; k++ {
			z += o.x.vals[k] * w[o.x.cols[k]]
		}
		o.loss += log1pExp(z) - y*z
		o.residual[i] = sigmoid64(z) - y
	}
}

func (o *logisticObjective) value(params []float64) float64 {
	o.evaluate(params)
	w := params[:o.x.numCols]
	return o.loss + 0.5*o.invC*dot(w, w)
}

func (o *logisticObjective) gradient(grad, params []float64) {
	o.evaluate(params)
	n := o.x.numCols
	for j, w := range params[:n] {
		grad[j] = o.invC * w
	}
	grad[n] = 0
	for i, r := range o.residual {
		for k := o.x.rowStart[i]; k < o.x.rowStart[i+1]; k++ {
			grad[o.x.cols[k]] += r * o.x.vals[k]
		}
		grad[n] += r
	}
}

// fitLogistic fits the regression with L-BFGS from all-zero parameters, so
// the same data always gives the same model. It returns the coefficients
// and the intercept. Running out of iterations is not an error: the stats
// say so, as scikit-learn's ConvergenceWarning does.
func fitLogistic(ctx context.Context, x *csrMatrix, y []float64, cfg TextConfig) (coef []float64, intercept float64, stats TextFitStats, err error) {
	obj := newLogisticObjective(x, y, cfg.C)
	problem := optimize.Problem{
		Func: obj.value,
		Grad: obj.gradient,
		Status: func() (optimize.Status, error) {
			if err := ctx.Err(); err != nil {
				return optimize.Failure, err
			}
			return optimize.NotTerminated, nil
		},
	}
	settings := &optimize.Settings{
		GradientThreshold: cfg.Tolerance,
		MajorIterations:   cfg.MaxIterations,
		// A fallback for when rounding stops progress before the gradient
		// threshold is reached: five iterations without a relative decrease
		// of 1e-13.
		Converger: &optimize.FunctionConverge{Relative: 1e-13, Iterations: 5},
	}
	progress := &progressRecorder{report: cfg.Progress, total: cfg.MaxIterations}
	if cfg.Progress != nil {
		settings.Recorder = progress
	}
	// Memory of 10 pairs and a More-Thuente line search, like scipy's
	// L-BFGS-B, which scikit-learn uses.
	method := &optimize.LBFGS{Store: 10, Linesearcher: &optimize.MoreThuente{}}
	result, err := optimize.Minimize(problem, make([]float64, x.numCols+1), settings, method)
	// A line search that cannot find a lower point has hit the limit of
	// floating point: the best point so far is the answer, as scipy returns
	// it after ABNORMAL_TERMINATION_IN_LNSRCH.
	stalled := errors.Is(err, optimize.ErrLinesearcherFailure) || errors.Is(err, optimize.ErrNoProgress)
	switch {
	case ctx.Err() != nil:
		return nil, 0, stats, fmt.Errorf("fit logistic regression: %w", ctx.Err())
	case err != nil && !stalled:
		return nil, 0, stats, fmt.Errorf("fit logistic regression: %w", err)
	case stalled && math.IsInf(result.Location.F, 1):
		return nil, 0, stats, fmt.Errorf("fit logistic regression: stalled before its first iteration: %w", err)
	}
	if cfg.Progress != nil {
		// The optimizer does not record the iteration that ends the fit.
		progress.reportUpTo(result.Stats.MajorIterations)
	}
	params := result.Location.X
	stats = TextFitStats{
		Iterations: result.Stats.MajorIterations,
		Converged:  !stalled && result.Status != optimize.IterationLimit,
		Loss:       result.Location.F,
	}
	return params[:x.numCols], params[x.numCols], stats, nil
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

// log1pExp returns log(1 + exp(z)) without overflow.
func log1pExp(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}

// sigmoid64 returns 1 / (1 + exp(-z)) without overflow.
func sigmoid64(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}
