package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// The categorical features of linearCategoricalData: the column of each and its
// number of codes, laid out as the trainer lays out a feature's codes (one
// per category, then "other", then "null").
const (
	linearSmallFeature = 1 // 5 categories
	linearSmallCodes   = 7
	linearMidFeature   = 4 // 28 categories
	linearMidCodes     = 30
	linearWideFeature  = 6 // present when linearCategoricalData is asked for wide codes
)

// linearCategoricalData returns n rows of a problem that is linear in the
// standardised numeric features and the one-hot categorical ones, so that
// a linear model is the right model: columns numeric, categorical (7
// codes), numeric (about 5% missing), numeric, categorical (30 codes),
// numeric noise, and with wideCodes > 0 a categorical feature of that many
// codes. Codes are drawn from a Zipf law, the most frequent first, as
// categories are, so the wide feature has many rare codes and codes never
// seen in training. Each code's effect is drawn once from a fixed seed, the
// same for every seed of rows, so that a training and a test set share
// them. Binary labels are drawn from sigmoid(signal), multiclass ones from
// a softmax of two such signals and 0, regression labels are the signal
// plus Gaussian noise.
func linearCategoricalData(t testing.TB, obj Objective, n int, seed uint64, wideCodes int) *Dataset {
	t.Helper()
	effects := rand.New(rand.NewPCG(0xcafe, 13))
	effectsOf := func(codes int) [2][]float64 {
		var e [2][]float64
		for k := range e {
			e[k] = make([]float64, codes)
			for c := range e[k] {
				e[k][c] = 0.8 * effects.NormFloat64()
			}
		}
		return e
	}
	small, mid := effectsOf(linearSmallCodes), effectsOf(linearMidCodes)
	var wide [2][]float64
	numFeatures := 6
	if wideCodes > 0 {
		wide = effectsOf(wideCodes)
		numFeatures = 7
	}

	rng := rand.New(rand.NewPCG(seed, 0xca7))
	zipf := func(codes int) *rand.Zipf { return rand.NewZipf(rng, 1.2, 2, uint64(codes-1)) }
	smallCodes, midCodes := zipf(linearSmallCodes), zipf(linearMidCodes)
	var wideZipf *rand.Zipf
	if wideCodes > 0 {
		wideZipf = zipf(wideCodes)
	}
	features := make([]float32, 0, n*numFeatures)
	labels := make([]float64, n)
	for i := range labels {
		x := []float32{
			float32(rng.NormFloat64()),
			float32(smallCodes.Uint64()),
			float32(2 + 3*rng.NormFloat64()),
			float32(rng.Float64()),
			float32(midCodes.Uint64()),
			float32(rng.NormFloat64()),
		}
		if rng.Float64() < 0.05 {
			x[2] = float32(math.NaN())
		}
		var signals [2]float64
		for k := range signals {
			x2 := float64(x[2])
			if math.IsNaN(x2) {
				x2 = 2
			}
			signals[k] = small[k][int(x[1])] + mid[k][int(x[4])] - 0.3
			if k == 0 {
				signals[k] += 0.9*float64(x[0]) - 0.25*x2 + 1.5*float64(x[3])
			} else {
				signals[k] += -0.6*float64(x[0]) + 0.2*x2
			}
		}
		if wideCodes > 0 {
			code := wideZipf.Uint64()
			x = append(x, float32(code))
			signals[0] += wide[0][code]
			signals[1] += wide[1][code]
		}
		features = append(features, x...)
		switch obj {
		case BinaryLogLoss:
			if rng.Float64() < 1/(1+math.Exp(-signals[0])) {
				labels[i] = 1
			}
		case SquaredError:
			labels[i] = signals[0] + 0.5*rng.NormFloat64()
		case MulticlassLogLoss:
			labels[i] = drawClass(rng, []float64{0, signals[0], signals[1]})
		}
	}
	d, err := NewDataset(features, numFeatures, labels)
	if err != nil {
		t.Fatal(err)
	}
	categorical := [][2]int{{linearSmallFeature, linearSmallCodes}, {linearMidFeature, linearMidCodes}}
	if wideCodes > 0 {
		categorical = append(categorical, [2]int{linearWideFeature, wideCodes})
	}
	for _, c := range categorical {
		if err := d.SetCategorical(c[0], c[1]); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// TestLinearColumns checks the column layout: numeric features first, in
// order, then a block per categorical feature.
func TestLinearColumns(t *testing.T) {
	categories := []int{0, 7, 0, 0, 3, 0}
	numeric, blocks, width := linearColumns(len(categories), func(f int) int { return categories[f] })
	if want := []int{0, 2, 3, 5}; !slices.Equal(numeric, want) {
		t.Errorf("numeric features %v, want %v", numeric, want)
	}
	if want := []categoryBlock{{feature: 1, start: 4, codes: 7}, {feature: 4, start: 11, codes: 3}}; !slices.Equal(blocks, want) {
		t.Errorf("blocks %v, want %v", blocks, want)
	}
	if width != 14 {
		t.Errorf("width %d, want 14", width)
	}
}

func TestCategoryCode(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	tests := []struct {
		v     float32
		codes int
		want  int
	}{
		{0, 7, 0},
		{6, 7, 6},
		{float32(math.Copysign(0, -1)), 7, 0},
		{7, 7, 5}, // one past the last code: the other code, codes-2
		{-1, 7, 5},
		{2.5, 7, 5},
		{1e30, 7, 5},
		{nan, 7, 5},
		{inf, 7, 5},
		{-inf, 7, 5},
		{0, 1, 0},
		{3, 1, 0}, // a feature of one code has no other code but that one
		{1, 2, 1},
		{2, 2, 0},
		{65535, MaxCategoryCodes, 65535},
		{65536, MaxCategoryCodes, 65534},
	}
	for _, tt := range tests {
		if got := categoryCode(tt.v, tt.codes); got != tt.want {
			t.Errorf("categoryCode(%v, %d) = %d, want %d", tt.v, tt.codes, got, tt.want)
		}
	}
}

// TestLinearLogisticMatchesOneHotMatrix checks the logistic objective on
// codes against the same objective on the one-hot columns written out: the
// same value and gradient at a random point, for each kind of regression.
func TestLinearLogisticMatchesOneHotMatrix(t *testing.T) {
	for _, obj := range []Objective{BinaryLogLoss, MulticlassLogLoss} {
		t.Run(obj.String(), func(t *testing.T) {
			data := linearCategoricalData(t, obj, 500, 70, 40)
			means, scales := fitStandardization(data)
			x := newLinearDesign(data, means, scales)
			numOutputs := linearConfigFor(obj).NumClasses
			if obj == BinaryLogLoss {
				numOutputs = 1
			}
			codes := newLinearLogistic(x, data.labels, numOutputs, 0.5, nil)
			dense := newLinearLogistic(numericDesign(denseDesign(x)), data.labels, numOutputs, 0.5, nil)
			rng := rand.New(rand.NewPCG(70, 1))
			params := make([]float64, numOutputs*(x.width+1))
			for j := range params {
				params[j] = rng.NormFloat64()
			}
			if a, b := codes.value(params), dense.value(params); math.Abs(a-b) > 1e-12*math.Abs(b) {
				t.Errorf("value %v on codes, %v on the one-hot matrix", a, b)
			}
			ga, gb := make([]float64, len(params)), make([]float64, len(params))
			codes.gradient(ga, params)
			dense.gradient(gb, params)
			for j := range ga {
				if math.Abs(ga[j]-gb[j]) > 1e-12*(1+math.Abs(gb[j])) {
					t.Fatalf("gradient %d: %v on codes, %v on the one-hot matrix", j, ga[j], gb[j])
				}
			}
		})
	}
}

// TestRidgeSolversAgree checks the conjugate gradients of a wide ridge
// regression against the direct solution on the same design, with and
// without a penalty: the same weights, the minimum-norm ones when the
// problem is singular (least squares with one-hot blocks always is), and
// a code never seen in training weighted 0.
func TestRidgeSolversAgree(t *testing.T) {
	data := linearCategoricalData(t, SquaredError, 2000, 71, 200)
	unseen := make([]bool, 200)
	for c := range unseen {
		unseen[c] = true
	}
	for i := range data.NumRows() {
		unseen[int(data.Row(i)[linearWideFeature])] = false
	}
	if !slices.Contains(unseen, true) {
		t.Fatal("every code of the wide feature is in the training rows; the test needs an unseen one")
	}
	means, scales := fitStandardization(data)
	x := newLinearDesign(data, means, scales)
	for _, alpha := range []float64{1, 0} {
		t.Run(map[bool]string{true: "ridge", false: "least squares"}[alpha > 0], func(t *testing.T) {
			direct, _, err := fitRidge(context.Background(), x, data.labels, alpha)
			if err != nil {
				t.Fatal(err)
			}
			sums, squares := x.columnSums()
			colMeans, diagonal := make([]float64, x.width), make([]float64, x.width)
			n := float64(x.n)
			for j := range colMeans {
				colMeans[j] = sums[j] / n
				diagonal[j] = squares[j] - n*colMeans[j]*colMeans[j] + alpha
			}
			centred := make([]float64, x.n)
			yMean := mean(data.labels)
			for i, y := range data.labels {
				centred[i] = y - yMean
			}
			rhs := make([]float64, x.width)
			x.mulTransVec(rhs, centred)
			cg, iterations, converged, err := solveRidgeCG(context.Background(), x, colMeans, alpha, rhs, diagonal)
			if err != nil || !converged {
				t.Fatalf("solveRidgeCG: converged %v after %d iterations, error %v", converged, iterations, err)
			}
			centreBlocks(x, sums, cg)
			t.Logf("%d columns, %d iterations", x.width, iterations)
			for j, w := range cg {
				if math.Abs(w-direct[j]) > 1e-6*(1+math.Abs(direct[j])) {
					t.Errorf("weight %d: %v by conjugate gradients, %v directly", j, w, direct[j])
				}
			}
			start := x.blocks[len(x.blocks)-1].start
			for c, ok := range unseen {
				if ok && (direct[start+c] != 0 || cg[start+c] != 0) {
					t.Errorf("unseen code %d weighted %v directly, %v by conjugate gradients; want 0", c, direct[start+c], cg[start+c])
				}
			}
		})
	}
}

// TestFitLinearWideCategoryMemory checks that a categorical feature of
// 10,000 codes is not one-hot encoded into a matrix: fitting 20,000 rows,
// whose one-hot matrix alone would take 1.6 GB, allocates a small fraction
// of that.
func TestFitLinearWideCategoryMemory(t *testing.T) {
	const rows, codes = 20_000, 10_000
	oneHotBytes := float64(rows) * codes * 8
	for _, obj := range linearObjectives {
		t.Run(obj.String(), func(t *testing.T) {
			data := linearCategoricalData(t, obj, rows, 72, codes)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			m := fitLinearForTest(t, linearConfigFor(obj), data)
			runtime.ReadMemStats(&after)
			allocated := float64(after.TotalAlloc - before.TotalAlloc)
			t.Logf("allocated %.1f MB in all, %d columns, %+v", allocated/1e6, m.NumColumns(), m.Stats)
			if allocated > oneHotBytes/20 {
				t.Errorf("fit allocated %.0f MB, want well under the %.0f MB of a one-hot matrix", allocated/1e6, oneHotBytes/1e6)
			}
		})
	}
}

// TestLinearCategoricalModel checks what FitLinear records of categorical
// features: their codes, a mean of 0 and a scale of 1, and one weight per
// code, in the ColumnTransformer's column order.
func TestLinearCategoricalModel(t *testing.T) {
	data := linearCategoricalData(t, MulticlassLogLoss, 1000, 73, 0)
	m := fitLinearForTest(t, linearConfigFor(MulticlassLogLoss), data)
	if want := []int{0, linearSmallCodes, 0, 0, linearMidCodes, 0}; !slices.Equal(m.Categories, want) {
		t.Errorf("Categories = %v, want %v", m.Categories, want)
	}
	for _, f := range []int{linearSmallFeature, linearMidFeature} {
		if m.Means[f] != 0 || m.Scales[f] != 1 {
			t.Errorf("feature %d: mean %v, scale %v; want 0 and 1", f, m.Means[f], m.Scales[f])
		}
	}
	width := 4 + linearSmallCodes + linearMidCodes
	if m.NumColumns() != width || len(m.Coefficients) != syntheticClasses*width {
		t.Errorf("NumColumns %d and %d coefficients, want %d columns of %d classes", m.NumColumns(), len(m.Coefficients), width, syntheticClasses)
	}
	numeric := fitLinearForTest(t, linearConfigFor(MulticlassLogLoss), syntheticData(t, MulticlassLogLoss, 300, 73))
	if numeric.Categories != nil || numeric.NumColumns() != numeric.NumFeatures {
		t.Errorf("numeric model: Categories %v and %d columns, want nil and %d", numeric.Categories, numeric.NumColumns(), numeric.NumFeatures)
	}
}

// TestLinearCategoricalPredictsCodeWeights checks that a categorical
// feature adds its code's weight to the score: two rows that differ only in
// that feature's code differ by the difference of the two weights.
func TestLinearCategoricalPredictsCodeWeights(t *testing.T) {
	m := fitLinearForTest(t, linearConfigFor(SquaredError), linearCategoricalData(t, SquaredError, 2000, 74, 0))
	row := []float32{0.3, 2, 1, 0.5, 0, -1}
	base, err := m.Predict(row)
	if err != nil {
		t.Fatal(err)
	}
	start := 4 + linearSmallCodes // the mid feature's block
	for code := range linearMidCodes {
		row[linearMidFeature] = float32(code)
		got, _ := m.Predict(row)
		want := float64(base) + float64(m.Coefficients[start+code]) - float64(m.Coefficients[start])
		if math.Abs(float64(got)-want) > 1e-5*(1+math.Abs(want)) {
			t.Errorf("code %d: predicted %v, want %v", code, got, want)
		}
	}
}

// linearNonCodes are values a categorical feature of codes codes can be
// given that are not codes; each counts as the other code, codes-2.
func linearNonCodes(codes int) []float32 {
	return []float32{-1, float32(codes), float32(codes + 5), 2.5, float32(codes) - 0.5, 1e30, -1e30,
		float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1))}
}

