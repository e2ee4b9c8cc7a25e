package train

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

const (
	syntheticFeatures = 10
	syntheticClasses  = 3 // of MulticlassLogLoss data
)

// syntheticData returns n rows of a deterministic, mildly nonlinear problem:
// interactions, a periodic term, a small integer feature, pure-noise
// features and about 3% missing values in one informative and one noise
// feature. Binary labels are drawn from sigmoid(signal); regression labels
// are the signal plus Gaussian noise.
func syntheticData(t testing.TB, obj Objective, n int, seed uint64) *Dataset {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	features := make([]float32, 0, n*syntheticFeatures)
	labels := make([]float64, n)
	for i := range labels {
		x := syntheticRow(rng)
		features = append(features, x...)
		s := syntheticSignal(x)
		switch obj {
		case BinaryLogLoss:
			if rng.Float64() < 1/(1+math.Exp(-s)) {
				labels[i] = 1
			}
		case SquaredError:
			labels[i] = s + 0.5*rng.NormFloat64()
		case MulticlassLogLoss:
			labels[i] = drawClass(rng, []float64{0, s, syntheticSecondSignal(x)})
		}
	}
	d, err := NewDataset(features, syntheticFeatures, labels)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func syntheticRow(rng *rand.Rand) []float32 {
	x := make([]float32, syntheticFeatures)
	for f := range 4 {
		x[f] = float32(rng.NormFloat64())
	}
	x[4] = float32(4*rng.Float64() - 2)
	x[5] = float32(4*rng.Float64() - 2)
	x[6] = float32(rng.IntN(5))
	for f := 7; f < syntheticFeatures; f++ {
		x[f] = float32(rng.NormFloat64())
	}
	for _, f := range []int{2, 8} {
		if rng.Float64() < 0.03 {
			x[f] = float32(math.NaN())
		}
	}
	return x
}

func syntheticSignal(x []float32) float64 {
	v := func(f int) float64 { return float64(x[f]) }
	x2 := v(2)
	if math.IsNaN(x2) {
		x2 = 1 // missingness carries signal
	}
	s := 1.2*v(0) - 0.8*v(1) + 0.7*v(0)*v(1) + math.Sin(2*v(4)) + 0.5*math.Abs(v(5)) - 0.3*v(6) + 0.8*x2 - 0.2
	if v(3) > 0.5 {
		s += 0.6
	}
	return s
}

// syntheticSecondSignal is the score of the third class of multiclass data,
// built on other interactions than syntheticSignal.
func syntheticSecondSignal(x []float32) float64 {
	v := func(f int) float64 { return float64(x[f]) }
	return 1.2*v(1) + 0.8*v(3)*v(0) - 0.6*math.Abs(v(5)) + 0.4*v(6) + math.Cos(3*v(4)) - 0.3
}

// drawClass draws a class from the softmax of scores.
func drawClass(rng *rand.Rand, scores []float64) float64 {
	var sum float64
	for _, s := range scores {
		sum += math.Exp(s)
	}
	u := rng.Float64() * sum
	for k, s := range scores {
		if u -= math.Exp(s); u < 0 {
			return float64(k)
		}
	}
	return float64(len(scores) - 1)
}

func fitForTest(t testing.TB, cfg Config, data *Dataset) *Ensemble {
	t.Helper()
	ens, err := Fit(context.Background(), cfg, data)
	if err != nil {
		t.Fatalf("Fit: %v", err)
	}
	return ens
}

func configFor(obj Objective, numTrees int) Config {
	cfg := DefaultConfig()
	cfg.Objective = obj
	cfg.MaxIter = numTrees
	if obj == MulticlassLogLoss {
		cfg.NumClasses = syntheticClasses
	}
	return cfg
}

// skipInShortMode skips a suite that takes seconds under -short, the
// developer's quick loop; `make test` runs it.
func skipInShortMode(t *testing.T, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: %s takes seconds; `make test` runs it", what)
	}
}
