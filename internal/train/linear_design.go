package train

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// The design matrix of a linear model is scikit-learn's
//
//	ColumnTransformer([("numeric", make_pipeline(SimpleImputer(), StandardScaler()), numeric),
//	                   ("categorical", OneHotEncoder(categories=<every code>, handle_unknown="ignore"), categorical)])
//
// output: the standardised numeric features in feature order, then, for
// each categorical feature in feature order, one 0/1 column per code. The
// one-hot columns are neither centred nor scaled, as in that transformer,
// so a weight is the score a code adds. The model's coefficients follow the
// same column order (LinearModel.Coefficients).
//
// The one-hot columns are never materialised: a row has exactly one 1 in
// each categorical feature's block, so it is kept as the column of that 1.
// A feature of 10,000 codes costs 4 bytes a row, not 80,000, and the
// products with the design matrix cost one addition per categorical
// feature and row.

// categoryBlock is one categorical feature's block of one-hot columns.
type categoryBlock struct {
	feature int // the feature's index in a row
	start   int // the block's first column
	codes   int // its width, the feature's number of codes
}

// linearColumns lays out the design matrix of rows of numFeatures features
// whose feature f has categories(f) codes (0: numeric): the numeric
// features in order, then the categorical features' blocks. It returns the
// numeric features, the blocks and the number of columns.
func linearColumns(numFeatures int, categories func(f int) int) (numeric []int, blocks []categoryBlock, width int) {
	for f := range numFeatures {
		if categories(f) == 0 {
			numeric = append(numeric, f)
		}
	}
	width = len(numeric)
	for f := range numFeatures {
		if c := categories(f); c > 0 {
			blocks = append(blocks, categoryBlock{feature: f, start: width, codes: c})
			width += c
		}
	}
	return numeric, blocks, width
}

// otherCode returns the code that a value of a categorical feature of
// codes codes counts as when it is not one of them (negative, too large,
// fractional, NaN or infinite): codes-2, the "other" code of the trainer's
// layout (code i for category i, then other, then null), or 0 for a feature
// of a single code. Training data never holds such a value (SetCategorical
// checks); a scorer never sends one. This rule only makes sure that Go and
// the exported graph read inside the weight table, and agree.
func otherCode(codes int) int { return max(codes-2, 0) }

// categoryCode returns the code of value v of a categorical feature of
// codes codes: v itself when it is a whole number from 0 to codes-1,
// otherCode(codes) otherwise.
func categoryCode(v float32, codes int) int {
	if v >= 0 && v < float32(codes) && v == float32(math.Trunc(float64(v))) {
		return int(v)
	}
	return otherCode(codes)
}

// linearDesign is the design matrix X of a linear fit, n rows of width
// columns, with its one-hot blocks held as codes (see the comment above).
type linearDesign struct {
	n, width int
	// numeric holds the standardised numeric features, n × len(numericFeatures);
	// nil when there are none, as gonum has no empty matrix.
	numeric         *mat.Dense
	numericFeatures []int
	blocks          []categoryBlock
	// columns holds, row-major n × len(blocks), the column of the 1 in each
	// block of each row: the block's start plus the row's code.
	columns []int32
}

// newLinearDesign returns d's design matrix with its numeric features
// imputed and standardised by means and scales (indexed by feature): a
// missing value becomes 0, its mean's standardised value.
func newLinearDesign(d *Dataset, means, scales []float64) *linearDesign {
	numeric, blocks, width := linearColumns(d.numFeatures, d.Categories)
	n := d.NumRows()
	x := &linearDesign{n: n, width: width, numericFeatures: numeric, blocks: blocks}
	if p := len(numeric); p > 0 {
		z := make([]float64, n*p)
		for i := range n {
			row, out := d.Row(i), z[i*p:(i+1)*p]
			for j, f := range numeric {
				if v := row[f]; !isNaN(v) {
					out[j] = (float64(v) - means[f]) * scales[f]
				}
			}
		}
		x.numeric = mat.NewDense(n, p, z)
	}
	if len(blocks) > 0 {
		x.columns = make([]int32, 0, n*len(blocks))
		for i := range n {
			row := d.Row(i)
			for _, b := range blocks {
				x.columns = append(x.columns, int32(b.start+categoryCode(row[b.feature], b.codes)))
			}
		}
	}
	return x
}

// numNumeric returns the number of numeric columns, which come first.
func (x *linearDesign) numNumeric() int { return len(x.numericFeatures) }

// rowColumns returns the one-hot columns of row i, one per block.
func (x *linearDesign) rowColumns(i int) []int32 {
	nb := len(x.blocks)
	return x.columns[i*nb : (i+1)*nb]
}

// mulVec writes X·w into dst, of n elements.
func (x *linearDesign) mulVec(dst, w []float64) {
	clear(dst)
	if x.numeric != nil {
		p := x.numNumeric()
		mat.NewVecDense(x.n, dst).MulVec(x.numeric, mat.NewVecDense(p, w[:p]))
	}
	if len(x.blocks) > 0 {
		for i := range dst {
			for _, c := range x.rowColumns(i) {
				dst[i] += w[c]
			}
		}
	}
}

// mulTransVec writes Xᵀ·u into dst, of width elements.
func (x *linearDesign) mulTransVec(dst, u []float64) {
	clear(dst)
	if x.numeric != nil {
		p := x.numNumeric()
		mat.NewVecDense(p, dst[:p]).MulVec(x.numeric.T(), mat.NewVecDense(x.n, u))
	}
	if len(x.blocks) > 0 {
		for i, v := range u {
			for _, c := range x.rowColumns(i) {
				dst[c] += v
			}
		}
	}
}

// columnSums returns the sum of each column, and of each column's squares.
func (x *linearDesign) columnSums() (sums, squares []float64) {
	sums, squares = make([]float64, x.width), make([]float64, x.width)
	for i := range x.n {
		if x.numeric != nil {
			for j, v := range x.numeric.RawRowView(i) {
				sums[j] += v
				squares[j] += v * v
			}
		}
		if len(x.blocks) > 0 {
			for _, c := range x.rowColumns(i) {
				sums[c]++
				squares[c]++
			}
		}
	}
	return sums, squares
}

// gram returns XᵀX, width × width, built block by block from the codes:
// the numeric block as a product, a numeric column against a one-hot one as
// the sum of the numeric values of the rows with that code, and two one-hot
// columns as the count of rows with both codes. It costs 8·width² bytes,
// which is why fitRidge only asks for it up to ridgeDirectMaxColumns.
func (x *linearDesign) gram() *mat.SymDense {
	w, p := x.width, x.numNumeric()
	g := mat.NewSymDense(w, nil)
	if x.numeric != nil {
		var numeric mat.SymDense
		numeric.SymOuterK(1, x.numeric.T())
		for a := range p {
			for b := a; b < p; b++ {
				g.SetSym(a, b, numeric.At(a, b))
			}
		}
	}
	if len(x.blocks) == 0 {
		return g
	}
	// The upper triangle, row-major: numeric columns come before one-hot
	// ones and blocks in increasing column order, so (row, column) pairs
	// below are already in the upper triangle.
	raw := g.RawSymmetric()
	upper := func(a, b int) *float64 { return &raw.Data[a*raw.Stride+b] }
	for i := range x.n {
		cols := x.rowColumns(i)
		if x.numeric != nil {
			z := x.numeric.RawRowView(i)
			for _, c := range cols {
				for j, v := range z {
					*upper(j, int(c)) += v
				}
			}
		}
		for a, ca := range cols {
			for _, cb := range cols[a:] {
				*upper(int(ca), int(cb))++
			}
		}
	}
	return g
}
