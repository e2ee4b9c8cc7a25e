package train

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

// subtract turns h, the histogram of a parent node, into the histogram of
// one child by removing the other child's.
func (h histogram) subtract(child histogram) {
	for i := range h {
		h[i] = h[i].minus(child[i])
	}
}

// histogramBuilder fills histograms from binned data. It gathers the node's
// gradients into contiguous buffers first, so the per-feature passes read
// them sequentially.
type histogramBuilder struct {
	data    binnedData
	stride  int
	gradBuf []float64
	hessBuf []float64
	free    []histogram // histograms released for reuse
}

func newHistogramBuilder(data binnedData, stride int) *histogramBuilder {
	return &histogramBuilder{
		data:    data,
		stride:  stride,
		gradBuf: make([]float64, data.numRows),
		hessBuf: make([]float64, data.numRows),
	}
}

// build returns the histogram of rows.
func (b *histogramBuilder) build(rows []int32, grad, hess []float64) histogram {
	h := b.alloc()
	g, hs := b.gradBuf[:len(rows)], b.hessBuf[:len(rows)]
	for i, r := range rows {
		g[i], hs[i] = grad[r], hess[r]
	}
	for f := range b.data.numFeatures {
		col := b.data.column(f)
		fh := h[f*b.stride : (f+1)*b.stride]
		for i, r := range rows {
			s := &fh[col[r]]
			s.grad += g[i]
			s.hess += hs[i]
			s.count++
		}
	}
	return h
}

// alloc returns a zeroed histogram, reusing a released one if it can.
func (b *histogramBuilder) alloc() histogram {
	if n := len(b.free); n > 0 {
		h := b.free[n-1]
		b.free = b.free[:n-1]
		clear(h)
		return h
	}
	return make(histogram, b.data.numFeatures*b.stride)
}

// release hands h back for reuse.
func (b *histogramBuilder) release(h histogram) {
	if h != nil {
		b.free = append(b.free, h)
	}
}