// TestLinearUnseenCodeCountsAsOther checks the documented rule for a
// categorical value that is not a code: Go scores it as the feature's
// other code, codes-2, and so does ONNX Runtime, without an error; -0 is
// code 0.
func TestLinearUnseenCodeCountsAsOther(t *testing.T) {
	for _, obj := range linearObjectives {
		t.Run(obj.String(), func(t *testing.T) {
			m := fitLinearForTest(t, linearConfigFor(obj), linearCategoricalData(t, obj, 2000, 75, 0))
			base := []float32{0.3, 1, 1, 0.5, 3, -1}
			var rows, want []float32 // want: the same rows with the code Go should use
			for _, f := range []int{linearSmallFeature, linearMidFeature} {
				codes := m.Categories[f]
				for _, v := range linearNonCodes(codes) {
					row, expected := slices.Clone(base), slices.Clone(base)
					row[f] = v
					expected[f] = float32(codes - 2)
					if v == 0 { // -0
						expected[f] = 0
					}
					rows, want = append(rows, row...), append(want, expected...)
				}
			}
			n := len(rows) / m.NumFeatures
			got, expected := linearOutputs(t, m, rows), linearOutputs(t, m, want)
			if !slices.Equal(got, expected) {
				t.Errorf("Go scores of values that are not codes %v, of the other code %v", got, expected)
			}
			ortm := newORTModel(t, m, m.NumFeatures, n)
			ortm.run(t, rows)
			if m.NumClasses() > 0 {
				compareClassifier(t, m, m.NumFeatures, ortm, rows, linearLabelMargin)
			} else {
				compareRegressor(t, m, m.NumFeatures, ortm, rows, linearRelTolerance)
			}
		})
	}
}

