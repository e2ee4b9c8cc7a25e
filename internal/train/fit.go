package train

import (
	"context"
	"fmt"
	"slices"
)

// Fit trains an ensemble on data. It checks ctx between boosting rounds and
// returns ctx's error if it is cancelled.
func Fit(ctx context.Context, cfg Config, data *Dataset) (*Ensemble, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	obj, err := newObjective(cfg.Objective, cfg.NumClasses)
	if err != nil {
		return nil, err
	}
	if err := obj.checkLabels(data.labels); err != nil {
		return nil, err
	}

	workers := resolveWorkers(cfg.Workers)
	mapper := fitBinMapper(data, cfg.MaxBins, cfg.Seed, workers)
	g := newGrower(cfg, mapper, mapper.transform(data, workers), workers)
	ens := &Ensemble{Objective: cfg.Objective, NumFeatures: data.numFeatures}
	raw := newMatrix(obj.numOutputs(), data.NumRows())
	for k, base := range obj.baseScores(data.labels) {
		ens.BaseScores = append(ens.BaseScores, float32(base))
		fill(raw[k], float64(float32(base))) // start where prediction starts
	}
	pairs := make([][]gradPair, obj.numOutputs())
	for k := range pairs {
		pairs[k] = make([]gradPair, data.NumRows())
	}

	for round := range cfg.NumTrees {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("fit stopped after %d of %d rounds: %w", round, cfg.NumTrees, err)
		}
		parallelGradients(obj, data.labels, raw, pairs, workers)
		for k := range raw {
			tree, leaves := g.growTree(pairs[k])
			ens.Trees = append(ens.Trees, tree)
			addLeafValues(raw[k], leaves, workers)
		}
		if cfg.Progress != nil {
			cfg.Progress(round+1, cfg.NumTrees)
		}
	}
	return ens, nil
}

// minParallelRows is the fewest rows worth splitting between goroutines:
// below it, starting them costs more than they save.
const minParallelRows = 16_384

// parallelGradients computes the gradient pairs of every row, splitting
// the rows between up to workers goroutines. Each row's values are computed
// alone, so the split does not change them.
func parallelGradients(obj objective, labels []float64, raw [][]float64, pairs [][]gradPair, workers int) {
	parallelFor(workers, len(labels), minParallelRows, func(_, lo, hi int) {
		obj.gradients(labels[lo:hi], columns(raw, lo, hi), columns(pairs, lo, hi))
	})
}

// addLeafValues adds each leaf's value to the raw score of its rows. The
// leaves tile the grower's row buffer in order, so the positions of that
// buffer are split between up to workers goroutines; every row is updated
// once, by one of them.
func addLeafValues(raw []float64, leaves []leafRows, workers int) {
	starts := make([]int, len(leaves)+1) // leaf j holds positions starts[j]..starts[j+1]-1
	for j, leaf := range leaves {
		starts[j+1] = starts[j] + len(leaf.rows)
	}
	parallelFor(workers, starts[len(leaves)], minParallelRows, func(_, lo, hi int) {
		j, _ := slices.BinarySearch(starts, lo+1) // first leaf ending after lo
		for j--; j < len(leaves) && starts[j] < hi; j++ {
			from, to := max(lo, starts[j])-starts[j], min(hi, starts[j+1])-starts[j]
			v := float64(leaves[j].value)
			for _, r := range leaves[j].rows[from:to] {
				raw[r] += v
			}
		}
	})
}

// columns returns the rows lo..hi of every output of m, an [output][row]
// matrix.
func columns[T any](m [][]T, lo, hi int) [][]T {
	out := make([][]T, len(m))
	for k, col := range m {
		out[k] = col[lo:hi]
	}
	return out
}

func newMatrix(rows, cols int) [][]float64 {
	m := make([][]float64, rows)
	for i := range m {
		m[i] = make([]float64, cols)
	}
	return m
}

func fill(s []float64, v float64) {
	for i := range s {
		s[i] = v
	}
}
