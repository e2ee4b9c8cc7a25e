package train

import (
	"context"
	"fmt"
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
	grad := newMatrix(obj.numOutputs(), data.NumRows())
	hess := newMatrix(obj.numOutputs(), data.NumRows())

	for round := range cfg.NumTrees {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("fit stopped after %d of %d rounds: %w", round, cfg.NumTrees, err)
		}
		parallelGradients(obj, data.labels, raw, grad, hess, workers)
		for k := range raw {
			tree, leaves := g.growTree(grad[k], hess[k])
			ens.Trees = append(ens.Trees, tree)
			for _, leaf := range leaves {
				for _, r := range leaf.rows {
					raw[k][r] += float64(leaf.value)
				}
			}
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

// parallelGradients computes the gradients and hessians of every row,
// splitting the rows between up to workers goroutines. Each row's values
// are computed alone, so the split does not change them.
func parallelGradients(obj objective, labels []float64, raw, grad, hess [][]float64, workers int) {
	parallelFor(workers, len(labels), minParallelRows, func(_, lo, hi int) {
		obj.gradients(labels[lo:hi], columns(raw, lo, hi), columns(grad, lo, hi), columns(hess, lo, hi))
	})
}

// columns returns the rows lo..hi of every output of m, an [output][row]
// matrix.
func columns(m [][]float64, lo, hi int) [][]float64 {
	out := make([][]float64, len(m))
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
