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
// multinomial, or a ridge regression. Each numeric feature is first imputed
// and standardised, z = (x − mean) · scale with NaN replaced by the mean;
// each categorical feature (Categories) is one-hot encoded over its codes.
// Each output's raw score is then the dot product of these columns with its
// coefficients, plus its intercept: a logit (binary), a class score
// (multinomial) or the regressed value. For a categorical feature that is
// simply the weight of the row's code. Its fields are exported so it can be
// inspected and stored; the prediction methods assume it is valid, as
// FitLinear's result is (see Validate). Numeric features must be finite or
// NaN: an infinite one gives an undefined score. A categorical feature's
// value that is not one of its codes counts as its "other" code,
// Categories[f]-2 (0 for a feature of one code), in Go and in the exported
// graph alike.
type LinearModel struct {
	Objective   Objective
	NumFeatures int
	// Categories holds each feature's number of category codes, 0 for a
	// numeric feature; nil when every feature is numeric. A categorical
	// feature's value is a code from 0 to Categories[f]-1.
	Categories []int
	// Means holds each numeric feature's training mean, which replaces a
	// missing value and is subtracted before scaling; 0 for a categorical
	// feature, whose entry is not used.
	Means []float32
	// Scales holds each numeric feature's multiplier, 1 / its training
	// standard deviation (1 for a constant feature, and for a categorical
	// one, whose entry is not used).
	Scales []float32
	// Coefficients holds one row of NumColumns weights per output,
	// row-major, in the column order of scikit-learn's ColumnTransformer of
	// a StandardScaler over the numeric features and a OneHotEncoder over
	// the categorical ones: a weight for each numeric feature, in feature
	// order, applied to its standardised value; then, for each categorical
	// feature in feature order, one weight per code, the score that code
	// adds. Without categorical features a row is NumFeatures weights, one
	// per feature.
	Coefficients []float32
	// Intercepts holds one intercept per output.
	Intercepts []float32
	// Stats tells how the fit ended.
	Stats LinearFitStats
}

// LinearFitStats tells how FitLinear's fit ended.
type LinearFitStats struct {
	// Iterations counts L-BFGS major iterations, or the conjugate-gradient
	// iterations of a ridge regression wider than ridgeDirectMaxColumns
	// (512) columns; 0 for a ridge regression solved directly.
	Iterations int
	// Converged is true when the gradient fell below Tolerance or the
	// objective stopped decreasing, false when MaxIterations ran out or the
	// line search failed first. A ridge regression solved directly always
	// converges; one solved by conjugate gradients converges when its
	// residual falls below 1e-10 of the normal equations' right-hand side
	// within 2·columns + 100 iterations.
	Converged bool
	// Loss is the objective at the fit, per row: the mean log loss plus
	// ‖W‖²/(2·C·rows), or the mean squared error plus Alpha·‖w‖²/rows.
	Loss float64
}

