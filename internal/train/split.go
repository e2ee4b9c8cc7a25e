package train

// minChildHessian keeps splits from creating children whose leaf values
// would rest on almost no curvature (scikit-learn's min_hessian_to_split).
const minChildHessian = 1e-3

// split is a candidate split of a node: rows whose bin of feature is at most
// bin go left, the rest (always including missing values) go right; or, when
// categories is not nil, rows whose bin (their code) of a categorical
// feature is in categories go left.
type split struct {
	feature     int
	bin         int
	categories  CategorySet
	gain        float64
	left, right binStats
}

// splitFinder scores candidate splits from a node's histogram. Its ratios
// buffer is reused from node to node, so a splitFinder serves one grower at
// a time.
type splitFinder struct {
	mapper         *binMapper
	stride         int
	l2             float64
	minSamplesLeaf int
	ratios         []categoryRatio
}

// best returns the split of the node with the largest positive gain, if any
// split leaves both children with enough rows and hessian.
func (s *splitFinder) best(h histogram, total binStats) (split, bool) {
	var best split
	parentScore := s.score(total)
	for f := range s.mapper.edges {
		fh := h[f*s.stride : (f+1)*s.stride]
		if s.mapper.isCategorical(f) {
			s.bestCategorical(f, fh, total, parentScore, &best)
			continue
		}
		var left binStats
		for b := range s.mapper.numFiniteBins(f) {
			left = left.plus(fh[b])
			right := total.minus(left)
			if right.count < s.minSamplesLeaf || right.hess < minChildHessian {
				break // right only shrinks as b grows
			}
			if left.count < s.minSamplesLeaf || left.hess < minChildHessian {
				continue
			}
			gain := s.score(left) + s.score(right) - parentScore
			if gain > best.gain {
				best = split{feature: f, bin: b, gain: gain, left: left, right: right}
			}
		}
	}
	return best, best.gain > 0
}

// score is the loss reduction a leaf over these rows achieves, up to a
// constant factor: G²/(H+λ).
func (s *splitFinder) score(stats binStats) float64 {
	return stats.grad * stats.grad / (stats.hess + s.l2)
}
