package online

import (
	"cmp"
	"errors"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// ErrTooFew says a test has too few paired records to estimate a variance:
// DeLong needs two of each class, the paired t test two records.
var ErrTooFew = errors.New("too few paired records for the test")

// Names of the metrics and tests, as the monitor record spells them.
const (
	MetricROCAUC = "roc_auc"
	MetricMAE    = "mae"
	TestDeLong   = "delong"
	TestPairedT  = "paired_t"
)

// TestResult is a challenger tested against a champion on the same records.
// Z is positive when the challenger is better; PValue is the one-sided
// p-value of it being better. When the variance is zero, Z is 0 if the two
// metrics are equal (PValue 0.5) and otherwise ±Inf (PValue 0 or 1).
type TestResult struct {
	Champion, Challenger float64 // the metric of each on the paired records
	Z, PValue            float64
	Paired               int64
}

// PairedScores keeps a binary classifier's champion and challenger scores
// of the same labelled records, for DeLong's test. It keeps the first
// pairCap records (16 bytes each) and counts the rest in Omitted.
type PairedScores struct {
	pairCap  int
	pos, neg []scorePair
	omitted  int64
}

type scorePair struct{ champion, challenger float64 }

// NewPairedScores returns a PairedScores keeping up to pairCap records.
func NewPairedScores(pairCap int) *PairedScores { return &PairedScores{pairCap: pairCap} }

// Add counts one record both versions scored. A NaN score leaves it out.
func (p *PairedScores) Add(champion, challenger float64, truePositive bool) {
	switch {
	case math.IsNaN(champion) || math.IsNaN(challenger):
	case len(p.pos)+len(p.neg) >= p.pairCap:
		p.omitted++
	case truePositive:
		p.pos = append(p.pos, scorePair{champion, challenger})
	default:
		p.neg = append(p.neg, scorePair{champion, challenger})
	}
}

// Omitted is the number of records beyond the cap, left out of the test.
func (p *PairedScores) Omitted() int64 { return p.omitted }

// Test runs DeLong's test of the challenger's ROC AUC against the
// champion's, with the midrank algorithm of Sun and Xu (2014): each score's
// placement among the other class comes from three midrankings, so the test
// costs O(n log n) where the definition costs O(n²).
func (p *PairedScores) Test() (TestResult, error) {
	m, n := len(p.pos), len(p.neg)
	if m < 2 || n < 2 {
		return TestResult{}, ErrTooFew
	}
	champion10, champion01 := placements(p.pos, p.neg, func(s scorePair) float64 { return s.champion })
	challenger10, challenger01 := placements(p.pos, p.neg, func(s scorePair) float64 { return s.challenger })
	// The variance of the difference of the AUCs is that of the difference
	// of the placements, taken directly rather than from the covariance
	// matrix: no cancellation when the two versions are close.
	var d10, d01 moments
	for i := range champion10 {
		d10.add(challenger10[i] - champion10[i])
	}
	for j := range champion01 {
		d01.add(challenger01[j] - champion01[j])
	}
	res := TestResult{Champion: mean(champion10), Challenger: mean(challenger10), Paired: int64(m + n)}
	variance := d10.variance()/float64(m) + d01.variance()/float64(n)
	res.Z, res.PValue = zTest(res.Challenger-res.Champion, variance, distuv.UnitNormal.Survival)
	return res, nil
}

// placements returns, for each positive, the share of negatives it beats
// (ties count half), and for each negative the share of positives it is
// beaten by: the structural components V10 and V01 of DeLong et al.
func placements(pos, neg []scorePair, score func(scorePair) float64) (v10, v01 []float64) {
	m, n := len(pos), len(neg)
	x := make([]float64, m)
	y := make([]float64, n)
	for i, s := range pos {
		x[i] = score(s)
	}
	for j, s := range neg {
		y[j] = score(s)
	}
	tx, ty, tz := midranks(x), midranks(y), midranks(slices.Concat(x, y))
	v10, v01 = make([]float64, m), make([]float64, n)
	for i := range x {
		v10[i] = (tz[i] - tx[i]) / float64(n)
	}
	for j := range y {
		v01[j] = 1 - (tz[m+j]-ty[j])/float64(m)
	}
	return v10, v01
}

// midranks returns the 1-based rank of each value, ties taking the mean of
// the ranks they span.
func midranks(values []float64) []float64 {
	order := make([]int, len(values))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(values[a], values[b]) })
	ranks := make([]float64, len(values))
	for i := 0; i < len(order); {
		j := i + 1
		for j < len(order) && values[order[j]] == values[order[i]] {
			j++
		}
		rank := float64(i+j+1) / 2 // mean of the ranks i+1 .. j
		for _, k := range order[i:j] {
			ranks[k] = rank
		}
		i = j
	}
	return ranks
}

// PairedErrors accumulates a regressor's champion and challenger errors on
// the same labelled records, for a paired t test on the absolute errors. It
// keeps running moments only, so it has no cap.
type PairedErrors struct {
	diff                 moments // champion's absolute error minus the challenger's
	champion, challenger sum
}

// Add counts one record both versions scored, given each one's error.
func (p *PairedErrors) Add(championErr, challengerErr float64) {
	a, b := math.Abs(championErr), math.Abs(challengerErr)
	if math.IsNaN(a) || math.IsNaN(b) {
		return
	}
	p.diff.add(a - b)
	p.champion.add(a)
	p.challenger.add(b)
}

// Test is scipy.stats.ttest_rel(champion errors, challenger errors), whose
// statistic is positive when the challenger's errors are smaller, with the
// one-sided p-value of Student's t on n-1 degrees of freedom. Champion and
// Challenger are the MAEs on the paired records.
func (p *PairedErrors) Test() (TestResult, error) {
	n := p.diff.n
	if n < 2 {
		return TestResult{}, ErrTooFew
	}
	res := TestResult{
		Champion:   p.champion.value() / float64(n),
		Challenger: p.challenger.value() / float64(n),
		Paired:     n,
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}
	res.Z, res.PValue = zTest(p.diff.mean, p.diff.variance()/float64(n), t.Survival)
	return res, nil
}

// zTest divides a difference by its standard error and takes the upper
// tail, minding a zero variance.
func zTest(diff, variance float64, survival func(float64) float64) (z, p float64) {
	switch {
	case variance > 0:
		z = diff / math.Sqrt(variance)
		return z, survival(z)
	case diff > 0:
		return math.Inf(1), 0
	case diff < 0:
		return math.Inf(-1), 1
	default:
		return 0, 0.5
	}
}

// moments is Welford's running mean and sum of squared deviations.
type moments struct {
	n        int64
	mean, m2 float64
}

func (w *moments) add(x float64) {
	w.n++
	d := x - w.mean
	w.mean += d / float64(w.n)
	w.m2 += d * (x - w.mean)
}

// variance is the sample variance (n-1 in the denominator), as numpy's
// ddof=1 and scipy's ttest_rel use.
func (w *moments) variance() float64 { return w.m2 / float64(w.n-1) }

func mean(xs []float64) float64 {
	var s sum
	for _, x := range xs {
		s.add(x)
	}
	return s.value() / float64(len(xs))
}
