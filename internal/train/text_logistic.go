package train

import (
	"context"
	"fmt"
	"math"
	"slices"
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
	x    *csrMatrix
	y    []float64
	invC float64
	// classWeights weighs each row's log loss by its class (nil: all 1),
	// scikit-learn's class_weight.
	classWeights []float64
	lastX        []float64
	residual     []float64
	loss         float64 // the weighted log loss sum at lastX, without the penalty
}

func newLogisticObjective(x *csrMatrix, y []float64, c float64, classWeights []float64) *logisticObjective {
	return &logisticObjective{x: x, y: y, invC: 1 / c, classWeights: classWeights, residual: make([]float64, len(y))}
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
		w := rowWeight(o.classWeights, y)
		o.loss += w * (log1pExp(z) - y*z)
		o.residual[i] = w * (sigmoid64(z) - y)
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
	obj := newLogisticObjective(x, y, cfg.C, cfg.ClassWeight.resolve(y, 2))
	res, err := minimizeLBFGS(ctx, obj.value, obj.gradient, x.numCols+1, lbfgsSettings{
		maxIterations: cfg.MaxIterations,
		tolerance:     cfg.Tolerance,
		progress:      cfg.Progress,
	})
	if err != nil {
		return nil, 0, stats, fmt.Errorf("fit logistic regression: %w", err)
	}
	stats = TextFitStats{Iterations: res.iterations, Converged: res.converged, Loss: res.loss}
	return res.params[:x.numCols], res.params[x.numCols], stats, nil
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