// FitLinear fits a linear model of the kind cfg.Objective chooses, on the
// standardised numeric features and the one-hot encoded categorical ones
// (Dataset.SetCategorical): a logistic regression with L-BFGS, the same
// optimum as scikit-learn's LogisticRegression(lbfgs) after a
// ColumnTransformer of a mean SimpleImputer and a StandardScaler over the
// numeric features and a OneHotEncoder over every code of the categorical
// ones; or a ridge regression after the same transformer, as Ridge
// (LinearRegression when Alpha is 0; a singular problem gets the
// minimum-norm solution, beyond 512 columns in each categorical block: a
// code never seen in training weighs 0). A ridge regression of at most 512 columns (a
// numeric feature is one column, a categorical feature one per code) is
// solved from its normal equations, a wider one by conjugate gradients. A
// classifier's labels must include every class.
//
// It holds the standardised numeric features as a float64 matrix, 8 bytes
// per value, and each categorical feature as one 4-byte code per row: the
// one-hot columns are never materialised, so a feature of 10,000 codes
// costs what a numeric feature does, plus its weights (10,000 per output).
// L-BFGS keeps about 25 vectors of all the weights, some 200 bytes a
// weight, so a model of more than MaxLinearWeights weights (columns times
// outputs) is refused with ErrInvalidData rather than fitted. It checks ctx at every optimizer step, returning ctx's error if it is
// cancelled.
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
	if _, _, width := linearColumns(data.numFeatures, data.Categories); numOutputs*width > MaxLinearWeights {
		return nil, fmt.Errorf("%w: a linear model of %d columns (numeric features and category codes) and %d outputs has %d weights, more than the %d FitLinear fits; cap the categories",
			ErrInvalidData, width, numOutputs, numOutputs*width, MaxLinearWeights)
	}
	means, scales := fitStandardization(data)
	x := newLinearDesign(data, means, scales)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fit linear model: %w", err)
	}

	var params []float64 // the coefficients, row-major, then the intercepts
	var stats LinearFitStats
	if cfg.Objective == SquaredError {
		params, stats, err = fitRidge(ctx, x, data.labels, cfg.Alpha)
		if err == nil && cfg.Progress != nil {
			cfg.Progress(1, 1)
		}
	} else {
		params, stats, err = fitLinearLogistic(ctx, x, data.labels, numOutputs, cfg, cfg.ClassWeight.resolve(data.labels, max(numOutputs, 2)))
	}
	if err != nil {
		return nil, err
	}
	m := &LinearModel{
		Objective:    cfg.Objective,
		NumFeatures:  data.numFeatures,
		Means:        toFloat32(means),
		Scales:       toFloat32(scales),
		Coefficients: toFloat32(params[:numOutputs*x.width]),
		Intercepts:   toFloat32(params[numOutputs*x.width:]),
		Stats:        stats,
	}
	if len(x.blocks) > 0 {
		m.Categories = make([]int, data.numFeatures)
		for _, b := range x.blocks {
			m.Categories[b.feature] = b.codes
		}
	}
	return m, nil
}

// MaxLinearWeights bounds the weights of a model FitLinear fits, its
// columns (numeric features and category codes) times its outputs: about
// 400 MB of optimizer state. Ten thousand codes of ten classes are 100,000.
const MaxLinearWeights = 1 << 21

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

// fitStandardization returns each numeric feature's mean over its present
// values and the inverse of its standard deviation after missing values are
// replaced by that mean (scikit-learn's SimpleImputer then StandardScaler).
// A constant feature, or one with no present value, gets a scale of 1; a
// categorical feature gets a mean of 0 and a scale of 1, which nothing
// uses.
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
		switch {
		case d.Categories(f) > 0:
			means[f], scales[f] = 0, 1
		// scikit-learn's test for a constant feature, whose deviations are
		// rounding error.
		case std < 10*epsilon64*math.Max(1, math.Abs(means[f])):
			scales[f] = 1
		default:
			scales[f] = 1 / std
		}
	}
	return means, scales
}

// epsilon64 is the machine epsilon of float64.
const epsilon64 = 0x1p-52

