package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// ErrInvalidLinearModel is wrapped by the errors of LinearModel.Validate.
var ErrInvalidLinearModel = errors.New("invalid linear model")

// LinearModel is a fitted linear model: a logistic regression, binary or
// multinomial, or a ridge regression. Every feature is first imputed and
// standardised, z = (x − mean) · scale with NaN replaced by the mean, and
// each output's raw score is then z · coefficients + intercept: a logit
// (binary), a class score (multinomial) or the regressed value. Its fields
// are exported so it can be inspected and stored; the prediction methods
// assume it is valid, as FitLinear's result is (see Validate). Features must
// be finite or NaN: an infinite one gives an undefined score.
type LinearModel struct {
	Objective   Objective
	NumFeatures int
	// Means holds each feature's training mean, which replaces a missing
	// value and is subtracted before scaling.
	Means []float32
	// Scales holds each feature's multiplier, 1 / its training standard
	// deviation (1 for a constant feature).
	Scales []float32
	// Coefficients holds one row of NumFeatures weights per output,
	// row-major, applied to the standardised features.
	Coefficients []float32
	// Intercepts holds one intercept per output.
	Intercepts []float32
	// Stats tells how the fit ended.
	Stats LinearFitStats
}

// LinearFitStats tells how FitLinear's fit ended.
type LinearFitStats struct {
	// Iterations counts L-BFGS major iterations; 0 for a ridge regression,
	// which is solved directly.
	Iterations int
	// Converged is true when the gradient fell below Tolerance or the
	// objective stopped decreasing, false when MaxIterations ran out or the
	// line search failed first. A ridge regression always converges.
	Converged bool
	// Loss is the objective at the fit, per row: the mean log loss plus
	// ‖W‖²/(2·C·rows), or the mean squared error plus Alpha·‖w‖²/rows.
	Loss float64
}

// FitLinear fits a linear model of the kind cfg.Objective chooses, on the
// standardised features: a logistic regression with L-BFGS, the same
// optimum as scikit-learn's StandardScaler and LogisticRegression(lbfgs)
// after a mean SimpleImputer; or a ridge regression solved from its normal
// equations, as Ridge (LinearRegression when Alpha is 0; a singular
// problem gets the minimum-norm solution). A classifier's labels must
// include every class. It holds the standardised features as a float64
// matrix, 8 bytes per value, and checks ctx at every optimizer step,
// returning ctx's error if it is cancelled.
func FitLinear(ctx context.Context, cfg LinearConfig, data *Dataset) (*LinearModel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	obj, err := newObjective(cfg.Objective, cfg.NumClasses)
	if err != nil {
		return nil, err
	}
	if err := obj.checkLabels(data.labels); err != nil {
		return nil, err
	}
	numOutputs := obj.numOutputs()
	if cfg.Objective != SquaredError {
		if err := checkEveryClass(data.labels, max(numOutputs, 2)); err != nil {
			return nil, err
		}
	}
	means, scales := fitStandardization(data)
	z := standardize(data, means, scales)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fit linear model: %w", err)
	}

	var params []float64 // the coefficients, row-major, then the intercepts
	var stats LinearFitStats
	if cfg.Objective == SquaredError {
		params, stats, err = fitRidge(z, data.labels, cfg.Alpha)
		if err == nil && cfg.Progress != nil {
			cfg.Progress(1, 1)
		}
	} else {
		params, stats, err = fitDenseLogistic(ctx, z, data.labels, numOutputs, cfg, cfg.ClassWeight.resolve(data.labels, max(numOutputs, 2)))
	}
	if err != nil {
		return nil, err
	}
	m := &LinearModel{
		Objective:    cfg.Objective,
		NumFeatures:  data.numFeatures,
		Means:        toFloat32(means),
		Scales:       toFloat32(scales),
		Coefficients: toFloat32(params[:numOutputs*data.numFeatures]),
		Intercepts:   toFloat32(params[numOutputs*data.numFeatures:]),
		Stats:        stats,
	}
	return m, nil
}

// checkEveryClass checks that every class 0..numClasses-1 has a row: a
// class without one would drive its intercept to −∞.
func checkEveryClass(labels []float64, numClasses int) error {
	seen := make([]bool, numClasses)
	for _, y := range labels {
		seen[int(y)] = true
	}
	for k, ok := range seen {
		if !ok {
			return fmt.Errorf("%w: no row of class %d; a logistic regression needs every class", ErrInvalidData, k)
		}
	}
	return nil
}

