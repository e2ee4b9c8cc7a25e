package sample

import (
	"maps"
	"testing"
)

// TestSensorsShiftMovesOnlyTheTemperature draws the same readings from two
// generators of one seed, one shifted part way: before the shift they are
// equal; after it only the temperature differs, by the shift exactly, and
// every reading keeps its anomaly flag, so the anomalies are drawn around
// the new baseline.
func TestSensorsShiftMovesOnlyTheTemperature(t *testing.T) {
	const degrees, before, after = 8.0, 100, 2000
	plain, shifted := NewSensors(7, 20, 0.1), NewSensors(7, 20, 0.1)
	for i := range before + after {
		if i == before {
			shifted.Shift(degrees / 2)
			shifted.Shift(degrees / 2) // shifts add up
		}
		a, anomalyA := plain.Next()
		b, anomalyB := shifted.Next()
		if anomalyA != anomalyB {
			t.Fatalf("reading %d: anomaly %v unshifted, %v shifted", i, anomalyA, anomalyB)
		}
		want := 0.0
		if i >= before {
			want = degrees
		}
		if got := b["temperature"].(float64) - a["temperature"].(float64); got < want-1e-9 || got > want+1e-9 {
			t.Fatalf("reading %d: temperature moved by %g, want %g", i, got, want)
		}
		delete(a, "temperature")
		delete(b, "temperature")
		if !maps.EqualFunc(a, b, func(x, y any) bool { return equalField(x, y) }) {
			t.Fatalf("reading %d: fields other than the temperature differ:\n%v\n%v", i, a, b)
		}
	}
}

// equalField compares two generated field values, the nullable battery
// reading's union map included.
func equalField(x, y any) bool {
	xm, ok := x.(map[string]any)
	if !ok {
		return x == y
	}
	ym, ok := y.(map[string]any)
	return ok && maps.Equal(xm, ym)
}
