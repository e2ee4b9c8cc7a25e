package online

import (
	"math"
	"slices"
)

// The accumulators below reproduce scikit-learn 1.2's roc_auc_score,
// f1_score, log_loss, mean_squared_error (squared=False) and
// mean_absolute_error on the pairs added to them; the tests compare them
// with scikit-learn itself. A nil result means scikit-learn would raise or
// there is nothing to measure yet.

// logLossEps is where scikit-learn 1.2's log_loss clips probabilities: its
// eps="auto" default is the machine epsilon of float64 input.
const logLossEps = 0x1p-52

// Binary accumulates the metrics of a binary classifier: ROC AUC of the
// positive class's score, F1 of the positive class, log loss. ROC AUC needs
// every score, so it keeps the first pairCap of them (8 bytes each); pairs
// beyond are counted by Omitted and left out of ROC AUC only. A NaN score
// is left out of ROC AUC and log loss (scikit-learn would refuse it).
type Binary struct {
	pairCap    int
	pos, neg   []float64 // scores of the truly positive and negative pairs
	omitted    int64
	tp, fp, fn int64
	n          int64
	loss       sum
	lossN      int64
}

// NewBinary returns a Binary keeping up to pairCap scores for ROC AUC.
func NewBinary(pairCap int) *Binary { return &Binary{pairCap: pairCap} }

// Add counts one pair: the positive class's score, whether the positive
// class was predicted, and whether it was the truth.
func (b *Binary) Add(score float64, predictedPositive, truePositive bool) {
	b.n++
	switch {
	case predictedPositive && truePositive:
		b.tp++
	case predictedPositive:
		b.fp++
	case truePositive:
		b.fn++
	}
	if math.IsNaN(score) {
		return
	}
	b.loss.add(binaryLogLoss(score, truePositive))
	b.lossN++
	switch {
	case len(b.pos)+len(b.neg) >= b.pairCap:
		b.omitted++
	case truePositive:
		b.pos = append(b.pos, score)
	default:
		b.neg = append(b.neg, score)
	}
}

// Count is the number of pairs added.
func (b *Binary) Count() int64 { return b.n }

// Omitted is the number of pairs beyond the cap, left out of ROC AUC.
func (b *Binary) Omitted() int64 { return b.omitted }

// ROCAUC is nil until both classes have been seen among the kept scores.
func (b *Binary) ROCAUC() *float64 {
	auc, ok := rocAUC(b.pos, b.neg)
	if !ok {
		return nil
	}
	return &auc
}

// F1 is that of the positive class; 0 when it was neither predicted nor
// true (scikit-learn's zero_division default).
func (b *Binary) F1() *float64 {
	if b.n == 0 {
		return nil
	}
	f := f1(b.tp, b.fp, b.fn)
	return &f
}

// LogLoss is the mean over pairs with a score.
func (b *Binary) LogLoss() *float64 {
	if b.lossN == 0 {
		return nil
	}
	l := b.loss.value() / float64(b.lossN)
	return &l
}

// binaryLogLoss is scikit-learn's per-sample loss for a 1-D y_pred: clip,
// widen to [1-p, p], renormalise the row, take the true column. The same
// operations in the same order give the same bits.
func binaryLogLoss(score float64, truePositive bool) float64 {
	p := min(max(score, logLossEps), 1-logLossEps)
	q := 1 - p
	total := q + p
	if truePositive {
		return -math.Log(p / total)
	}
	return -math.Log(q / total)
}

// rocAUC is the Mann-Whitney statistic with ties counted half, which is
// what scikit-learn's trapezoidal area under the ROC curve comes to. It
// counts in half units, exact in an int64, and divides once. It sorts its
// arguments in place.
func rocAUC(pos, neg []float64) (float64, bool) {
	if len(pos) == 0 || len(neg) == 0 {
		return 0, false
	}
	slices.Sort(pos)
	slices.Sort(neg)
	var halves int64 // 2 per negative below a positive, 1 per tie
	below, upTo := 0, 0
	for _, s := range pos {
		for below < len(neg) && neg[below] < s {
			below++
		}
		upTo = max(upTo, below)
		for upTo < len(neg) && neg[upTo] == s {
			upTo++
		}
		halves += int64(below + upTo)
	}
	return float64(halves) / (2 * float64(len(pos)) * float64(len(neg))), true
}