// linearLogistic is the L2-penalised log loss of a logistic regression on
// the design matrix X, per row, over parameters [W, b]: W holds one row of
// weights per output, row-major, and b one intercept per output. One
// output is a binary regression (sigmoid); K outputs a multinomial one
// (softmax). With scores S = X·Wᵀ + b,
//
//	f(W, b) = (1/n) Σᵢ loss(Sᵢ, yᵢ) + ‖W‖² / (2·C·n)
//
// scikit-learn's LogisticRegression objective, scaled by 1/n as it scales
// it, so that Tolerance means the same. The one-hot weights are penalised
// like the others, as they are in scikit-learn, which keeps a code seen in
// few rows near 0 and one never seen at 0. It remembers the residuals of
// the last point evaluated, because the optimizer asks for the value and
// the gradient at the same point.
type linearLogistic struct {
	x          *linearDesign
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

func newLinearLogistic(x *linearDesign, y []float64, numOutputs int, c float64, classWeights []float64) *linearLogistic {
	return &linearLogistic{
		x:            x,
		y:            y,
		numOutputs:   numOutputs,
		classWeights: classWeights,
		penalty:      1 / (c * float64(x.n)),
		scores:       mat.NewDense(x.n, numOutputs, nil),
		residual:     mat.NewDense(x.n, numOutputs, nil),
	}
}

// fitLinearLogistic fits the regression with L-BFGS and returns its
// parameters, the weights then the intercepts.
func fitLinearLogistic(ctx context.Context, x *linearDesign, y []float64, numOutputs int, cfg LinearConfig, classWeights []float64) ([]float64, LinearFitStats, error) {
	o := newLinearLogistic(x, y, numOutputs, cfg.C, classWeights)
	res, err := minimizeLBFGS(ctx, o.value, o.gradient, numOutputs*(x.width+1), lbfgsSettings{
		maxIterations: cfg.MaxIterations,
		tolerance:     cfg.Tolerance,
		progress:      cfg.Progress,
	})
	if err != nil {
		return nil, LinearFitStats{}, fmt.Errorf("fit logistic regression: %w", err)
	}
	return res.params, LinearFitStats{Iterations: res.iterations, Converged: res.converged, Loss: res.loss}, nil
}

// split returns the weights, as a numOutputs × width matrix sharing
// params' memory, its numeric columns as a view (nil when there are none),
// and the intercepts.
func (o *linearLogistic) split(params []float64) (w, numeric *mat.Dense, b []float64) {
	n := o.numWeights()
	w = mat.NewDense(o.numOutputs, o.x.width, params[:n])
	if p := o.x.numNumeric(); p > 0 {
		numeric = w.Slice(0, o.numOutputs, 0, p).(*mat.Dense)
	}
	return w, numeric, params[n:]
}

// evaluate computes the loss and residuals at params unless they are cached.
func (o *linearLogistic) evaluate(params []float64) {
	if o.lastX != nil && slices.Equal(o.lastX, params) {
		return
	}
	o.lastX = append(o.lastX[:0], params...)
	_, numeric, b := o.split(o.lastX)
	width := o.x.width
	if numeric != nil {
		o.scores.Mul(o.x.numeric, numeric.T())
	} else {
		o.scores.Zero()
	}
	n := float64(len(o.y))
	o.loss = 0
	for i, y := range o.y {
		s, r := o.scores.RawRowView(i), o.residual.RawRowView(i)
		for k := range s {
			s[k] += b[k]
		}
		if len(o.x.blocks) > 0 {
			for _, c := range o.x.rowColumns(i) {
				for k := range s {
					s[k] += o.lastX[k*width+int(c)]
				}
			}
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
func (o *linearLogistic) numWeights() int { return o.numOutputs * o.x.width }

func (o *linearLogistic) value(params []float64) float64 {
	o.evaluate(params)
	w := params[:o.numWeights()]
	return o.loss + 0.5*o.penalty*dot(w, w)
}

// gradient writes Rᵀ·X plus the penalty's gradient, then each output's sum
// of residuals, into grad: the numeric columns as a matrix product, each
// one-hot column as the sum of the residuals of the rows with its code.
func (o *linearLogistic) gradient(grad, params []float64) {
	o.evaluate(params)
	gw, gNumeric, gb := o.split(grad)
	gw.Zero()
	if gNumeric != nil {
		gNumeric.Mul(o.residual.T(), o.x.numeric)
	}
	if len(o.x.blocks) > 0 {
		width := o.x.width
		for i := range o.y {
			r := o.residual.RawRowView(i)
			for _, c := range o.x.rowColumns(i) {
				for k, v := range r {
					grad[k*width+int(c)] += v
				}
			}
		}
	}
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
