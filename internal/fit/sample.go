package fit

import (
	"errors"
	"fmt"

	"github.com/streamscore/streamscore/internal/model"
)

// Sample bounds the rows a training keeps, so that a window holding more
// than memory allows still trains: past MaxRows usable rows, a uniform
// sample of MaxRows is kept, decided as the records are read, so that
// memory is bounded while reading and not only after.
//
// The sample is reproducible: a row is kept by a hash of Seed and its
// place in the topic (partition and offset; a REST row's index), not by
// the order in which partitions happen to arrive, so the same window and
// seed keep the same rows.
type Sample struct {
	// MaxRows is the most usable rows kept from one read (the training
	// source; the test source is bounded apart by the same number). Zero
	// keeps every row.
	MaxRows int `json:"max_rows" yaml:"max_rows"`
	// KeepClasses are classes kept whole: their rows are sampled only if
	// they alone are more than MaxRows, and the other classes' rows fill
	// what is left of the budget, uniformly. Name a rare class here (the
	// positives of a fraud model) to keep every one of its rows. This
	// shifts the class balance of both training and holdout rows: a
	// classifier's probabilities then over-state the kept classes, while
	// its ranking (AUC) is unaffected.
	KeepClasses []string `json:"keep_classes,omitempty" yaml:"keep_classes"`
	// Seed chooses the sample; the same seed keeps the same rows.
	Seed uint64 `json:"seed,omitempty" yaml:"seed"`
}

func (s Sample) validate(task model.Task) []error {
	var errs []error
	if s.MaxRows < 0 || s.MaxRows == 1 {
		errs = append(errs, fmt.Errorf("max_rows: %d must be 0 (no budget) or at least 2", s.MaxRows))
	}
	if len(s.KeepClasses) > 0 {
		if task == model.Regression {
			errs = append(errs, errors.New("keep_classes: a regressor has no classes"))
		}
		if s.MaxRows == 0 {
			errs = append(errs, errors.New("keep_classes: applies only with max_rows"))
		}
	}
	for i, c := range s.KeepClasses {
		if c == "" {
			errs = append(errs, fmt.Errorf("keep_classes[%d]: is empty", i))
		}
	}
	return errs
}

// reservoir keeps the rows of smallest priority, at most max of them: a
// bottom-k sample, which is uniform when priorities are uniform hashes.
// Once full, a max-heap of slots finds the row a new one replaces.
type reservoir struct {
	max  int
	prio []uint64 // per slot
	heap []int32  // slots, the largest priority first; built when full
}

func newReservoir(maxRows int) *reservoir {
	return &reservoir{max: maxRows}
}

// offer returns the slot for a row of priority p, given n rows kept so
// far: n itself (append) while under the budget, the slot of the row it
// replaces once full, or -1 when the row is not kept.
func (r *reservoir) offer(p uint64, n int) int {
	if n < r.max {
		r.prio = append(r.prio, p)
		if n+1 == r.max {
			r.heap = make([]int32, r.max)
			for i := range r.heap {
				r.heap[i] = int32(i)
			}
			for i := r.max/2 - 1; i >= 0; i-- {
				r.down(i)
			}
		}
		return n
	}
	top := r.heap[0]
	if p >= r.prio[top] {
		return -1
	}
	r.prio[top] = p
	r.down(0)
	return int(top)
}

// down restores the heap below i.
func (r *reservoir) down(i int) {
	h := r.heap
	for {
		largest := i
		for _, c := range [2]int{2*i + 1, 2*i + 2} {
			if c < len(h) && r.prio[h[c]] > r.prio[h[largest]] {
				largest = c
			}
		}
		if largest == i {
			return
		}
		h[i], h[largest] = h[largest], h[i]
		i = largest
	}
}

// priority is a row's place in the sample: a hash of the seed and the
// row's identity, with the top bit clear for a class kept whole, so that
// such rows always come before the others.
func priority(seed uint64, partition int32, offset int64, keep bool) uint64 {
	h := mix64(mix64(seed^uint64(uint32(partition))) ^ uint64(offset))
	if keep {
		return h >> 1
	}
	return h>>1 | 1<<63
}

// mix64 is SplitMix64's finaliser: a cheap hash whose outputs are uniform.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
