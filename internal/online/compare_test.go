package online

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// Relative differences allowed from the Python references. The statistics
// agree to a few ulps although the naive DeLong takes the variance from a
// covariance matrix and the Go code from the differences directly, and the
// paired t test accumulates its moments in one pass where scipy takes two.
// The p-values differ more (about 1e-11 measured): gonum's normal and
// Student tails are not cephes's, and a tail amplifies the statistic's
// last-digit differences.
const (
	statisticTolerance = 1e-12
	pValueTolerance    = 1e-9
)

type referenceTest struct {
	Champion   float64 `json:"champion"`
	Challenger float64 `json:"challenger"`
	Z          float64 `json:"z"`
	PValue     float64 `json:"p_value"`
}

func TestDeLongMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	type scored struct {
		name                 string
		champion, challenger []float64
		truth                []int
	}
	// correlated draws a champion and a challenger whose scores share the
	// record's difficulty, as two versions of one model do.
	correlated := func(name string, n int, pPositive, challengerGain, round float64) scored {
		s := scored{name: name}
		for range n {
			truth := 0
			if r.Float64() < pPositive {
				truth = 1
			}
			shared := r.NormFloat64() + float64(truth)
			a := shared + 0.8*r.NormFloat64()
			b := shared + 0.8*r.NormFloat64() + challengerGain*float64(truth)
			if round > 0 {
				a, b = math.Round(a/round)*round, math.Round(b/round)*round
			}
			s.champion, s.challenger, s.truth = append(s.champion, a), append(s.challenger, b), append(s.truth, truth)
		}
		return s
	}
	three := scored{name: "three score values, ties everywhere"}
	for range 400 {
		truth := r.IntN(2)
		three.truth = append(three.truth, truth)
		three.champion = append(three.champion, float64(min(2, r.IntN(3)+truth))/2)
		three.challenger = append(three.challenger, float64(min(2, r.IntN(2)+truth))/2)
	}
	cases := []scored{
		correlated("continuous, challenger better", 600, 0.4, 0.5, 0),
		correlated("continuous, challenger worse", 500, 0.3, -0.4, 0),
		correlated("rounded to 0.5, many ties", 700, 0.5, 0.2, 0.5),
		correlated("rare positives", 900, 0.05, 0.3, 0.1),
		three,
		{name: "smallest: two of each class", champion: []float64{0.1, 0.4, 0.35, 0.8}, challenger: []float64{0.2, 0.3, 0.6, 0.9}, truth: []int{0, 0, 1, 1}},
	}
	var in []map[string]any
	for _, c := range cases {
		in = append(in, map[string]any{"kind": "delong", "champion": c.champion, "challenger": c.challenger, "truth": c.truth})
	}
	want := reference[referenceTest](t, in)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := NewPairedScores(len(c.truth))
			for k := range c.truth {
				p.Add(c.champion[k], c.challenger[k], c.truth[k] == 1)
			}
			got, err := p.Test()
			if err != nil {
				t.Fatal(err)
			}
			checkTest(t, got, want[i])
			if got.Paired != int64(len(c.truth)) {
				t.Errorf("Paired = %d, want %d", got.Paired, len(c.truth))
			}
		})
	}
}

func TestPairedTMatchesScipy(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	type errs struct {
		name                 string
		champion, challenger []float64
	}
	random := func(name string, n int, scale, gain float64) errs {
		e := errs{name: name}
		for range n {
			shared := scale * r.NormFloat64()
			e.champion = append(e.champion, shared+scale*r.NormFloat64())
			e.challenger = append(e.challenger, (shared+scale*r.NormFloat64())*(1-gain))
		}
		return e
	}
	cases := []errs{
		random("challenger better", 2000, 1, 0.2),
		random("challenger worse", 500, 3, -0.1),
		random("no difference", 5000, 0.01, 0),
		random("large errors", 1000, 1e5, 0.05),
		{name: "two records", champion: []float64{1, 2}, challenger: []float64{0.5, 1.9}},
	}
	var in []map[string]any
	for _, c := range cases {
		abs := func(xs []float64) []float64 {
			out := make([]float64, len(xs))
			for i, x := range xs {
				out[i] = math.Abs(x)
			}
			return out
		}
		in = append(in, map[string]any{"kind": "ttest", "champion": abs(c.champion), "challenger": abs(c.challenger)})
	}
	want := reference[referenceTest](t, in)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p PairedErrors
			for k := range c.champion {
				p.Add(c.champion[k], c.challenger[k]) // signed errors: Add takes their absolute values
			}
			got, err := p.Test()
			if err != nil {
				t.Fatal(err)
			}
			checkTest(t, got, want[i])
		})
	}
}

func checkTest(t *testing.T, got TestResult, want referenceTest) {
	t.Helper()
	for _, f := range []struct {
		name           string
		got, want, tol float64
	}{
		{"champion metric", got.Champion, want.Champion, statisticTolerance},
		{"challenger metric", got.Challenger, want.Challenger, statisticTolerance},
		{"z", got.Z, want.Z, statisticTolerance},
		{"p-value", got.PValue, want.PValue, pValueTolerance},
	} {
		if !closeTo(f.got, f.want, f.tol) {
			t.Errorf("%s = %.17g, want %.17g", f.name, f.got, f.want)
		}
	}
}

func TestTestsNeedEnoughRecords(t *testing.T) {
	tests := []struct {
		name string
		run  func() error
	}{
		{"DeLong with one positive", func() error {
			p := NewPairedScores(10)
			p.Add(0.9, 0.8, true)
			p.Add(0.1, 0.2, false)
			p.Add(0.2, 0.1, false)
			_, err := p.Test()
			return err
		}},
		{"DeLong with one negative", func() error {
			p := NewPairedScores(10)
			p.Add(0.9, 0.8, true)
			p.Add(0.7, 0.8, true)
			p.Add(0.2, 0.1, false)
			_, err := p.Test()
			return err
		}},
		{"paired t with one record", func() error {
			var p PairedErrors
			p.Add(1, 2)
			_, err := p.Test()
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, ErrTooFew) {
				t.Errorf("err = %v, want ErrTooFew", err)
			}
		})
	}
}

func TestZeroVarianceGivesDefinedResults(t *testing.T) {
	tests := []struct {
		name      string
		result    func() (TestResult, error)
		z, pValue float64
	}{
		{"equal perfect AUCs", func() (TestResult, error) {
			p := NewPairedScores(10)
			p.Add(0.9, 0.8, true)
			p.Add(0.8, 0.9, true)
			p.Add(0.1, 0.2, false)
			p.Add(0.2, 0.1, false)
			return p.Test()
		}, 0, 0.5},
		{"challenger all tied, champion perfect", func() (TestResult, error) {
			p := NewPairedScores(10)
			p.Add(0.9, 0.5, true)
			p.Add(0.8, 0.5, true)
			p.Add(0.1, 0.5, false)
			p.Add(0.2, 0.5, false)
			return p.Test()
		}, math.Inf(-1), 1},
		{"challenger's errors smaller by a constant", func() (TestResult, error) {
			var p PairedErrors
			p.Add(2, 1)
			p.Add(-3, 2)
			p.Add(4, -3)
			return p.Test()
		}, math.Inf(1), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.result()
			if err != nil {
				t.Fatal(err)
			}
			if got.Z != tt.z || got.PValue != tt.pValue {
				t.Errorf("z, p = %v, %v, want %v, %v", got.Z, got.PValue, tt.z, tt.pValue)
			}
		})
	}
}
