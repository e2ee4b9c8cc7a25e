package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// EarlyStopping chooses whether Fit stops once the validation loss stops
// improving, scikit-learn's early_stopping.
type EarlyStopping int

const (
	// EarlyStoppingAuto, the zero value and the default, stops early when
	// the training set has more than 10,000 rows, as 'auto' does.
	EarlyStoppingAuto EarlyStopping = iota
	// EarlyStoppingOn always stops early (True).
	EarlyStoppingOn
	// EarlyStoppingOff always grows MaxIter rounds (False).
	EarlyStoppingOff
)

// autoEarlyStoppingRows is the most rows EarlyStoppingAuto fits without
// early stopping: scikit-learn's threshold.
const autoEarlyStoppingRows = 10_000

// String returns the mode as scikit-learn spells it.
func (e EarlyStopping) String() string {
	switch e {
	case EarlyStoppingAuto:
		return "auto"
	case EarlyStoppingOn:
		return "true"
	case EarlyStoppingOff:
		return "false"
	}
	return fmt.Sprintf("EarlyStopping(%d)", int(e))
}

func (e EarlyStopping) valid() bool {
	return e == EarlyStoppingAuto || e == EarlyStoppingOn || e == EarlyStoppingOff
}

// enabled reports whether a fit of numRows rows stops early.
func (e EarlyStopping) enabled(numRows int) bool {
	switch e {
	case EarlyStoppingOn:
		return true
	case EarlyStoppingOff:
		return false
	}
	return numRows > autoEarlyStoppingRows
}

// validationSplit holds out ceil(fraction·rows) rows, as scikit-learn's
// train_test_split does, and returns the training and validation rows,
// each in increasing order. With numClasses > 0 the split is stratified:
// each class gives the validation set its share of the held-out rows,
// rounded down, and the rows left over go to the classes with the largest
// remainders (the lowest class first on a tie). Which rows of a class are
// held out is drawn from seed.
func validationSplit(labels []float64, fraction float64, numClasses int, seed uint64) (train, val []int32, err error) {
	n := len(labels)
	numVal := int(math.Ceil(fraction * float64(n)))
	if numVal < 1 || numVal >= n {
		return nil, nil, fmt.Errorf("%w: %d rows cannot give a validation set of %v of them and keep rows to train on", ErrInvalidData, n, fraction)
	}
	// groups lists the rows class by class (one group without
	// stratification); starts[k] is where class k's rows begin.
	groups := make([]int32, n)
	numGroups := max(numClasses, 1)
	starts := make([]int, numGroups+1)
	class := func(i int) int {
		if numClasses == 0 {
			return 0
		}
		return int(labels[i])
	}
	for i := range n {
		starts[class(i)+1]++
	}
	for k := range numGroups {
		starts[k+1] += starts[k]
	}
	next := slices.Clone(starts[:numGroups])
	for i := range n {
		k := class(i)
		groups[next[k]] = int32(i)
		next[k]++
	}
	take := stratumSizes(starts, numVal)
	held := make([]bool, n)
	rng := rand.New(rand.NewPCG(seed, 0xea51))
	for k := range numGroups {
		group := groups[starts[k]:starts[k+1]]
		for j := range take[k] { // a partial Fisher–Yates shuffle
			r := j + rng.IntN(len(group)-j)
			group[j], group[r] = group[r], group[j]
			held[group[j]] = true
		}
	}
	train, val = make([]int32, 0, n-numVal), make([]int32, 0, numVal)
	for i, h := range held {
		if h {
			val = append(val, int32(i))
		} else {
			train = append(train, int32(i))
		}
	}
	return train, val, nil
}

