package train

import "sync"

// leafDenominatorFloor keeps a leaf value finite when its rows' hessians sum
// to zero.
const leafDenominatorFloor = 1e-15

// node is a tree node while it grows: the rows it holds, as the range
// rows[start:end] of the grower, their summed statistics, and their
// histogram, nil once the node is known to be a leaf.
type node struct {
	start, end int
	depth      int
	total      binStats
	hist       histogram
}

// leafRows records which rows a finished leaf holds, so that fitting can
// update their scores without walking the tree.
type leafRows struct {
	rows  []int32
	value float32
}

// subtree is a grown subtree: its nodes in depth-first order, with child
// indexes counted from its root, nodes[0], and its leaves in row order.
type subtree struct {
	nodes  []Node
	leaves []leafRows
}

// grower grows one tree at a time over the same binned data. Subtrees
// whose roots are both split further grow side by side, on up to workers
// goroutines; each node's rows, histogram and split are computed alone, so
// the tree does not depend on which goroutine grew what.
type grower struct {
	cfg      Config
	mapper   *binMapper
	data     binnedData
	hists    *histogramBuilder
	splits   splitFinder
	workers  int
	spare    chan struct{} // one token per worker free to grow a subtree
	rows     []int32       // row indexes, partitioned so each node's are contiguous
	rightBuf []int32
	pairs    []gradPair // the gradient pairs of the tree being grown
	ordered  []gradPair // ordered[i] is pairs[rows[i]] where a histogram needs it
}

func newGrower(cfg Config, mapper *binMapper, data binnedData, workers int) *grower {
	stride := int(mapper.missingBin) + 1
	g := &grower{
		cfg:      cfg,
		mapper:   mapper,
		data:     data,
		workers:  workers,
		hists:    newHistogramBuilder(data, stride, workers),
		splits:   splitFinder{mapper: mapper, stride: stride, l2: cfg.L2, minSamplesLeaf: cfg.MinSamplesLeaf},
		spare:    make(chan struct{}, workers-1),
		rows:     make([]int32, data.numRows),
		rightBuf: make([]int32, data.numRows),
		ordered:  make([]gradPair, data.numRows),
	}
	for range workers - 1 {
		g.spare <- struct{}{}
	}
	return g
}

// growTree fits one tree to the gradient pairs. The returned leaves alias
// the grower's row buffer, which they tile in order, and are valid until
// the next call.
func (g *grower) growTree(pairs []gradPair) (Tree, []leafRows) {
	g.pairs = pairs
	parallelFor(g.workers, len(g.rows), minParallelRows, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			g.rows[i] = int32(i)
		}
	})
	root := node{start: 0, end: len(g.rows)}
	root.total.count = len(g.rows)
	if g.canSplit(root) {
		// The root holds every row in order, so its pairs need no
		// gathering, and its totals are the sums of any feature's bins.
		root.hist = g.hists.build(g.rows, pairs)
		root.total = root.hist.featureTotal(0, g.hists.stride)
	} else {
		for _, p := range pairs {
			root.total = root.total.plus(binStats{p.grad, p.hess, 1})
		}
	}
	t := g.grow(root)
	return Tree{Nodes: t.nodes}, t.leaves
}

// grow grows n's subtree. When n's children may split further (they have
// histograms) and a worker is spare, the left child's subtree grows on a
// goroutine of its own.
func (g *grower) grow(n node) subtree {
	s, ok := g.findSplit(n)
	if !ok {
		g.hists.release(n.hist)
		return g.leaf(n)
	}
	left, right := g.split(n, s)
	var l, r subtree
	if left.hist != nil && g.takeSpare() {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			l = g.grow(left)
			g.spare <- struct{}{}
		}()
		r = g.grow(right)
		wg.Wait()
	} else {
		l, r = g.grow(left), g.grow(right)
	}
	root := Node{Feature: int32(s.feature), Threshold: g.mapper.threshold(s.feature, s.bin)}
	return join(root, l, r)
}

// takeSpare reserves a spare worker, if there is one, and reports whether
// there was.
func (g *grower) takeSpare() bool {
	select {
	case <-g.spare:
		return true
	default:
		return false
	}
}

