package drift

import (
	"math"
	"testing"
)

// TestBinnerAgreesWithBinarySearch checks the binner against binOf on
// ordinary edges and on the extreme ones a forged profile can carry (a
// span of subnormals, a span wider than the largest float), at the edges
// themselves, between them and beyond: never a different bin, never a
// panic.
func TestBinnerAgreesWithBinarySearch(t *testing.T) {
	tiny := math.SmallestNonzeroFloat64
	for _, tt := range []struct {
		name  string
		edges []float64
	}{
		{"ventiles", []float64{-3, -2, -1.5, -1, -0.5, 0, 0.25, 0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9}},
		{"subnormal span", []float64{-1e-310, 0}},
		{"tiny span", []float64{0, tiny, 2 * tiny, 3 * tiny}},
		{"widest span", []float64{-math.MaxFloat64, 0, math.MaxFloat64}},
		{"one edge", []float64{1}},
		{"none", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newBinner(tt.edges)
			values := []float64{0, 1, -1, tiny, -tiny, 1e-310, -1e-310, 1e300, -1e300, math.MaxFloat64, -math.MaxFloat64}
			for i, e := range tt.edges {
				values = append(values, e, math.Nextafter(e, math.Inf(1)), math.Nextafter(e, math.Inf(-1)))
				if i > 0 {
					values = append(values, tt.edges[i-1]/2+e/2)
				}
			}
			for _, v := range values {
				if got, want := b.bin(v), binOf(tt.edges, v); got != want {
					t.Errorf("bin(%g) = %d, binary search says %d", v, got, want)
				}
			}
		})
	}
}
