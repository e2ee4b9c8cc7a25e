package train

import (
	"container/heap"
	"slices"
)

// leafDenominatorFloor keeps a leaf value finite when its rows' hessians sum
// to zero.
const leafDenominatorFloor = 1e-15

// node is a tree node while it grows: the rows it holds, as the range
// rows[start:end] of the grower, their summed statistics, its index in the
// tree's nodes, and, while it may still be split, its histogram and best
// split.
type node struct {
	start, end int
	depth      int
	index      int32
	total      binStats
	hist       histogram
	best       split
}

// leafRows records which rows a finished leaf holds, so that fitting can
// update their scores without walking the tree.
type leafRows struct {
	start int // where rows begin in the grower's row buffer
	rows  []int32
	value float32
}

// grownTree is a tree as the grower returns it: the tree, the bin each split
// node compares (bins[i] for Nodes[i]; a row goes left when its bin is at
// most that, or, at a categorical split, when its bin, its code, is in the
// node's category set), which scores binned validation rows without their
// float values, and the leaves in the order of the grower's row buffer.
type grownTree struct {
	tree   Tree
	bins   []uint8
	leaves []leafRows
}

// grower grows one tree at a time over the same binned data, best-first as
// scikit-learn's TreeGrower does: of the leaves that can still be split, the
// one whose best split gains most is split next, until MaxLeafNodes leaves
// exist or none can be split. Within a node, histograms are built block by
// block of rows and rows partitioned chunk by chunk on up to workers
// goroutines; the blocks and chunks depend on the node's size alone, and
// each value is computed in a fixed order, so the tree does not depend on
// the number of workers.
type grower struct {
	cfg      Config
	mapper   *binMapper
	data     binnedData
	hists    *histogramBuilder
	splits   splitFinder
	workers  int
	rows     []int32 // row indexes, partitioned so each node's are contiguous
	rightBuf []int32
	pairs    []gradPair // the gradient pairs of the tree being grown, by row
	// The tree being grown, and the category sets of its categorical
	// splits, which become out.tree.Categories once it is grown.
	out       grownTree
	sets      []nodeSet
	splitting splittable
}

// nodeSet is the category set of a categorical split node.
type nodeSet struct {
	node int32
	set  CategorySet
}

func newGrower(cfg Config, mapper *binMapper, data binnedData, workers int) *grower {
	stride := int(mapper.missingBin) + 1
	return &grower{
		cfg:      cfg,
		mapper:   mapper,
		data:     data,
		workers:  workers,
		hists:    newHistogramBuilder(data, stride, workers),
		splits:   splitFinder{mapper: mapper, stride: stride, l2: cfg.L2Regularization, minSamplesLeaf: cfg.MinSamplesLeaf},
		rows:     make([]int32, data.numRows),
		rightBuf: make([]int32, data.numRows),
	}
}

// growTree fits one tree to the gradient pairs. The returned leaves alias
// the grower's row buffer, which they tile in order, and, with the nodes
// and bins, are valid until the next call.
func (g *grower) growTree(pairs []gradPair) grownTree {
	g.pairs = pairs
	g.out = grownTree{}
	g.sets = g.sets[:0]
	parallelRows(g.workers, len(g.rows), minParallelRows, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			g.rows[i] = int32(i)
		}
	})
	root := g.newNode(0, len(g.rows), 0)
	root.total.count = len(g.rows)
	if g.canSplit(root) {
		// The root's totals are the sums of any feature's bins.
		root.hist = g.hists.build(g.rows, pairs)
		root.total = root.hist.featureTotal(0, g.hists.stride)
	} else {
		for _, p := range pairs {
			root.total = root.total.plus(binStats{float64(p.grad), float64(p.hess), 1})
		}
	}
	g.consider(root)
	for numLeaves := 1; g.splitting.Len() > 0; numLeaves++ {
		n := heap.Pop(&g.splitting).(node)
		// Splitting n makes numLeaves+1 leaves; at the cap, its children
		// need no histograms, and the leaves left waiting stay leaves.
		full := g.cfg.MaxLeafNodes > 0 && numLeaves+1 >= g.cfg.MaxLeafNodes
		left, right := g.split(n, full)
		g.consider(left)
		g.consider(right)
		if full {
			for g.splitting.Len() > 0 {
				waiting := heap.Pop(&g.splitting).(node)
				g.hists.release(waiting.hist)
				g.leaf(waiting)
			}
		}
	}
	slices.SortFunc(g.out.leaves, func(a, b leafRows) int { return a.start - b.start })
	if len(g.sets) > 0 {
		g.out.tree.Categories = make([]CategorySet, len(g.out.tree.Nodes))
		for _, ns := range g.sets {
			g.out.tree.Categories[ns.node] = ns.set
		}
	}
	return g.out
}

// newNode appends a placeholder for a node to the tree and returns it.
func (g *grower) newNode(start, end, depth int) node {
	g.out.tree.Nodes = append(g.out.tree.Nodes, Node{})
	g.out.bins = append(g.out.bins, 0)
	return node{start: start, end: end, depth: depth, index: int32(len(g.out.tree.Nodes) - 1)}
}