// fitStandardization returns each feature's mean over its present values
// and the inverse of its standard deviation after missing values are
// replaced by that mean (scikit-learn's SimpleImputer then StandardScaler).
// A constant feature, or one with no present value, gets a scale of 1.
func fitStandardization(d *Dataset) (means, scales []float64) {
	p := d.numFeatures
	means, scales = make([]float64, p), make([]float64, p)
	counts := make([]int, p)
	for i := range d.NumRows() {
		for f, v := range d.Row(i) {
			if !isNaN(v) {
				means[f] += float64(v)
				counts[f]++
			}
		}
	}
	for f := range means {
		if counts[f] > 0 {
			means[f] /= float64(counts[f])
		}
	}
	for i := range d.NumRows() {
		for f, v := range d.Row(i) {
			if !isNaN(v) {
				dev := float64(v) - means[f]
				scales[f] += dev * dev
			}
		}
	}
	for f, ss := range scales {
		std := math.Sqrt(ss / float64(d.NumRows()))
		// scikit-learn's test for a constant feature, whose deviations are
		// rounding error.
		if std < 10*epsilon64*math.Max(1, math.Abs(means[f])) {
			scales[f] = 1
		} else {
			scales[f] = 1 / std
		}
	}
	return means, scales
}

// epsilon64 is the machine epsilon of float64.
const epsilon64 = 0x1p-52

// standardize returns the rows × features matrix of standardised values;
// a missing value becomes 0, its mean's standardised value.
func standardize(d *Dataset, means, scales []float64) *mat.Dense {
	n, p := d.NumRows(), d.numFeatures
	z := make([]float64, n*p)
	for i := range n {
		row, out := d.Row(i), z[i*p:(i+1)*p]
		for f, v := range row {
			if !isNaN(v) {
				out[f] = (float64(v) - means[f]) * scales[f]
			}
		}
	}
	return mat.NewDense(n, p, z)
}

// ridgeRcond is the relative size below which a singular value of ZᵀZ +
// αI counts as zero: about 1e-6 relative to Z's largest.
const ridgeRcond = 1e-12

// fitRidge solves the ridge regression of y on the standardised, centred
// features z: w = (ZᵀZ + αI)⁺ Zᵀ(y − ȳ), intercept ȳ. The pseudo-inverse,
// through the SVD, gives the minimum-norm solution when ZᵀZ is singular
// and α is 0. It returns the coefficients and then the intercept.
func fitRidge(z *mat.Dense, y []float64, alpha float64) ([]float64, LinearFitStats, error) {
	n, p := z.Dims()
	yMean := mean(y)
	centred := mat.NewVecDense(n, nil)
	for i, v := range y {
		centred.SetVec(i, v-yMean)
	}
	var gram mat.SymDense
	gram.SymOuterK(1, z.T())
	for f := range p {
		gram.SetSym(f, f, gram.At(f, f)+alpha)
	}
	var rhs mat.VecDense
	rhs.MulVec(z.T(), centred)

	var svd mat.SVD
	if !svd.Factorize(&gram, mat.SVDFull) {
		return nil, LinearFitStats{}, errors.New("fit ridge regression: SVD of the normal equations failed")
	}
	w := mat.NewVecDense(p, nil)
	if rank := svd.Rank(ridgeRcond); rank > 0 {
		svd.SolveVecTo(w, &rhs, rank)
	}

	var residual mat.VecDense
	residual.MulVec(z, w)
	residual.SubVec(centred, &residual)
	loss := (mat.Dot(&residual, &residual) + alpha*mat.Dot(w, w)) / float64(n)
	params := append(mat.Col(nil, 0, w), yMean)
	return params, LinearFitStats{Converged: true, Loss: loss}, nil
}

// denseLogistic is the L2-penalised log loss of a logistic regression on
// the standardised features, per row, over parameters [W, b]: W holds one
// row of weights per output, row-major, and b one intercept per output.
// One output is a binary regression (sigmoid); K outputs a multinomial one
// (softmax). With scores S = Z·Wᵀ + b,
//
//	f(W, b) = (1/n) Σᵢ loss(Sᵢ, yᵢ) + ‖W‖² / (2·C·n)
//
// scikit-learn's LogisticRegression objective, scaled by 1/n as it scales
// it, so that Tolerance means the same. It remembers the residuals of the
// last point evaluated, because the optimizer asks for the value and the
// gradient at the same point.
type denseLogistic struct {
	z          *mat.Dense // n × p
	y          []float64
	numOutputs int
	penalty    float64 // 1 / (C·n)
	// classWeights weighs each row's log loss by its class (nil: all 1),
	// scikit-learn's class_weight.
	classWeights []float64
	lastX        []float64
	scores       *mat.Dense // n × numOutputs
	residual     *mat.Dense // n × numOutputs: (probability − indicator) / n
	loss         float64    // the mean log loss at lastX, without the penalty
}

