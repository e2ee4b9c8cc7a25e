package train

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// ridgeDirectMaxColumns is the widest design matrix whose ridge regression
// is solved directly, from the SVD of its Gram matrix: 8·512² bytes (2 MiB)
// and about a second of SVD (gonum's takes 1.2 s at 512 columns, 10 s at
// 1,024 and 100 s at 2,048). A wider one, which one-hot blocks quickly
// make, is solved by conjugate gradients, whose memory grows with the
// columns, not their square.
const ridgeDirectMaxColumns = 512

// ridgeRcond is the relative size below which a singular value of XcᵀXc +
// αI counts as zero: about 1e-6 relative to Xc's largest.
const ridgeRcond = 1e-12

// ridgeCGTolerance stops the conjugate gradients once the residual of the
// normal equations is this small relative to their right-hand side: the
// weights are then as good as the direct solution's, to a few digits
// beyond float32.
const ridgeCGTolerance = 1e-10

// fitRidge solves the ridge regression of y on the design matrix x with an
// intercept, as scikit-learn's Ridge does: with Xc the columns of x centred
// and yc the labels centred, w = (XcᵀXc + αI)⁺ Xcᵀyc, and the intercept is
// ȳ − mean(X)·w. The numeric columns are standardised, hence centred
// already; the one-hot columns are not, and centring them here is what
// lets their weights be the scores of the codes. A design of at most
// ridgeDirectMaxColumns columns is solved through the SVD, whose
// pseudo-inverse gives the minimum-norm solution when XcᵀXc is singular and
// α is 0 (it always is with a categorical feature: the centred columns of
// a block sum to zero); a wider one by solveRidgeCG. It returns the
// coefficients and then the intercept.
func fitRidge(ctx context.Context, x *linearDesign, y []float64, alpha float64) ([]float64, LinearFitStats, error) {
	n, p := x.n, x.width
	yMean := mean(y)
	centred := make([]float64, n)
	for i, v := range y {
		centred[i] = v - yMean
	}
	sums, squares := x.columnSums()
	colMeans := make([]float64, p)
	for j, s := range sums {
		colMeans[j] = s / float64(n)
	}
	// Xcᵀyc = Xᵀyc − mean(X)·Σyc; Σyc is 0 but for rounding.
	rhs := make([]float64, p)
	x.mulTransVec(rhs, centred)
	ySum := sum64(centred)
	for j := range rhs {
		rhs[j] -= colMeans[j] * ySum
	}

	var w []float64
	stats := LinearFitStats{Converged: true}
	if p <= ridgeDirectMaxColumns {
		var err error
		if w, err = solveRidgeDirect(x, colMeans, alpha, rhs); err != nil {
			return nil, LinearFitStats{}, err
		}
	} else {
		diagonal := make([]float64, p)
		for j := range diagonal {
			diagonal[j] = squares[j] - float64(n)*colMeans[j]*colMeans[j] + alpha
		}
		var err error
		w, stats.Iterations, stats.Converged, err = solveRidgeCG(ctx, x, colMeans, alpha, rhs, diagonal)
		if err != nil {
			return nil, LinearFitStats{}, fmt.Errorf("fit ridge regression: %w", err)
		}
	}
	centreBlocks(x, sums, w)

	intercept := yMean - dot(colMeans, w)
	fitted := make([]float64, n)
	x.mulVec(fitted, w)
	var rss float64
	for i, v := range y {
		r := v - fitted[i] - intercept
		rss += r * r
	}
	stats.Loss = (rss + alpha*dot(w, w)) / float64(n)
	return append(w, intercept), stats, nil
}

// solveRidgeDirect solves (XcᵀXc + αI) w = rhs through the SVD of the
// matrix, with the minimum-norm solution when it is singular.
func solveRidgeDirect(x *linearDesign, colMeans []float64, alpha float64, rhs []float64) ([]float64, error) {
	p, n := x.width, float64(x.n)
	gram := x.gram()
	for a := range p {
		for b := a; b < p; b++ {
			v := gram.At(a, b) - n*colMeans[a]*colMeans[b]
			if a == b {
				v += alpha
			}
			gram.SetSym(a, b, v)
		}
	}
	var svd mat.SVD
	if !svd.Factorize(gram, mat.SVDFull) {
		return nil, errors.New("fit ridge regression: SVD of the normal equations failed")
	}
	w := mat.NewVecDense(p, nil)
	if rank := svd.Rank(ridgeRcond); rank > 0 {
		svd.SolveVecTo(w, mat.NewVecDense(p, rhs), rank)
	}
	return w.RawVector().Data, nil
}