// stratumSizes shares numVal held-out rows between the groups whose rows
// start at starts[k], in proportion to their sizes.
func stratumSizes(starts []int, numVal int) []int {
	numGroups, n := len(starts)-1, starts[len(starts)-1]
	take := make([]int, numGroups)
	remainders := make([]float64, numGroups)
	left := numVal
	for k := range numGroups {
		exact := float64(numVal) * float64(starts[k+1]-starts[k]) / float64(n)
		take[k] = int(exact)
		remainders[k] = exact - float64(take[k])
		left -= take[k]
	}
	for ; left > 0; left-- {
		best := -1
		for k := range numGroups {
			if take[k] < starts[k+1]-starts[k] && (best < 0 || remainders[k] > remainders[best]) {
				best = k
			}
		}
		take[best]++
		remainders[best] = -1
	}
	return take
}

// earlyStopper scores the ensemble on the validation rows after every round
// and says when to stop, by scikit-learn's rule with scoring='loss': the
// score is minus the mean validation loss, rows weighted by class, the
// first score is the base scores', and the fit stops once none of the last
// NIterNoChange scores beats the one before them by more than Tol.
type earlyStopper struct {
	obj          objective
	bins         binnedData
	labels       []float64
	classWeights []float64
	raw          [][]float64 // [output][validation row]
	noChange     int
	tol          float64
	workers      int
	scores       []float64
}

func newEarlyStopper(cfg Config, obj objective, bins binnedData, labels, classWeights, baseScores []float64, workers int) *earlyStopper {
	s := &earlyStopper{
		obj: obj, bins: bins, labels: labels, classWeights: classWeights,
		raw: newMatrix(len(baseScores), len(labels)), noChange: cfg.NIterNoChange, tol: cfg.Tol, workers: workers,
	}
	for k, base := range baseScores {
		fill(s.raw[k], float64(float32(base)))
	}
	s.scores = append(s.scores, -s.loss())
	return s
}

// addTree adds the leaf values of a tree of output k to the validation
// rows' raw scores, routing them by their bins.
func (s *earlyStopper) addTree(k int, t grownTree) {
	raw := s.raw[k]
	parallelRows(s.workers, len(raw), minParallelRows, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			j := 0
			for !t.tree.Nodes[j].Leaf {
				n := &t.tree.Nodes[j]
				bin := s.bins.column(int(n.Feature))[i]
				if set := t.tree.categories(j); set == nil && bin <= t.bins[j] || set != nil && set.has(int(bin)) {
					j = int(n.Left)
				} else {
					j = int(n.Right)
				}
			}
			raw[i] += float64(t.tree.Nodes[j].Value)
		}
	})
}

// lossBlock is the number of rows whose losses are summed together: fixed,
// so that the sum, and the rounds, do not depend on the number of workers.
const lossBlock = 16_384

// loss returns the weighted mean loss of the validation rows.
func (s *earlyStopper) loss() float64 {
	n := len(s.labels)
	numBlocks := (n + lossBlock - 1) / lossBlock
	sums, weights := make([]float64, numBlocks), make([]float64, numBlocks)
	parallelFor(s.workers, numBlocks, 1, func(_, lo, hi int) {
		for b := lo; b < hi; b++ {
			for i := b * lossBlock; i < min(n, (b+1)*lossBlock); i++ {
				w := rowWeight(s.classWeights, s.labels[i])
				sums[b] += w * s.obj.loss(s.labels[i], s.raw, i)
				weights[b] += w
			}
		}
	})
	var sum, weight float64
	for b := range numBlocks {
		sum += sums[b]
		weight += weights[b]
	}
	return sum / weight
}

// endRound scores the round just grown and reports whether to stop.
func (s *earlyStopper) endRound() bool {
	s.scores = append(s.scores, -s.loss())
	return shouldStop(s.scores, s.noChange, s.tol)
}

// shouldStop is scikit-learn's _should_stop: with n = noChange, stop when
// there are more than n scores and none of the last n is above the score
// n+1 from the end plus tol.
func shouldStop(scores []float64, noChange int, tol float64) bool {
	ref := noChange + 1
	if len(scores) < ref {
		return false
	}
	reference := scores[len(scores)-ref] + tol
	for _, s := range scores[len(scores)-ref+1:] {
		if s > reference {
			return false
		}
	}
	return true
}
