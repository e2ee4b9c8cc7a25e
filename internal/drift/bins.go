package drift

import (
	"math"
	"slices"
)

const (
	// referenceBins is how many quantile bins a reference cuts a numeric
	// column (or a text length, or a score) into: ventiles.
	referenceBins = 20
	// psiMerge is how many adjacent reference bins one PSI bin merges:
	// PSI is taken over deciles, where its usual thresholds were set.
	psiMerge = 2
	// psiFloor stands in for an empty bin's share in PSI, whose
	// logarithm would otherwise be infinite.
	psiFloor = 1e-4
	// shareDigits rounds stored shares to 1e-6: a profile stays small,
	// and no statistic needs more.
	shareDigits = 1e6
	// levelTolerance absorbs that rounding when a reference's cumulative
	// shares are held against the decile levels (psiBins).
	levelTolerance = 1e-5
)

// quantileEdges are the interior cut points of sorted's referenceBins
// quantile bins, deduplicated: for k = 1..19 the value at rank
// ceil(k n / 20), the smallest value with at least k/20 of the values at
// or below it. Ties (a discrete feature) give fewer edges.
func quantileEdges(sorted []float64) []float64 {
	n := len(sorted)
	if n == 0 {
		return nil
	}
	edges := make([]float64, 0, referenceBins-1)
	for k := 1; k < referenceBins; k++ {
		rank := (k*n + referenceBins - 1) / referenceBins // ceil(k n / 20)
		v := sorted[max(rank, 1)-1]
		if len(edges) == 0 || v > edges[len(edges)-1] {
			edges = append(edges, v)
		}
	}
	return edges
}

// binOf is v's bin among edges: the number of edges below v, so bin i
// holds edges[i-1] < v <= edges[i]. v is finite.
func binOf(edges []float64, v float64) int {
	lo, hi := 0, len(edges)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if edges[m] < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// binnerCells is how many equal cells a binner cuts the edges' range
// into: several per bin, so that most cells hold no edge.
const binnerCells = 64

// binner finds a value's bin as binOf does, in a few nanoseconds: a
// binary search over 19 edges is a chain of dependent loads that cost
// more than the rest of Observe. The range of the edges is cut into equal
// cells, each knowing the edges wholly below it, and only the edges in
// the value's own cell are compared.
type binner struct {
	edges  []float64
	lo, hi float64
	scale  float64
	// below[j] is the number of edges whose cell is before cell j: all
	// of them are below any value of cell j, as the cell of a value is a
	// monotone function of it.
	below [binnerCells + 1]uint8
}

func newBinner(edges []float64) binner {
	b := binner{edges: edges, lo: math.Inf(1)} // no edges: every value in bin 0
	if len(edges) == 0 {
		return b
	}
	b.lo, b.hi = edges[0], edges[len(edges)-1]
	if len(edges) == 1 {
		return b // bin 0 up to the edge, bin 1 above it
	}
	b.scale = binnerCells / (b.hi - b.lo)
	if math.IsInf(b.scale, 0) || math.IsNaN(b.scale) || b.scale <= 0 {
		// Edges too close (a span under 64 subnormals) or too far apart
		// (a span over the largest float) for cells: a forged profile, or
		// a feature of extreme values. Binary search is exact for any.
		b.scale = 0
		return b
	}
	for j := range b.below {
		n := 0
		for _, e := range edges {
			if b.cell(e) < j {
				n++
			}
		}
		b.below[j] = uint8(n)
	}
	return b
}

func (b *binner) cell(v float64) int { return min(int((v-b.lo)*b.scale), binnerCells) }

// bin is v's bin, v finite.
func (b *binner) bin(v float64) int {
	if v <= b.lo {
		return 0
	}
	if v > b.hi {
		return len(b.edges)
	}
	if b.scale == 0 {
		return binOf(b.edges, v)
	}
	// Two edges or more, and lo < v <= hi: the last edge is not below v.
	i := int(b.below[b.cell(v)])
	for b.edges[i] < v {
		i++
	}
	return i
}

// binShares are the shares of sorted's values in each bin of edges,
// rounded.
func binShares(sorted, edges []float64) []float64 {
	shares := make([]float64, len(edges)+1)
	if len(sorted) == 0 {
		return shares
	}
	for _, v := range sorted {
		shares[binOf(edges, v)]++
	}
	for i := range shares {
		shares[i] = roundShare(shares[i] / float64(len(sorted)))
	}
	return shares
}

func roundShare(s float64) float64 { return math.Round(s*shareDigits) / shareDigits }

// psiBins maps each reference bin to the PSI bin it is merged into. The
// decile cut points are the quantiles at k/10, a subset of the ventile
// edges: the edge whose cumulative reference share first reaches k/10.
// Without ties that is every second edge, and PSI bin j merges ventiles
// 2j and 2j+1; with ties, the ventiles between two decile cut points.
func psiBins(shares []float64) (bin []int, bins int) {
	bin = make([]int, len(shares))
	cum, level := 0.0, 1
	decile := 0
	for i := range shares {
		bin[i] = decile
		if i == len(shares)-1 {
			break // the last bin has no edge above it
		}
		cum += shares[i]
		cut := false
		for level < referenceBins/psiMerge && cum >= float64(level)/float64(referenceBins/psiMerge)-levelTolerance {
			cut = true
			level++
		}
		if cut {
			decile++
		}
	}
	return bin, decile + 1
}

// psi is the population stability index of actual against expected,
// shares over the same bins: sum (a - e) ln(a / e), each share floored
// at psiFloor.
func psi(expected, actual []float64) float64 {
	total := 0.0
	for i := range expected {
		e, a := max(expected[i], psiFloor), max(actual[i], psiFloor)
		total += (a - e) * math.Log(a/e)
	}
	return total
}

// ks is the Kolmogorov-Smirnov statistic at the edges: the largest gap
// between the cumulative shares of the reference and the window at each
// edge. counts are the window's per bin, of total values.
func ks(shares []float64, counts []int64, total int64) float64 {
	var worst, ref, live float64
	for i := range len(shares) - 1 { // at each edge: bins 0..i
		ref += shares[i]
		live += float64(counts[i]) / float64(total)
		worst = max(worst, math.Abs(live-ref))
	}
	return worst
}

// sortedFinite returns the finite values of vals, sorted, as float64.
func sortedFinite(vals []float32) []float64 {
	out := make([]float64, 0, len(vals))
	for _, v := range vals {
		if f := float64(v); !math.IsNaN(f) && !math.IsInf(f, 0) {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
