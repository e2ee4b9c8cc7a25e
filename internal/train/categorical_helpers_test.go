package train

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Mixed data: numeric and categorical features side by side, the layout a
// trainer gives a record with a categorical string beside its numbers.
const (
	mixedFeatures = 5
	// siteCodes is feature 1's codes: 40 categories, then "other" (40)
	// and "null" (41), as the trainer codes them. Sets with codes beyond
	// 30 take ONNX Runtime's big-set path, smaller ones its bitset.
	siteCodes      = 42
	siteCategories = 40
	// siteSeen is how many categories a training row may hold: codes 38
	// and 39 are never seen in training.
	siteSeen = 38
	// statusCodes is feature 2's codes: 5 categories, "other" and "null".
	statusCodes      = 7
	statusCategories = 5
)

// mixedRow draws one row: x0 normal with 3% missing, x1 the site code
// (Zipf-like frequencies, 3% other and 5% null), x2 the status code, x3
// uniform on [-2, 2], x4 normal noise.
func mixedRow(rng *rand.Rand, siteWeights []float64) []float32 {
	x := make([]float32, mixedFeatures)
	x[0] = float32(rng.NormFloat64())
	if rng.Float64() < 0.03 {
		x[0] = float32(math.NaN())
	}
	switch u := rng.Float64(); {
	case u < 0.03:
		x[1] = siteCategories // other
	case u < 0.08:
		x[1] = siteCategories + 1 // null
	default:
		x[1] = float32(drawWeighted(rng, siteWeights))
	}
	if rng.Float64() < 0.05 {
		x[2] = statusCategories + 1 // null
	} else {
		x[2] = float32(rng.IntN(statusCategories + 1)) // a category or other
	}
	x[3] = float32(4*rng.Float64() - 2)
	x[4] = float32(rng.NormFloat64())
	return x
}

func drawWeighted(rng *rand.Rand, weights []float64) int {
	var sum float64
	for _, w := range weights {
		sum += w
	}
	u := rng.Float64() * sum
	for k, w := range weights {
		if u -= w; u < 0 {
			return k
		}
	}
	return len(weights) - 1
}

// interactionTables returns the effects of each (site, status) pair, drawn
// once from a fixed seed so that training and test sets share them: one
// table per score of mixedData's labels.
func interactionTables() [2][siteCodes][statusCodes]float64 {
	rng := rand.New(rand.NewPCG(7, 0x7ab1e))
	var tables [2][siteCodes][statusCodes]float64
	for k := range tables {
		for s := range siteCodes {
			for c := range statusCodes {
				tables[k][s][c] = 1.5 * rng.NormFloat64()
			}
		}
	}
	return tables
}

// mixedData returns n rows of mixedRow. Their signal is the interaction
// of site and status, plus, when numericSignal, 0.8·x0 (0.5 when x0 is
// missing) and sin(2·x3). Labels are drawn as syntheticData's: binary from
// the sigmoid, three classes from the softmax of (0, signal, a second
// interaction), or the signal plus Gaussian noise.
func mixedData(t testing.TB, obj Objective, n int, seed uint64) *Dataset {
	return mixedDataOf(t, obj, n, seed, true)
}

// interactionData is mixedData whose signal is the site-status
// interaction alone.
func interactionData(t testing.TB, obj Objective, n int, seed uint64) *Dataset {
	return mixedDataOf(t, obj, n, seed, false)
}

func mixedDataOf(t testing.TB, obj Objective, n int, seed uint64, numericSignal bool) *Dataset {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x313ed))
	siteWeights := make([]float64, siteSeen)
	for k := range siteWeights {
		siteWeights[k] = 1 / math.Pow(float64(k+1), 0.8)
	}
	tables := interactionTables()
	features := make([]float32, 0, n*mixedFeatures)
	labels := make([]float64, n)
	for i := range labels {
		x := mixedRow(rng, siteWeights)
		features = append(features, x...)
		site, status := int(x[1]), int(x[2])
		s, s2 := tables[0][site][status], tables[1][site][status]
		if numericSignal {
			x0 := float64(x[0])
			if math.IsNaN(x0) {
				x0 = 0.5 / 0.8
			}
			s += 0.8*x0 + math.Sin(2*float64(x[3]))
		}
		switch obj {
		case BinaryLogLoss:
			if rng.Float64() < 1/(1+math.Exp(-s)) {
				labels[i] = 1
			}
		case SquaredError:
			labels[i] = s + 0.5*rng.NormFloat64()
		case MulticlassLogLoss:
			labels[i] = drawClass(rng, []float64{0, s, s2})
		}
	}
	d, err := NewDataset(features, mixedFeatures, labels)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetCategorical(1, siteCodes); err != nil {
		t.Fatal(err)
	}
	if err := d.SetCategorical(2, statusCodes); err != nil {
		t.Fatal(err)
	}
	return d
}
