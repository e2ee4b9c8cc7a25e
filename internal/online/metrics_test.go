package online

import (
	"math"
	"math/rand/v2"
	"testing"
)

// sklearnTolerance is the relative difference allowed from scikit-learn:
// the sums run in a different order (compensated here, pairwise in numpy).
const sklearnTolerance = 1e-12

type binaryPairs struct {
	name             string
	score            []float64
	predicted, truth []int
}

func binaryCases() []binaryPairs {
	r := rand.New(rand.NewPCG(1, 2))
	random := func(name string, n int, round float64, p float64) binaryPairs {
		c := binaryPairs{name: name}
		for range n {
			truth := 0
			if r.Float64() < p {
				truth = 1
			}
			s := min(1, max(0, r.NormFloat64()*0.25+0.35+0.3*float64(truth)))
			if round > 0 {
				s = math.Round(s/round) * round
			}
			c.add(s, truth)
		}
		return c
	}
	allTied := binaryPairs{name: "every score tied"}
	for i := range 50 {
		allTied.add(0.5, i%3%2)
	}
	extremes := binaryPairs{name: "scores at 0 and 1 and below eps, clipped"}
	for _, s := range []float64{0, 1, 1e-17, 1 - 1e-17, 0, 1, 0.3, 0.7} {
		extremes.add(s, 0)
		extremes.add(s, 1)
	}
	oneClass := binaryPairs{name: "only negatives: no ROC AUC, F1 zero"}
	for range 20 {
		oneClass.add(r.Float64()*0.4, 0)
	}
	onlyPositives := binaryPairs{name: "only positives"}
	for range 20 {
		onlyPositives.add(r.Float64(), 1)
	}
	return []binaryPairs{
		random("continuous scores", 2000, 0, 0.3),
		random("scores rounded to 0.1, many ties", 3000, 0.1, 0.4),
		random("scores rounded to 0.25, rare positives", 5000, 0.25, 0.02),
		allTied, extremes, oneClass, onlyPositives,
	}
}

func (c *binaryPairs) add(score float64, truth int) {
	predicted := 0
	if score >= 0.5 {
		predicted = 1
	}
	c.score = append(c.score, score)
	c.predicted = append(c.predicted, predicted)
	c.truth = append(c.truth, truth)
}

func TestBinaryMatchesSklearn(t *testing.T) {
	cases := binaryCases()
	var in []map[string]any
	for _, c := range cases {
		in = append(in, map[string]any{"kind": "binary", "score": c.score, "predicted": c.predicted, "truth": c.truth})
	}
	want := reference[sklearnMetrics](t, in)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := NewBinary(len(c.score))
			for k := range c.score {
				b.Add(c.score[k], c.predicted[k] == 1, c.truth[k] == 1)
			}
			checkClose(t, "ROC AUC", b.ROCAUC(), want[i].ROCAUC, sklearnTolerance)
			checkClose(t, "F1", b.F1(), want[i].F1, sklearnTolerance)
			checkClose(t, "log loss", b.LogLoss(), want[i].LogLoss, sklearnTolerance)
			if b.Count() != int64(len(c.score)) {
				t.Errorf("Count = %d, want %d", b.Count(), len(c.score))
			}
		})
	}
}

// sklearnMetrics is what reference.py returns for the metric cases.
type sklearnMetrics struct {
	ROCAUC  *float64 `json:"roc_auc"`
	F1      *float64 `json:"f1"`
	LogLoss *float64 `json:"log_loss"`
	RMSE    *float64 `json:"rmse"`
	MAE     *float64 `json:"mae"`
}

// TestBinaryKeepsFirstPairsForAUC checks the cap: ROC AUC over the first
// pairCap pairs, F1 and log loss over all of them, the rest counted.
func TestBinaryKeepsFirstPairsForAUC(t *testing.T) {
	c := binaryCases()[1]
	const pairCap = 700
	in := []map[string]any{
		{"kind": "binary", "score": c.score, "predicted": c.predicted, "truth": c.truth},
		{"kind": "binary", "score": c.score[:pairCap], "predicted": c.predicted[:pairCap], "truth": c.truth[:pairCap]},
	}
	want := reference[sklearnMetrics](t, in)
	b := NewBinary(pairCap)
	for k := range c.score {
		b.Add(c.score[k], c.predicted[k] == 1, c.truth[k] == 1)
	}
	checkClose(t, "ROC AUC", b.ROCAUC(), want[1].ROCAUC, sklearnTolerance)
	checkClose(t, "F1", b.F1(), want[0].F1, sklearnTolerance)
	checkClose(t, "log loss", b.LogLoss(), want[0].LogLoss, sklearnTolerance)
	if got, wantOmitted := b.Omitted(), int64(len(c.score)-pairCap); got != wantOmitted {
		t.Errorf("Omitted = %d, want %d", got, wantOmitted)
	}
}

