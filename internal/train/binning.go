package train

import (
	"math"
	"math/rand/v2"
	"slices"
)

// binSampleSize caps the rows that bin edges are computed from, as
// scikit-learn's subsample parameter does; quantiles of 200k values are
// precise enough for 255 bins.
const binSampleSize = 200_000

// binMapper maps feature values to bins. For a numeric feature f, bin b
// holds the values x with edges[f][b-1] < x <= edges[f][b]; values above the
// last edge fall in bin len(edges[f]), and NaN falls in missingBin, which is
// above every finite bin of every feature. A categorical feature's bins are
// its codes, categories[f] of them, with no edges: a Dataset's codes are
// whole numbers below categories[f], which is at most missingBin.
type binMapper struct {
	edges      [][]float32
	missingBin uint8
	categories []int // codes of each categorical feature, 0 for a numeric one; nil if none
}

// isCategorical reports whether feature f is categorical.
func (m *binMapper) isCategorical(f int) bool {
	return m.categories != nil && m.categories[f] > 0
}

// fitBinMapper computes the bin edges of every numeric feature from a
// sample of the training rows (all of d's when subset is nil, else d's rows
// subset[i]), splitting the features between up to workers goroutines.
// Categorical features keep their codes as bins.
func fitBinMapper(d *Dataset, subset []int32, maxBins int, seed uint64, workers int) *binMapper {
	rows := sampleRows(subsetLen(d, subset), binSampleSize, seed)
	if subset != nil {
		for i, r := range rows {
			rows[i] = int(subset[r])
		}
	}
	edges := make([][]float32, d.numFeatures)
	if len(rows) < minParallelRows {
		workers = 1
	}
	parallelFor(workers, d.numFeatures, 1, func(_, lo, hi int) {
		values := make([]float32, 0, len(rows))
		for f := lo; f < hi; f++ {
			if d.Categories(f) > 0 {
				continue
			}
			values = values[:0]
			for _, i := range rows {
				if v := d.value(i, f); !isNaN(v) {
					values = append(values, v)
				}
			}
			slices.Sort(values)
			edges[f] = quantileEdges(values, maxBins)
		}
	})
	return &binMapper{edges: edges, missingBin: uint8(maxBins), categories: slices.Clone(d.categories)}
}

// sampleRows returns up to size distinct row indexes in increasing order.
func sampleRows(numRows, size int, seed uint64) []int {
	if numRows <= size {
		rows := make([]int, numRows)
		for i := range rows {
			rows[i] = i
		}
		return rows
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	rows := rng.Perm(numRows)[:size]
	slices.Sort(rows)
	return rows
}

// quantileEdges returns at most maxBins-1 increasing edges that split the
// sorted values into bins of about equal count. An edge lies midway between
// the largest value of one bin and the smallest of the next, so unseen values
// go to the nearer bin.
func quantileEdges(sorted []float32, maxBins int) []float32 {
	distinct := slices.Compact(slices.Clone(sorted))
	if len(distinct) < 2 {
		return nil
	}
	if len(distinct) <= maxBins {
		edges := make([]float32, len(distinct)-1)
		for i := range edges {
			edges[i] = midpoint(distinct[i], distinct[i+1])
		}
		return edges
	}
	edges := make([]float32, 0, maxBins-1)
	for q := 1; q < maxBins; q++ {
		upper := sorted[q*len(sorted)/maxBins-1]
		i, _ := slices.BinarySearch(distinct, upper)
		if i+1 == len(distinct) {
			break // the remaining quantiles all fall on the maximum
		}
		edge := midpoint(upper, distinct[i+1])
		if len(edges) == 0 || edge > edges[len(edges)-1] {
			edges = append(edges, edge)
		}
	}
	return edges
}

// midpoint returns a float32 edge e with a <= e < b, so that a goes left of
// it and b right, preferring the value halfway between them.
func midpoint(a, b float32) float32 {
	m := float32((float64(a) + float64(b)) / 2)
	if m > a && m < b {
		return m
	}
	return a // a and b are adjacent float32 values, or infinite
}

// bin returns the bin of value v of feature f.
func (m *binMapper) bin(f int, v float32) uint8 {
	if isNaN(v) {
		return m.missingBin
	}
	b, _ := slices.BinarySearch(m.edges[f], v) // first edge >= v
	return uint8(b)
}

// numFiniteBins returns how many bins numeric feature f's non-missing
// values use.
func (m *binMapper) numFiniteBins(f int) int { return len(m.edges[f]) + 1 }

// threshold returns the split threshold that sends bins 0..b of feature f
// left. Splitting after the last finite bin separates missing values, which
// only a threshold of +Inf does.
func (m *binMapper) threshold(f, b int) float32 {
	if b < len(m.edges[f]) {
		return m.edges[f][b]
	}
	return float32(math.Inf(1))
}

// binnedData holds the bin of every training value, column-major: feature
// by feature, the order in which histograms are built.
type binnedData struct {
	bins        []uint8
	numRows     int
	numFeatures int
}

// column returns the bins of feature f, indexed by row.
func (b binnedData) column(f int) []uint8 {
	return b.bins[f*b.numRows : (f+1)*b.numRows]
}

// transform bins every value of d's rows (all of them when subset is nil,
// else row subset[i] becomes row i), splitting the rows between up to
// workers goroutines.
func (m *binMapper) transform(d *Dataset, subset []int32, workers int) binnedData {
	n := subsetLen(d, subset)
	b := binnedData{make([]uint8, n*d.numFeatures), n, d.numFeatures}
	parallelRows(workers, n, minParallelRows, func(lo, hi int) {
		for f := range d.numFeatures {
			col := b.column(f)
			if m.isCategorical(f) {
				for i := lo; i < hi; i++ {
					row := i
					if subset != nil {
						row = int(subset[i])
					}
					col[i] = uint8(d.value(row, f)) // a code, checked by SetCategorical
				}
				continue
			}
			for i := lo; i < hi; i++ {
				row := i
				if subset != nil {
					row = int(subset[i])
				}
				col[i] = m.bin(f, d.value(row, f))
			}
		}
	})
	return b
}

// subsetLen returns the number of rows of d that subset selects: all of
// them when it is nil.
func subsetLen(d *Dataset, subset []int32) int {
	if subset == nil {
		return d.NumRows()
	}
	return len(subset)
}

func isNaN(v float32) bool { return v != v }