// linearOutputs returns the probabilities of a classifier or the values of
// a regressor for rows.
func linearOutputs(t *testing.T, m *LinearModel, rows []float32) []float32 {
	t.Helper()
	n := len(rows) / m.NumFeatures
	if k := m.NumClasses(); k > 0 {
		out := make([]float32, n*k)
		if err := m.PredictProbaBatch(rows, out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := make([]float32, n)
	if err := m.PredictBatch(rows, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLinearCategoricalONNXMatchesGoPredictions checks ONNX Runtime
// against Go on every code of every categorical feature, the wide one
// included, with missing numeric values, and on a model whose features are
// all categorical.
func TestLinearCategoricalONNXMatchesGoPredictions(t *testing.T) {
	const batch = 512
	for _, obj := range linearObjectives {
		for _, allCategorical := range []bool{false, true} {
			name := obj.String()
			if allCategorical {
				name += "/all categorical"
			}
			t.Run(name, func(t *testing.T) {
				data := linearCategoricalData(t, obj, 5000, 76, 3000)
				if allCategorical {
					data = linearCategoricalOnly(t, data)
				}
				m := fitLinearForTest(t, linearConfigFor(obj), data)
				f := m.NumFeatures
				ortm := newORTModel(t, m, f, batch)
				rows := linearCategoricalData(t, obj, 8*batch, 77, 3000)
				if allCategorical {
					rows = linearCategoricalOnly(t, rows)
				}
				features := rows.features
				// Sweep every code of every categorical feature, one feature
				// per row in turn, so each code is scored at least once.
				for j, codes := range m.Categories {
					for c := range codes {
						features[(c*len(m.Categories)+j)%(len(features)/f)*f+j] = float32(c)
					}
				}
				for i := range features {
					if i%f == 2 && i%11 == 2 && m.Categories[2] == 0 {
						features[i] = float32(math.NaN())
					}
				}
				for b := range len(features) / (batch * f) {
					chunk := features[b*batch*f : (b+1)*batch*f]
					ortm.run(t, chunk)
					if m.NumClasses() > 0 {
						compareClassifier(t, m, f, ortm, chunk, linearLabelMargin)
					} else {
						compareRegressor(t, m, f, ortm, chunk, linearRelTolerance)
					}
				}
			})
		}
	}
}

// linearCategoricalOnly returns d's categorical columns alone.
func linearCategoricalOnly(t *testing.T, d *Dataset) *Dataset {
	t.Helper()
	var columns []int
	for f := range d.NumFeatures() {
		if d.Categories(f) > 0 {
			columns = append(columns, f)
		}
	}
	features := make([]float32, 0, d.NumRows()*len(columns))
	for i := range d.NumRows() {
		for _, f := range columns {
			features = append(features, d.value(i, f))
		}
	}
	out, err := NewDataset(features, len(columns), d.labels)
	if err != nil {
		t.Fatal(err)
	}
	for j, f := range columns {
		if err := out.SetCategorical(j, d.Categories(f)); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestLinearModelValidateCategories(t *testing.T) {
	valid := func() *LinearModel {
		return &LinearModel{
			Objective: BinaryLogLoss, NumFeatures: 3, Categories: []int{0, 3, 0},
			Means: []float32{0, 0, 1}, Scales: []float32{1, 1, 2},
			Coefficients: []float32{1, 2, 3, 4, 5}, Intercepts: []float32{0},
		}
	}
	tests := []struct {
		name        string
		mutate      func(m *LinearModel)
		errContains string // empty: valid
	}{
		{"valid", func(*LinearModel) {}, ""},
		{"all numeric as zeros", func(m *LinearModel) { m.Categories, m.Coefficients = []int{0, 0, 0}, m.Coefficients[:3] }, ""},
		{"short categories", func(m *LinearModel) { m.Categories = m.Categories[:2] }, "2 categories for 3 features"},
		{"negative codes", func(m *LinearModel) { m.Categories[1] = -1 }, "feature 1 has -1 category codes"},
		{"too many codes", func(m *LinearModel) { m.Categories[1] = MaxCategoryCodes + 1 }, "feature 1 has 65537 category codes"},
		{"a weight per feature, not per code", func(m *LinearModel) { m.Coefficients = m.Coefficients[:3] }, "3 coefficients, binary_log_loss of 3 features needs 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := valid()
			tt.mutate(m)
			err := m.Validate()
			if tt.errContains == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidLinearModel) || !strings.Contains(err.Error(), tt.errContains) {
				t.Errorf("Validate = %v, want ErrInvalidLinearModel containing %q", err, tt.errContains)
			}
		})
	}
}

// TestFitLinearCategoricalIsDeterministic fits twice, wide ridge included.
func TestFitLinearCategoricalIsDeterministic(t *testing.T) {
	for _, obj := range linearObjectives {
		t.Run(obj.String(), func(t *testing.T) {
			data := linearCategoricalData(t, obj, 1000, 79, 600)
			a := fitLinearForTest(t, linearConfigFor(obj), data)
			b := fitLinearForTest(t, linearConfigFor(obj), data)
			if !slices.Equal(a.Coefficients, b.Coefficients) || !slices.Equal(a.Intercepts, b.Intercepts) {
				t.Error("two fits on the same data differ")
			}
		})
	}
}

// TestFitLinearWideRidgeStopsWhenContextIsCancelled cancels a ridge
// regression solved by conjugate gradients.
func TestFitLinearWideRidgeStopsWhenContextIsCancelled(t *testing.T) {
	data := linearCategoricalData(t, SquaredError, 1000, 80, 600)
	means, scales := fitStandardization(data)
	x := newLinearDesign(data, means, scales)
	if x.width <= ridgeDirectMaxColumns {
		t.Fatalf("%d columns: want a design wider than %d", x.width, ridgeDirectMaxColumns)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := fitRidge(ctx, x, data.labels, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("fitRidge error = %v, want context.Canceled", err)
	}
}

// TestFitLinearRefusesTooManyWeights checks the bound on a model's
// weights: 33 features of 65,536 codes are 2,162,688 columns, more than
// MaxLinearWeights, and FitLinear says so before it allocates anything of
// that size.
func TestFitLinearRefusesTooManyWeights(t *testing.T) {
	const numFeatures = 33
	features := make([]float32, 2*numFeatures)
	data, err := NewDataset(features, numFeatures, []float64{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	for f := range numFeatures {
		if err := data.SetCategorical(f, MaxCategoryCodes); err != nil {
			t.Fatal(err)
		}
	}
	_, err = FitLinear(context.Background(), linearConfigFor(BinaryLogLoss), data)
	if !errors.Is(err, ErrInvalidData) || !strings.Contains(err.Error(), "2162688 weights, more than the 2097152") {
		t.Errorf("FitLinear error = %v, want ErrInvalidData naming the weights and the limit", err)
	}
}