func newDenseLogistic(z *mat.Dense, y []float64, numOutputs int, c float64, classWeights []float64) *denseLogistic {
	n, _ := z.Dims()
	return &denseLogistic{
		z:            z,
		y:            y,
		numOutputs:   numOutputs,
		classWeights: classWeights,
		penalty:      1 / (c * float64(n)),
		scores:       mat.NewDense(n, numOutputs, nil),
		residual:     mat.NewDense(n, numOutputs, nil),
	}
}

// fitDenseLogistic fits the regression with L-BFGS and returns its
// parameters, the weights then the intercepts.
func fitDenseLogistic(ctx context.Context, z *mat.Dense, y []float64, numOutputs int, cfg LinearConfig, classWeights []float64) ([]float64, LinearFitStats, error) {
	_, p := z.Dims()
	o := newDenseLogistic(z, y, numOutputs, cfg.C, classWeights)
	res, err := minimizeLBFGS(ctx, o.value, o.gradient, numOutputs*(p+1), lbfgsSettings{
		maxIterations: cfg.MaxIterations,
		tolerance:     cfg.Tolerance,
		progress:      cfg.Progress,
	})
	if err != nil {
		return nil, LinearFitStats{}, fmt.Errorf("fit logistic regression: %w", err)
	}
	return res.params, LinearFitStats{Iterations: res.iterations, Converged: res.converged, Loss: res.loss}, nil
}

// split returns the weights, as a numOutputs × p matrix sharing params'
// memory, and the intercepts.
func (o *denseLogistic) split(params []float64) (*mat.Dense, []float64) {
	_, p := o.z.Dims()
	n := o.numWeights()
	return mat.NewDense(o.numOutputs, p, params[:n]), params[n:]
}

// evaluate computes the loss and residuals at params unless they are cached.
func (o *denseLogistic) evaluate(params []float64) {
	if o.lastX != nil && slices.Equal(o.lastX, params) {
		return
	}
	o.lastX = append(o.lastX[:0], params...)
	w, b := o.split(o.lastX)
	o.scores.Mul(o.z, w.T())
	n := float64(len(o.y))
	o.loss = 0
	for i, y := range o.y {
		s, r := o.scores.RawRowView(i), o.residual.RawRowView(i)
		for k := range s {
			s[k] += b[k]
		}
		w := rowWeight(o.classWeights, y)
		if o.numOutputs == 1 {
			o.loss += w * (log1pExp(s[0]) - y*s[0])
			r[0] = w * (sigmoid64(s[0]) - y) / n
			continue
		}
		m := s[0]
		for _, v := range s[1:] {
			m = max(m, v)
		}
		var sum float64
		for _, v := range s {
			sum += math.Exp(v - m)
		}
		logSum := m + math.Log(sum)
		o.loss += w * (logSum - s[int(y)])
		for k, v := range s {
			r[k] = w * math.Exp(v-logSum) / n
		}
		r[int(y)] -= w / n
	}
	o.loss /= n
}

// numWeights returns how many of the parameters are weights, which the
// penalty applies to; the intercepts follow them.
func (o *denseLogistic) numWeights() int {
	_, p := o.z.Dims()
	return o.numOutputs * p
}

func (o *denseLogistic) value(params []float64) float64 {
	o.evaluate(params)
	w := params[:o.numWeights()]
	return o.loss + 0.5*o.penalty*dot(w, w)
}

func (o *denseLogistic) gradient(grad, params []float64) {
	o.evaluate(params)
	gw, gb := o.split(grad)
	gw.Mul(o.residual.T(), o.z)
	for j, w := range params[:o.numWeights()] {
		grad[j] += o.penalty * w
	}
	for k := range gb {
		gb[k] = mat.Sum(o.residual.ColView(k))
	}
}

func toFloat32(values []float64) []float32 {
	out := make([]float32, len(values))
	for i, v := range values {
		out[i] = float32(v)
	}
	return out
}
