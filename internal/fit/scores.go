package fit

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/streamscore/streamscore/internal/model"
)

// Metrics are a model's scores on a holdout, by name; they are stored with
// the version it was published as.
type Metrics map[string]float64

// Metric names. Binary classifiers are scored for their positive (last)
// class; multiclass ones by the unweighted mean over classes (macro), with
// one-vs-rest ROC AUC, as scikit-learn's average="macro" computes them.
const (
	MetricAUC       = "auc"
	MetricF1        = "f1"
	MetricPrecision = "precision"
	MetricRecall    = "recall"
	MetricAccuracy  = "accuracy"
	MetricLogLoss   = "log_loss"
	MetricRMSE      = "rmse"
	MetricMAE       = "mae"
	MetricR2        = "r2"
)

var (
	classificationMetrics = []string{MetricAUC, MetricF1, MetricPrecision, MetricRecall, MetricAccuracy, MetricLogLoss}
	regressionMetrics     = []string{MetricRMSE, MetricMAE, MetricR2}
)

// ErrNoComparison means two models cannot be compared on a metric: one of
// them lacks it (a holdout with a single class has no AUC).
var ErrNoComparison = errors.New("models cannot be compared")

func checkMetric(task model.Task, name string) error {
	valid := classificationMetrics
	if task == model.Regression {
		valid = regressionMetrics
	}
	if !slices.Contains(valid, name) {
		return fmt.Errorf("%q is not a %s metric (%v)", name, task, valid)
	}
	return nil
}

// lowerIsBetter says which way a metric improves.
func lowerIsBetter(name string) bool {
	return name == MetricRMSE || name == MetricMAE || name == MetricLogLoss
}

// Beats reports whether candidate is strictly better than incumbent on the
// metric. A tie keeps the incumbent: a retrained model that is no better is
// not worth a swap.
func Beats(metric string, candidate, incumbent Metrics) (bool, error) {
	c, okC := candidate[metric]
	i, okI := incumbent[metric]
	if !okC || !okI {
		return false, fmt.Errorf("%w: %s is missing from the %s's metrics", ErrNoComparison, metric, map[bool]string{true: "incumbent", false: "candidate"}[okC])
	}
	if lowerIsBetter(metric) {
		return c < i, nil
	}
	return c > i, nil
}

// scoreClassifier computes classification metrics from true class indices
// and per-row class scores (row-major, numClasses per row).
func scoreClassifier(truth []int, scores []float32, numClasses int) Metrics {
	n := len(truth)
	m := Metrics{}
	if n == 0 {
		return m
	}
	predicted := make([]int, n)
	correct := 0
	logLoss := 0.0
	for i := range n {
		row := scores[i*numClasses : (i+1)*numClasses]
		best := 0
		for c := 1; c < numClasses; c++ {
			if row[c] > row[best] {
				best = c
			}
		}
		predicted[i] = best
		if best == truth[i] {
			correct++
		}
		p := math.Min(math.Max(float64(row[truth[i]]), 1e-15), 1-1e-15)
		logLoss -= math.Log(p)
	}
	m[MetricAccuracy] = float64(correct) / float64(n)
	m[MetricLogLoss] = logLoss / float64(n)

	classes := []int{numClasses - 1} // binary: the positive class
	if numClasses > 2 {
		classes = make([]int, numClasses)
		for c := range classes {
			classes[c] = c
		}
	}
	var precision, recall, f1, auc float64
	aucClasses := 0
	for _, c := range classes {
		p, r, f := prf(truth, predicted, c)
		precision += p
		recall += r
		f1 += f
		if a, ok := rocAUC(truth, scores, numClasses, c); ok {
			auc += a
			aucClasses++
		}
	}
	k := float64(len(classes))
	m[MetricPrecision], m[MetricRecall], m[MetricF1] = precision/k, recall/k, f1/k
	// AUC needs both outcomes present; with a class absent from the
	// holdout it is undefined, and left out rather than guessed.
	if aucClasses == len(classes) {
		m[MetricAUC] = auc / k
	}
	return m
}

// prf is precision, recall and F1 of one class; a ratio with a zero
// denominator is 0, as scikit-learn's zero_division=0.
func prf(truth, predicted []int, class int) (precision, recall, f1 float64) {
	var tp, fp, fn float64
	for i := range truth {
		switch {
		case predicted[i] == class && truth[i] == class:
			tp++
		case predicted[i] == class:
			fp++
		case truth[i] == class:
			fn++
		}
	}
	if tp+fp > 0 {
		precision = tp / (tp + fp)
	}
	if tp+fn > 0 {
		recall = tp / (tp + fn)
	}
	if precision+recall > 0 {
		f1 = 2 * precision * recall / (precision + recall)
	}
	return precision, recall, f1
}

// rocAUC is the area under the ROC curve of one class against the rest:
// the probability that a random member scores above a random non-member,
// ties counting half (the Mann-Whitney statistic, from average ranks).
func rocAUC(truth []int, scores []float32, numClasses, class int) (float64, bool) {
	n := len(truth)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	score := func(i int) float32 { return scores[i*numClasses+class] }
	sort.Slice(idx, func(a, b int) bool { return score(idx[a]) < score(idx[b]) })
	var rankSum, positives float64
	for start := 0; start < n; {
		end := start + 1
		for end < n && score(idx[end]) == score(idx[start]) {
			end++
		}
		avgRank := float64(start+end+1) / 2 // ranks start at 1
		for _, i := range idx[start:end] {
			if truth[i] == class {
				rankSum += avgRank
				positives++
			}
		}
		start = end
	}
	negatives := float64(n) - positives
	if positives == 0 || negatives == 0 {
		return 0, false
	}
	return (rankSum - positives*(positives+1)/2) / (positives * negatives), true
}

// scoreRegressor computes regression metrics.
func scoreRegressor(truth, predicted []float64) Metrics {
	n := float64(len(truth))
	if n == 0 {
		return Metrics{}
	}
	var se, ae, mean float64
	for i, y := range truth {
		d := predicted[i] - y
		se += d * d
		ae += math.Abs(d)
		mean += y
	}
	mean /= n
	var ss float64
	for _, y := range truth {
		ss += (y - mean) * (y - mean)
	}
	m := Metrics{MetricRMSE: math.Sqrt(se / n), MetricMAE: ae / n}
	if ss > 0 {
		m[MetricR2] = 1 - se/ss
	}
	return m
}
