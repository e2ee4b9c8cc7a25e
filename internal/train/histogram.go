package train

import "sync"

// binStats sums the gradients, hessians and row count of a set of rows: the
// rows in one histogram bin, or all the rows of a node.
type binStats struct {
	grad, hess float64
	count      int
}

func (s binStats) plus(o binStats) binStats {
	return binStats{s.grad + o.grad, s.hess + o.hess, s.count + o.count}
}

func (s binStats) minus(o binStats) binStats {
	return binStats{s.grad - o.grad, s.hess - o.hess, s.count - o.count}
}

// histogram holds the binStats of one node for every feature and bin:
// feature f's bins are hist[f*stride : (f+1)*stride].
type histogram []binStats

// featureTotal returns the sum of feature f's bins: the statistics of all
// the node's rows.
func (h histogram) featureTotal(f, stride int) binStats {
	var total binStats
	for _, s := range h[f*stride : (f+1)*stride] {
		total = total.plus(s)
	}
	return total
}

// subtract turns h, the histogram of a parent node, into the histogram of
// one child by removing the other child's.
func (h histogram) subtract(child histogram) {
	for i := range h {
		h[i] = h[i].minus(child[i])
	}
}

// gradPair is one row's gradient and hessian, side by side so that a
// histogram pass reads them together. They are float32, as scikit-learn
// keeps them: 8 bytes a row instead of 16, which halves the memory the
// histogram passes read; the histograms sum them in float64.
type gradPair struct{ grad, hess float32 }

// histogramBuilder fills histograms from binned data. It splits the
// features between up to workers goroutines: each feature's bins are
// summed by one goroutine in row order, so the histogram does not depend on
// the split. It may be used by several goroutines at once.
type histogramBuilder struct {
	data    binnedData
	stride  int
	workers int

	mu   sync.Mutex
	free []histogram // histograms released for reuse
}

func newHistogramBuilder(data binnedData, stride, workers int) *histogramBuilder {
	return &histogramBuilder{data: data, stride: stride, workers: workers}
}

// minParallelHistogramRows is the fewest rows of a node whose histogram is
// built by several goroutines.
const minParallelHistogramRows = 4096

// build returns the histogram of rows; pairs holds their gradient pairs, in
// the same order.
func (b *histogramBuilder) build(rows []int32, pairs []gradPair) histogram {
	h := b.alloc()
	workers := b.workers
	if len(rows) < minParallelHistogramRows {
		workers = 1
	}
	parallelFor(workers, b.data.numFeatures, 1, func(_, lo, hi int) {
		b.buildFeatures(h, lo, hi, rows, pairs)
	})
	return h
}

// buildFeatures sums the gradient pairs of rows into the bins of features
// lo..hi-1, two features at a time: the two features' bin updates do not
// wait on one another, so the processor overlaps them.
func (b *histogramBuilder) buildFeatures(h histogram, lo, hi int, rows []int32, pairs []gradPair) {
	f := lo
	for ; f+2 <= hi; f += 2 {
		buildFeaturePair(b.bins(h, f), b.bins(h, f+1), b.data.column(f), b.data.column(f+1), rows, pairs)
	}
	if f < hi {
		buildFeature(b.bins(h, f), b.data.column(f), rows, pairs)
	}
}

// bins returns feature f's bins of h.
func (b *histogramBuilder) bins(h histogram, f int) histogram {
	return h[f*b.stride : (f+1)*b.stride]
}

// buildFeature sums the gradient pairs of rows into one feature's bins.
func buildFeature(fh histogram, col []uint8, rows []int32, pairs []gradPair) {
	pairs = pairs[:len(rows)]
	for i, r := range rows {
		s := &fh[col[r]]
		s.grad += float64(pairs[i].grad)
		s.hess += float64(pairs[i].hess)
		s.count++
	}
}

// buildFeaturePair sums the gradient pairs of rows into the bins of two
// features in one pass.
func buildFeaturePair(fh0, fh1 histogram, col0, col1 []uint8, rows []int32, pairs []gradPair) {
	pairs = pairs[:len(rows)]
	for i, r := range rows {
		g, h := float64(pairs[i].grad), float64(pairs[i].hess)
		s0, s1 := &fh0[col0[r]], &fh1[col1[r]]
		s0.grad += g
		s0.hess += h
		s0.count++
		s1.grad += g
		s1.hess += h
		s1.count++
	}
}

// alloc returns a zeroed histogram, reusing a released one if it can.
func (b *histogramBuilder) alloc() histogram {
	b.mu.Lock()
	var h histogram
	if n := len(b.free); n > 0 {
		h = b.free[n-1]
		b.free = b.free[:n-1]
	}
	b.mu.Unlock()
	if h == nil {
		return make(histogram, b.data.numFeatures*b.stride)
	}
	clear(h)
	return h
}

// release hands h back for reuse.
func (b *histogramBuilder) release(h histogram) {
	if h != nil {
		b.mu.Lock()
		b.free = append(b.free, h)
		b.mu.Unlock()
	}
}
