package train

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestQuantileEdges(t *testing.T) {
	tests := []struct {
		name    string
		sorted  []float32
		maxBins int
		want    []float32
	}{
		{"no values", nil, 4, nil},
		{"constant", []float32{3, 3, 3}, 4, nil},
		{"few distinct values split midway", []float32{0, 0, 1, 2, 2, 4}, 4, []float32{0.5, 1.5, 3}},
		{"quantiles when values outnumber bins", []float32{1, 2, 3, 4, 5, 6, 7, 8}, 4, []float32{2.5, 4.5, 6.5}},
		{"quantile inside a run of equal values ends after it", []float32{0, 1, 1, 1, 1, 1, 1, 2}, 2, []float32{1.5}},
		{"infinities", []float32{float32(math.Inf(-1)), 0, float32(math.Inf(1))}, 4, []float32{float32(math.Inf(-1)), 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quantileEdges(tt.sorted, tt.maxBins); !slices.Equal(got, tt.want) {
				t.Errorf("quantileEdges = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestQuantileEdgesRespectMaxBins(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	values := make([]float32, 10_000)
	for i := range values {
		values[i] = float32(rng.NormFloat64())
	}
	slices.Sort(values)
	for _, maxBins := range []int{2, 16, 255} {
		edges := quantileEdges(values, maxBins)
		if len(edges) != maxBins-1 {
			t.Errorf("maxBins %d: got %d edges, want %d", maxBins, len(edges), maxBins-1)
		}
		if !slices.IsSorted(edges) || len(slices.Compact(slices.Clone(edges))) != len(edges) {
			t.Errorf("maxBins %d: edges not strictly increasing", maxBins)
		}
	}
}

func TestMidpointSeparatesNeighbours(t *testing.T) {
	tests := []struct{ a, b float32 }{
		{0, 1},
		{1, math.Nextafter32(1, 2)}, // adjacent: no float32 lies between them
		{-3, float32(math.Inf(1))},
		{float32(math.Inf(-1)), float32(math.Inf(1))},
	}
	for _, tt := range tests {
		m := midpoint(tt.a, tt.b)
		if !(tt.a <= m && m < tt.b) {
			t.Errorf("midpoint(%v, %v) = %v, want a <= m < b", tt.a, tt.b, m)
		}
	}
}

// TestBinAgreesWithThreshold checks the property that makes training and
// prediction agree: bin(x) <= b exactly when x <= threshold(b), for every
// bin b, with NaN never going left.
func TestBinAgreesWithThreshold(t *testing.T) {
	d := syntheticData(t, BinaryLogLoss, 2000, 3)
	m := fitBinMapper(d, nil, 16, 0, 1)
	for f := range d.NumFeatures() {
		for _, x := range probeValues(m.edges[f]) {
			bin := int(m.bin(f, x))
			for b := range m.numFiniteBins(f) {
				if goesLeft := x <= m.threshold(f, b); goesLeft != (bin <= b) {
					t.Fatalf("feature %d value %v: bin %d, but x <= threshold(%d)=%v is %v", f, x, bin, b, m.threshold(f, b), goesLeft)
				}
			}
		}
	}
}

// probeValues returns each edge, its float32 neighbours, and the special
// values.
func probeValues(edges []float32) []float32 {
	values := []float32{float32(math.NaN()), float32(math.Inf(-1)), float32(math.Inf(1)), 0, float32(math.Copysign(0, -1))}
	for _, e := range edges {
		values = append(values, e, math.Nextafter32(e, float32(math.Inf(-1))), math.Nextafter32(e, float32(math.Inf(1))))
	}
	return values
}

func TestSampleRows(t *testing.T) {
	if got := sampleRows(5, 10, 1); !slices.Equal(got, []int{0, 1, 2, 3, 4}) {
		t.Errorf("small data: got %v, want every row", got)
	}
	got := sampleRows(1000, 100, 7)
	if len(got) != 100 || !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != 100 {
		t.Errorf("sample of 100 from 1000: want 100 distinct sorted rows, got %d", len(got))
	}
	if again := sampleRows(1000, 100, 7); !slices.Equal(got, again) {
		t.Error("same seed gave a different sample")
	}
}