// consider queues n to be split if it has a histogram and a split that
// gains, and makes it a leaf otherwise.
func (g *grower) consider(n node) {
	if n.hist != nil {
		if s, ok := g.splits.best(n.hist, n.total); ok {
			n.best = s
			heap.Push(&g.splitting, n)
			return
		}
		g.hists.release(n.hist)
	}
	g.leaf(n)
}

// canSplit reports whether n is shallow and large enough to try splitting.
func (g *grower) canSplit(n node) bool {
	return (g.cfg.MaxDepth == 0 || n.depth < g.cfg.MaxDepth) && n.total.count >= 2*g.cfg.MinSamplesLeaf
}

func (g *grower) leaf(n node) {
	value := float32(-g.cfg.LearningRate * n.total.grad / (n.total.hess + g.cfg.L2Regularization + leafDenominatorFloor))
	g.out.tree.Nodes[n.index] = Node{Leaf: true, Value: value}
	g.out.leaves = append(g.out.leaves, leafRows{start: n.start, rows: g.rows[n.start:n.end], value: value})
}

// split turns n into a split node, partitions its rows and returns its two
// children, giving a histogram to each child that may split further unless
// the tree is full. Only the smaller child is built from its rows; the
// larger child's histogram is the parent's minus the smaller one's.
func (g *grower) split(n node, full bool) (left, right node) {
	s := n.best
	mid := g.partition(n.start, n.end, s)
	left = g.newNode(n.start, mid, n.depth+1)
	right = g.newNode(mid, n.end, n.depth+1)
	left.total, right.total = s.left, s.right
	if s.categories != nil {
		g.out.tree.Nodes[n.index] = Node{Feature: int32(s.feature), Left: left.index, Right: right.index}
		g.sets = append(g.sets, nodeSet{n.index, s.categories})
	} else {
		g.out.tree.Nodes[n.index] = Node{Feature: int32(s.feature), Threshold: g.mapper.threshold(s.feature, s.bin), Left: left.index, Right: right.index}
		g.out.bins[n.index] = uint8(s.bin)
	}
	splitLeft, splitRight := !full && g.canSplit(left), !full && g.canSplit(right)
	if !splitLeft && !splitRight {
		g.hists.release(n.hist)
		return left, right
	}
	small, large := &left, &right
	if left.total.count > right.total.count {
		small, large = &right, &left
	}
	small.hist = g.hists.build(g.rows[small.start:small.end], g.pairs)
	n.hist.subtract(small.hist)
	large.hist = n.hist
	if !splitLeft {
		g.hists.release(left.hist)
		left.hist = nil
	}
	if !splitRight {
		g.hists.release(right.hist)
		right.hist = nil
	}
	return left, right
}

// splittable is a max-heap of the nodes waiting to be split, by the gain of
// their best split; on equal gains the node created first comes first, so
// the order does not depend on the heap's layout.
type splittable []node

func (h splittable) Len() int { return len(h) }
func (h splittable) Less(i, j int) bool {
	if h[i].best.gain != h[j].best.gain {
		return h[i].best.gain > h[j].best.gain
	}
	return h[i].index < h[j].index
}
func (h splittable) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *splittable) Push(x any)   { *h = append(*h, x.(node)) }
func (h *splittable) Pop() any {
	old := *h
	n := old[len(old)-1]
	*h = old[:len(old)-1]
	return n
}

// partitionChunkRows is the size of the chunks a node's rows are
// partitioned in.
const partitionChunkRows = 8192

// partition reorders rows[start:end] so that the rows going left come first,
// keeping each side in increasing order for cache-friendly reads, and
// returns where the right side begins. A large node's rows are split into
// chunks, taken in turn by up to workers goroutines, each partitioned alone;
// the chunks' left parts are then moved together, followed by their right
// parts, which gives the same order as one pass.
func (g *grower) partition(start, end int, s split) int {
	col := g.data.column(s.feature)
	rows := g.rows[start:end]
	right := g.rightBuf[start:end]
	chunkRows := max(1, len(rows))
	if g.workers > 1 && len(rows) >= 2*partitionChunkRows {
		chunkRows = partitionChunkRows
	}
	numLeft := make([]int, max(1, (len(rows)+chunkRows-1)/chunkRows))
	parallelTasks(g.workers, len(numLeft), func(c int) {
		lo, hi := c*chunkRows, min(len(rows), (c+1)*chunkRows)
		if s.categories != nil {
			numLeft[c] = partitionChunkSet(col, s.categories, rows[lo:hi], right[lo:hi])
		} else {
			numLeft[c] = partitionChunk(col, s.bin, rows[lo:hi], right[lo:hi])
		}
	})
	left := 0
	for c, n := range numLeft {
		left += copy(rows[left:], rows[c*chunkRows:c*chunkRows+n]) // moves down: copy handles the overlap
	}
	next := left
	for c, n := range numLeft {
		lo, hi := c*chunkRows, min(len(rows), (c+1)*chunkRows)
		next += copy(rows[next:], right[lo:hi-n])
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
