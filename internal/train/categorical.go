package train

import (
	"cmp"
	"math/bits"
	"slices"
)

// CategorySet is a set of category codes held as a bitset: code c is in the
// set when bit c%64 of word c/64 is 1. A categorical split node sends a row
// left when its feature holds one of the set's codes.
type CategorySet []uint64

// NewCategorySet returns the set of the given codes, each from 0 to
// MaxCategoryCodes-1.
func NewCategorySet(codes ...int) CategorySet {
	var s CategorySet
	for _, c := range codes {
		s = s.add(c)
	}
	return s
}

func (s CategorySet) add(c int) CategorySet {
	if w := c>>6 + 1; w > len(s) {
		s = append(s, make([]uint64, w-len(s))...)
	}
	s[c>>6] |= 1 << (c & 63)
	return s
}

// Contains reports whether x is one of the set's codes: a whole number, not
// NaN, whose bit is set. Any other value, a code beyond the set's words or a
// fraction, is not in the set, as the exported graph's membership columns
// have it (setColumns.addMembership).
func (s CategorySet) Contains(x float32) bool {
	if !(x >= 0) || x >= float32(len(s)*64) {
		return false // NaN and negative values included
	}
	c := int(x)
	return float32(c) == x && s.has(c)
}

// has reports whether code c, which is at least 0, is in the set.
func (s CategorySet) has(c int) bool {
	return c>>6 < len(s) && s[c>>6]&(1<<(c&63)) != 0
}

// Codes returns the set's codes in increasing order.
func (s CategorySet) Codes() []int {
	var codes []int
	for w, word := range s {
		for ; word != 0; word &= word - 1 {
			codes = append(codes, w*64+bits.TrailingZeros64(word))
		}
	}
	return codes
}

// Len returns the number of codes in the set.
func (s CategorySet) Len() int {
	n := 0
	for _, word := range s {
		n += bits.OnesCount64(word)
	}
	return n
}

// minCategorySupport is scikit-learn's MIN_CAT_SUPPORT: a category takes
// part in a node's split search only if its rows' hessians, scaled so that
// they count rows when hessians are constant, reach it, and it smooths the
// gradient/hessian ratio the categories are sorted by.
const minCategorySupport = 10

// categoryRatio is one category of a node as the split search orders them.
type categoryRatio struct {
	code  int
	ratio float64
}

// bestCategorical looks for a split of categorical feature f, whose bins
// are its codes, that gains more than best, and if it finds one makes it
// best. It follows scikit-learn's HistGradientBoosting: the categories with
// enough support (minCategorySupport) are sorted by their smoothed
// gradient/hessian ratio, then scanned as if ordered, from the lowest ratio
// and from the highest, each direction up to the middle, the scanned
// categories going left. So the left child holds at most half of the
// categories that take part; the rest, the categories with too little
// support and the codes the node has not seen go right. Of categories
// whose ratios tie, the higher code comes first, as in scikit-learn 1.2 on
// glibc: its comparison never calls two ratios equal, and glibc's qsort, a
// merge sort, then takes the later of two tied categories, the higher
// code, first. The order matters when the scan stops inside a run of
// ties, at the middle or where a child would get too few rows.
func (s *splitFinder) bestCategorical(f int, fh histogram, total binStats, parentScore float64, best *split) {
	// Rows per unit of hessian: 1 for a loss of constant hessians.
	support := float64(total.count) / total.hess
	cats := s.ratios[:0]
	for c, b := range fh[:s.mapper.categories[f]] {
		if b.hess*support >= minCategorySupport {
			cats = append(cats, categoryRatio{c, b.grad / (b.hess + minCategorySupport)})
		}
	}
	s.ratios = cats
	if len(cats) <= 1 {
		return
	}
	slices.SortFunc(cats, func(a, b categoryRatio) int {
		return cmp.Or(cmp.Compare(a.ratio, b.ratio), b.code-a.code)
	})
	improved, bestDirection, bestLast := false, 0, 0
	for _, direction := range [2]int{1, -1} {
		middle := (len(cats) + 1) / 2
		if direction < 0 {
			middle--
		}
		var left binStats
		for i := range middle {
			j := i
			if direction < 0 {
				j = len(cats) - 1 - i
			}
			left = left.plus(fh[cats[j].code])
			right := total.minus(left)
			if left.count < s.minSamplesLeaf || left.hess < minChildHessian {
				continue
			}
			if right.count < s.minSamplesLeaf || right.hess < minChildHessian {
				break // right only shrinks as categories move left
			}
			if gain := s.score(left) + s.score(right) - parentScore; gain > best.gain {
				*best = split{feature: f, gain: gain, left: left, right: right}
				improved, bestDirection, bestLast = true, direction, i
			}
		}
	}
	if !improved {
		return
	}
	var set CategorySet
	for i := range bestLast + 1 {
		j := i
		if bestDirection < 0 {
			j = len(cats) - 1 - i
		}
		set = set.add(cats[j].code)
	}
	best.categories = set
}

// partitionChunkSet is partitionChunk for a categorical split: rows whose
// code in col is in set go left.
func partitionChunkSet(col []uint8, set CategorySet, rows, right []int32) int {
	var words [4]uint64 // codes are bins, below 256
	copy(words[:], set)
	n, m := 0, 0
	for _, r := range rows {
		c := col[r]
		goLeft := int(words[c>>6] >> (c & 63) & 1)
		rows[n] = r
		right[m] = r
		n += goLeft
		m += 1 - goLeft
	}
	return n
}