// join returns the subtree made of the split node root, with l and r as its
// left and right subtrees.
func join(root Node, l, r subtree) subtree {
	nodes := make([]Node, 0, 1+len(l.nodes)+len(r.nodes))
	root.Left, root.Right = 1, int32(1+len(l.nodes))
	nodes = append(nodes, root)
	for _, sub := range []subtree{l, r} {
		offset := int32(len(nodes))
		for _, n := range sub.nodes {
			if !n.Leaf {
				n.Left += offset
				n.Right += offset
			}
			nodes = append(nodes, n)
		}
	}
	return subtree{nodes: nodes, leaves: append(l.leaves, r.leaves...)}
}

// canSplit reports whether n is shallow and large enough to try splitting.
func (g *grower) canSplit(n node) bool {
	return n.depth < g.cfg.MaxDepth && n.total.count >= 2*g.cfg.MinSamplesLeaf
}

func (g *grower) findSplit(n node) (split, bool) {
	if n.hist == nil {
		return split{}, false
	}
	return g.splits.best(n.hist, n.total)
}

func (g *grower) leaf(n node) subtree {
	value := float32(-g.cfg.LearningRate * n.total.grad / (n.total.hess + g.cfg.L2 + leafDenominatorFloor))
	return subtree{
		nodes:  []Node{{Leaf: true, Value: value}},
		leaves: []leafRows{{rows: g.rows[n.start:n.end], value: value}},
	}
}

// split partitions n's rows and gives each child that may split further a
// histogram. Only the smaller child is built from its rows; the larger
// child's histogram is the parent's minus the smaller one's.
func (g *grower) split(n node, s split) (left, right node) {
	mid := g.partition(n.start, n.end, s)
	left = node{start: n.start, end: mid, depth: n.depth + 1, total: s.left}
	right = node{start: mid, end: n.end, depth: n.depth + 1, total: s.right}
	if !g.canSplit(left) && !g.canSplit(right) {
		g.hists.release(n.hist)
		return left, right
	}
	small, large := &left, &right
	if left.total.count > right.total.count {
		small, large = &right, &left
	}
	// Gather the smaller child's pairs into its own range of g.ordered, so
	// that the histogram passes read them in sequence; nodes growing side
	// by side hold disjoint ranges.
	rows, pairs := g.rows[small.start:small.end], g.ordered[small.start:small.end]
	parallelFor(g.workers, len(rows), minParallelRows, func(_, lo, hi int) {
		for i, r := range rows[lo:hi] {
			pairs[lo+i] = g.pairs[r]
		}
	})
	small.hist = g.hists.build(rows, pairs)
	n.hist.subtract(small.hist)
	large.hist = n.hist
	return left, right
}

// partition reorders rows[start:end] so that the rows going left come first,
// keeping each side in increasing order for cache-friendly reads, and
// returns where the right side begins. A large node's rows are split into
// chunks, one per worker, each partitioned alone; the chunks' left parts
// are then moved together, followed by their right parts, which gives the
// same order as one pass.
func (g *grower) partition(start, end int, s split) int {
	col := g.data.column(s.feature)
	rows := g.rows[start:end]
	right := g.rightBuf[start:end]
	type chunk struct{ lo, hi, numLeft int }
	chunks := make([]chunk, numChunks(g.workers, len(rows), minParallelRows))
	parallelFor(g.workers, len(rows), minParallelRows, func(c, lo, hi int) {
		chunks[c] = chunk{lo, hi, partitionChunk(col, s.bin, rows[lo:hi], right[lo:hi])}
	})
	left := 0
	for _, c := range chunks {
		left += copy(rows[left:], rows[c.lo:c.lo+c.numLeft]) // moves down: copy handles the overlap
	}
	next := left
	for _, c := range chunks {
		next += copy(rows[next:], right[c.lo:c.lo+(c.hi-c.lo-c.numLeft)])
	}
	return start + left
}

// partitionChunk moves the rows whose bin in col is at most bin to the
// front of rows, in order, and the others, in order, to the front of right,
// and returns how many went left. It writes every row to both sides and
// advances one, which avoids a branch the processor cannot predict.
func partitionChunk(col []uint8, bin int, rows, right []int32) int {
	n, m := 0, 0
	for _, r := range rows {
		goLeft := 0
		if int(col[r]) <= bin {
			goLeft = 1
		}
		rows[n] = r
		right[m] = r
		n += goLeft
		m += 1 - goLeft
	}
	return n
}
