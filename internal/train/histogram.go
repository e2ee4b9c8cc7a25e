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

// histogramBuilder fills histograms from binned data. A node's rows are
// cut into blocks, a number that depends on the node's size alone; the
// blocks are summed into histograms of their own on up to workers
// goroutines, which take them in turn, and those are added up in block
// order. Every bin is therefore the same sum, in the same order, whatever
// the number of workers. It may be used by several goroutines at once.
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

const (
	// histogramBlockRows is the fewest rows of a histogram block: adding
	// a block's histogram to the node's (10 features of 256 bins cost
	// about as much as summing 2,500 rows) should stay small beside it.
	histogramBlockRows = 8192
	// maxHistogramBlocks bounds the blocks of a node, and so the block
	// histograms held at once: enough for two workers to even out.
	maxHistogramBlocks = 8
	// histogramTileRows is how many rows of a block are summed feature
	// after feature while their gradient pairs, gathered in a buffer on the
	// stack, and row indexes stay in the processor's nearest caches.
	histogramTileRows = 2048
)

// histogramBlocks returns how many blocks the histogram of n rows is
// summed in: a function of n alone.
func histogramBlocks(n int) int {
	return max(1, min(maxHistogramBlocks, n/histogramBlockRows))
}

// build returns the histogram of rows, whose gradient pairs are pairs[r]
// for each row r.
func (b *histogramBuilder) build(rows []int32, pairs []gradPair) histogram {
	n := len(rows)
	parts := make([]histogram, histogramBlocks(n))
	for i := range parts {
		parts[i] = b.alloc()
	}
	parallelTasks(b.workers, len(parts), func(t int) {
		b.buildBlock(parts[t], rows[t*n/len(parts):(t+1)*n/len(parts)], pairs)
	})
	h := parts[0]
	if len(parts) > 1 {
		// Bin by bin in block order; the bins are split between workers.
		parallelRows(b.workers, len(h), len(h)/2, func(lo, hi int) {
			for _, p := range parts[1:] {
				for i := lo; i < hi; i++ {
					h[i] = h[i].plus(p[i])
				}
			}
		})
		for _, p := range parts[1:] {
			b.release(p)
		}
	}
	return h
}

// buildBlock sums the gradient pairs of rows into h, a tile of rows at a
// time and, within a tile, two features at a time: the two features' bin
// updates do not wait on one another, so the processor overlaps them.
// Each bin still sums its rows in row order.
func (b *histogramBuilder) buildBlock(h histogram, rows []int32, pairs []gradPair) {
	var buf [histogramTileRows]gradPair
	for lo := 0; lo < len(rows); lo += histogramTileRows {
		tileRows := rows[lo:min(len(rows), lo+histogramTileRows)]
		tile := buf[:len(tileRows)]
		for i, r := range tileRows {
			tile[i] = pairs[r]
		}
		f := 0
		for ; f+2 <= b.data.numFeatures; f += 2 {
			buildFeaturePair(b.bins(h, f), b.bins(h, f+1), b.data.column(f), b.data.column(f+1), tileRows, tile)
		}
		if f < b.data.numFeatures {
			buildFeature(b.bins(h, f), b.data.column(f), tileRows, tile)
		}
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
