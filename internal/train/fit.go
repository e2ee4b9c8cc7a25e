package train

import (
	"context"
	"fmt"
	"slices"
)

// Fit trains an ensemble on data, as scikit-learn's HistGradientBoosting
// estimators do (see Config). With early stopping, a stratified
// ValidationFraction of the rows is held out before binning and scored
// after every round. It checks ctx between boosting rounds and returns
// ctx's error if it is cancelled.
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
	if err := checkCategoryCodes(data, cfg.MaxBins); err != nil {
		return nil, err
	}
	var classWeights []float64
	if cfg.Objective != SquaredError {
		// As scikit-learn, from every row, before the validation split.
		classWeights = cfg.ClassWeight.resolve(data.labels, cfg.numClasses())
	}

	workers := resolveWorkers(cfg.Workers)
	var trainRows, valRows []int32 // nil: train on every row
	if cfg.EarlyStopping.enabled(data.NumRows()) {
		strata := 0
		if cfg.Objective != SquaredError {
			strata = cfg.numClasses()
		}
		if trainRows, valRows, err = validationSplit(data.labels, cfg.ValidationFraction, strata, cfg.Seed); err != nil {
			return nil, fmt.Errorf("early stopping: %w", err)
		}
	}
	mapper := fitBinMapper(data, trainRows, cfg.MaxBins, cfg.Seed, workers)
	g := newGrower(cfg, mapper, mapper.transform(data, trainRows, workers), workers)
	labels := gather(data.labels, trainRows)
	ens := &Ensemble{Objective: cfg.Objective, NumFeatures: data.numFeatures}
	raw := newMatrix(obj.numOutputs(), len(labels))
	baseScores := obj.baseScores(labels, classWeights)
	for k, base := range baseScores {
		ens.BaseScores = append(ens.BaseScores, float32(base))
		fill(raw[k], float64(float32(base))) // start where prediction starts
	}
	var stopper *earlyStopper
	if valRows != nil {
		stopper = newEarlyStopper(cfg, obj, mapper.transform(data, valRows, workers), gather(data.labels, valRows), classWeights, baseScores, workers)
	}
	pairs := make([][]gradPair, obj.numOutputs())
	for k := range pairs {
		pairs[k] = make([]gradPair, len(labels))
	}

	for round := range cfg.MaxIter {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("fit stopped after %d of %d rounds: %w", round, cfg.MaxIter, err)
		}
		parallelGradients(obj, labels, raw, pairs, classWeights, workers)
		for k := range raw {
			grown := g.growTree(pairs[k])
			ens.Trees = append(ens.Trees, grown.tree)
			addLeafValues(raw[k], grown.leaves, workers)
			if stopper != nil {
				stopper.addTree(k, grown)
			}
		}
		ens.Stats.Iterations = round + 1
		if cfg.Progress != nil {
			cfg.Progress(round+1, cfg.MaxIter)
		}
		if stopper != nil && stopper.endRound() {
			ens.Stats.EarlyStopped = round+1 < cfg.MaxIter
			break
		}
	}
	if stopper != nil {
		ens.Stats.ValidationScores = stopper.scores
	}
	return ens, nil
}

// checkCategoryCodes refuses a categorical feature with more codes than
// maxBins: a feature's codes are its bins, and a feature has maxBins bins
// besides the one of missing values.
func checkCategoryCodes(data *Dataset, maxBins int) error {
	for f := range data.numFeatures {
		if codes := data.Categories(f); codes > maxBins {
			return fmt.Errorf("%w: categorical feature %d has %d category codes, more than MaxBins (%d): "+
				"its codes are its bins, so keep at most MaxBins-2 categories beside the other and null codes",
				ErrInvalidData, f, codes, maxBins)
		}
	}
	return nil
}

// gather returns values[rows[i]] for every i, or values itself when rows
// is nil.
func gather(values []float64, rows []int32) []float64 {
	if rows == nil {
		return values
	}
	out := make([]float64, len(rows))
	for i, r := range rows {
		out[i] = values[r]
	}
	return out
}

// minParallelRows is the fewest rows worth splitting between goroutines:
// below it, starting them costs more than they save.
const minParallelRows = 16_384

// parallelGradients computes the gradient pairs of every row, splitting
// the rows between up to workers goroutines. Each row's values are computed
// alone, so the split does not change them.
func parallelGradients(obj objective, labels []float64, raw [][]float64, pairs [][]gradPair, classWeights []float64, workers int) {
	parallelRows(workers, len(labels), minParallelRows, func(lo, hi int) {
		obj.gradients(labels[lo:hi], columns(raw, lo, hi), columns(pairs, lo, hi), classWeights)
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
	parallelRows(workers, starts[len(leaves)], minParallelRows, func(lo, hi int) {
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