// f1 follows scikit-learn's arithmetic: precision and recall first (0 on a
// zero denominator), then 2pr/(p+r) (0 when both are 0).
func f1(tp, fp, fn int64) float64 {
	precision, recall := ratio(tp, tp+fp), ratio(tp, tp+fn)
	denom := precision + recall
	if denom == 0 {
		denom = 1
	}
	return 2 * precision * recall / denom
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Multiclass accumulates F1 macro and log loss of a classifier with more
// than two classes. Classes are indexes into the model's labels.
type Multiclass struct {
	tp, fp, fn []int64 // per class; the last slot is "a predicted label the model does not have"
	n          int64
	loss       sum
	lossN      int64
}

// NewMulticlass returns a Multiclass for the given number of classes.
func NewMulticlass(classes int) *Multiclass {
	return &Multiclass{tp: make([]int64, classes+1), fp: make([]int64, classes+1), fn: make([]int64, classes+1)}
}

// Add counts one pair. predicted is -1 for a label outside the model's
// classes (all such labels count as one extra class, where scikit-learn
// would count each distinct one). scores, in class order, feed log loss
// when there is one per class; otherwise the pair is left out of it.
func (m *Multiclass) Add(predicted, truth int, scores []float64) {
	m.n++
	other := len(m.tp) - 1
	if predicted < 0 || predicted >= other {
		predicted = other
	}
	if predicted == truth {
		m.tp[truth]++
	} else {
		m.fp[predicted]++
		m.fn[truth]++
	}
	if len(scores) != other || slices.ContainsFunc(scores, math.IsNaN) {
		return
	}
	m.loss.add(multiclassLogLoss(scores, truth))
	m.lossN++
}

// Count is the number of pairs added.
func (m *Multiclass) Count() int64 { return m.n }

// F1 is the unweighted mean of the per-class F1 over the classes that were
// true or predicted at least once, as scikit-learn's average="macro".
func (m *Multiclass) F1() *float64 {
	if m.n == 0 {
		return nil
	}
	var total float64
	var classes int
	for c := range m.tp {
		if m.tp[c]+m.fp[c]+m.fn[c] == 0 {
			continue
		}
		total += f1(m.tp[c], m.fp[c], m.fn[c])
		classes++
	}
	f := total / float64(classes)
	return &f
}

// LogLoss is the mean over pairs with a full set of scores.
func (m *Multiclass) LogLoss() *float64 {
	if m.lossN == 0 {
		return nil
	}
	l := m.loss.value() / float64(m.lossN)
	return &l
}

// multiclassLogLoss clips each score, renormalises the row and takes the
// true class's share, as scikit-learn does.
func multiclassLogLoss(scores []float64, truth int) float64 {
	var total float64
	for _, s := range scores {
		total += min(max(s, logLossEps), 1-logLossEps)
	}
	p := min(max(scores[truth], logLossEps), 1-logLossEps)
	return -math.Log(p / total)
}

// Regression accumulates RMSE and MAE.
type Regression struct {
	n                 int64
	squared, absolute sum
}

// Add counts one pair.
func (r *Regression) Add(predicted, truth float64) {
	r.n++
	d := truth - predicted
	r.squared.add(d * d)
	r.absolute.add(math.Abs(d))
}

// Count is the number of pairs added.
func (r *Regression) Count() int64 { return r.n }

// RMSE is the root of the mean squared error.
func (r *Regression) RMSE() *float64 {
	if r.n == 0 {
		return nil
	}
	v := math.Sqrt(r.squared.value() / float64(r.n))
	return &v
}

// MAE is the mean absolute error.
func (r *Regression) MAE() *float64 {
	if r.n == 0 {
		return nil
	}
	v := r.absolute.value() / float64(r.n)
	return &v
}

// sum is Neumaier's compensated sum: a window's million terms add up to
// within an ulp or two of the exact sum, which numpy's pairwise sum also
// comes within, so the two agree far inside the tests' 1e-12.
type sum struct{ s, c float64 }

func (k *sum) add(x float64) {
	t := k.s + x
	if math.Abs(k.s) >= math.Abs(x) {
		k.c += (k.s - t) + x
	} else {
		k.c += (x - t) + k.s
	}
	k.s = t
}

func (k *sum) value() float64 { return k.s + k.c }