// solveRidgeCG solves (XcᵀXc + αI) w = rhs by conjugate gradients from w =
// 0, preconditioned by the matrix's diagonal (Jacobi): a one-hot block's
// part of XcᵀXc is nearly diagonal, so few iterations are needed, each one
// two passes over x. It stops once the residual is below ridgeCGTolerance
// relative to rhs, or after 2·width + 100 iterations, reporting whether it
// converged; it checks ctx at every iteration. A singular system (α 0) is
// consistent, and conjugate gradients reach one of its solutions.
func solveRidgeCG(ctx context.Context, x *linearDesign, colMeans []float64, alpha float64, rhs, diagonal []float64) (w []float64, iterations int, converged bool, err error) {
	p := x.width
	// apply writes (XcᵀXc + αI)·v into dst, through Xc·v = X·v − (mean·v)·1
	// and Xcᵀ·u = Xᵀ·u − mean·Σu.
	fitted := make([]float64, x.n)
	apply := func(dst, v []float64) {
		x.mulVec(fitted, v)
		shift := dot(colMeans, v)
		for i := range fitted {
			fitted[i] -= shift
		}
		x.mulTransVec(dst, fitted)
		total := sum64(fitted)
		for j := range dst {
			dst[j] += alpha*v[j] - colMeans[j]*total
		}
	}
	inverse := make([]float64, p) // the preconditioner
	for j, d := range diagonal {
		if d > 0 {
			inverse[j] = 1 / d
		} else {
			inverse[j] = 1 // an all-zero column: its residual stays 0
		}
	}
	w = make([]float64, p)
	r := append([]float64(nil), rhs...)
	z := make([]float64, p)
	for j := range z {
		z[j] = inverse[j] * r[j]
	}
	dir := append([]float64(nil), z...)
	product := make([]float64, p)
	rz := dot(r, z)
	stop := ridgeCGTolerance * math.Sqrt(dot(rhs, rhs))
	maxIterations := 2*p + 100
	for iterations = 0; iterations < maxIterations; iterations++ {
		if math.Sqrt(dot(r, r)) <= stop {
			return w, iterations, true, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, iterations, false, err
		}
		apply(product, dir)
		curvature := dot(dir, product)
		if !(curvature > 0) {
			break // rounding has exhausted the directions
		}
		step := rz / curvature
		for j := range w {
			w[j] += step * dir[j]
			r[j] -= step * product[j]
			z[j] = inverse[j] * r[j]
		}
		next := dot(r, z)
		beta := next / rz
		rz = next
		for j := range dir {
			dir[j] = z[j] + beta*dir[j]
		}
	}
	return w, iterations, math.Sqrt(dot(r, r)) <= stop, nil
}

// centreBlocks moves each categorical block's weights to the minimum-norm
// solution of the normal equations, the one the SVD gives: the weights of
// the codes seen in training sum to zero, and a code never seen gets 0.
// Adding a constant to a block's seen codes does not change Xc·w (their
// centred columns sum to zero), so the fitted values and, through the
// intercept, every prediction of a seen code stay as they were; what it
// fixes is the score of an unseen code, the intercept alone. The SVD's
// solution, and with α > 0 any solution, satisfies this already, but for
// rounding: an unseen code's weight would be 1e-15 rather than 0.
func centreBlocks(x *linearDesign, counts, w []float64) {
	for _, b := range x.blocks {
		block, seen := w[b.start:b.start+b.codes], counts[b.start:b.start+b.codes]
		var total float64
		var numSeen int
		for c, v := range block {
			if seen[c] > 0 {
				total += v
				numSeen++
			}
		}
		for c := range block {
			if seen[c] > 0 {
				block[c] -= total / float64(numSeen)
			} else {
				block[c] = 0
			}
		}
	}
}

func sum64(values []float64) float64 {
	var s float64
	for _, v := range values {
		s += v
	}
	return s
}