func TestEmptyAccumulatorsHaveNoMetrics(t *testing.T) {
	b, m, r := NewBinary(10), NewMulticlass(3), &Regression{}
	for name, v := range map[string]*float64{
		"binary ROC AUC": b.ROCAUC(), "binary F1": b.F1(), "binary log loss": b.LogLoss(),
		"multiclass F1": m.F1(), "multiclass log loss": m.LogLoss(),
		"RMSE": r.RMSE(), "MAE": r.MAE(),
	} {
		if v != nil {
			t.Errorf("%s = %v on no pairs, want nil", name, *v)
		}
	}
}

type multiclassPairs struct {
	name             string
	classes          int
	predicted, truth []int
	scores           [][]float64
}

func multiclassCases() []multiclassPairs {
	r := rand.New(rand.NewPCG(3, 4))
	random := func(name string, n, classes int, used int, zeroes bool) multiclassPairs {
		c := multiclassPairs{name: name, classes: classes}
		for range n {
			truth := r.IntN(used)
			row := make([]float64, classes)
			var total float64
			for k := range row {
				row[k] = r.Float64()
				if k == truth {
					row[k] += 0.4 // right more often than not, not always
				}
				if zeroes && r.IntN(4) == 0 {
					row[k] = 0
				}
				total += row[k]
			}
			if total == 0 {
				row[truth], total = 1, 1
			}
			best := 0
			for k := range row {
				// float32 rounding: ONNX scores do not sum to 1 exactly.
				row[k] = float64(float32(row[k] / total))
				if row[k] > row[best] {
					best = k
				}
			}
			c.truth = append(c.truth, truth)
			c.predicted = append(c.predicted, best)
			c.scores = append(c.scores, row)
		}
		return c
	}
	unknown := random("some predictions not a model class", 400, 3, 3, false)
	for i := range unknown.predicted {
		if i%7 == 0 {
			unknown.predicted[i] = -1
		}
	}
	return []multiclassPairs{
		random("four classes", 3000, 4, 4, false),
		random("zero scores, clipped", 1000, 3, 3, true),
		random("a class never true nor predicted", 800, 5, 3, false),
		unknown,
	}
}

func TestMulticlassMatchesSklearn(t *testing.T) {
	cases := multiclassCases()
	var in []map[string]any
	for _, c := range cases {
		in = append(in, map[string]any{"kind": "multiclass", "classes": c.classes, "predicted": c.predicted, "truth": c.truth, "scores": c.scores})
	}
	want := reference[sklearnMetrics](t, in)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewMulticlass(c.classes)
			for k := range c.truth {
				m.Add(c.predicted[k], c.truth[k], c.scores[k])
			}
			checkClose(t, "F1", m.F1(), want[i].F1, sklearnTolerance)
			checkClose(t, "log loss", m.LogLoss(), want[i].LogLoss, sklearnTolerance)
		})
	}
}

func TestMulticlassLeavesPairsWithoutScoresOutOfLogLoss(t *testing.T) {
	m := NewMulticlass(3)
	m.Add(0, 0, []float64{0.5, 0.25, 0.25})
	m.Add(1, 0, nil)
	m.Add(1, 1, []float64{0.5, 0.5}) // one score short
	want := -math.Log(0.5)
	if got := m.LogLoss(); got == nil || *got != want {
		t.Errorf("LogLoss = %v, want %v from the one full row", show(got), want)
	}
	if m.Count() != 3 {
		t.Errorf("Count = %d, want 3: pairs without scores still count for F1", m.Count())
	}
}

func TestRegressionMatchesSklearn(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	type pairs struct {
		name             string
		predicted, truth []float64
	}
	random := func(name string, n int, scale, offset float64) pairs {
		p := pairs{name: name}
		for range n {
			truth := offset + scale*r.NormFloat64()
			p.truth = append(p.truth, truth)
			p.predicted = append(p.predicted, truth+scale*0.3*r.NormFloat64())
		}
		return p
	}
	cases := []pairs{
		random("unit scale", 5000, 1, 0),
		random("large offset", 20000, 3, 1e6),
		random("tiny values", 1000, 1e-9, 0),
		{name: "one exact pair", predicted: []float64{2.5}, truth: []float64{2.5}},
	}
	var in []map[string]any
	for _, c := range cases {
		in = append(in, map[string]any{"kind": "regression", "predicted": c.predicted, "truth": c.truth})
	}
	want := reference[sklearnMetrics](t, in)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var acc Regression
			for k := range c.truth {
				acc.Add(c.predicted[k], c.truth[k])
			}
			checkClose(t, "RMSE", acc.RMSE(), want[i].RMSE, sklearnTolerance)
			checkClose(t, "MAE", acc.MAE(), want[i].MAE, sklearnTolerance)
		})
	}
}
