package testkit_test

import (
	"maps"
	"reflect"
	"testing"

	"github.com/streamscore/streamscore/internal/testkit"
)

func TestNestedRows(t *testing.T) {
	a, b := testkit.NestedRows(7, 20), testkit.NestedRows(7, 20)
	if len(a) != 20 || !reflect.DeepEqual(a, b) {
		t.Fatalf("NestedRows(7, 20) gave %d rows, equal to a second run: %v", len(a), reflect.DeepEqual(a, b))
	}
	labels := map[bool]int{}
	for i, rec := range a {
		label, ok := rec["anomaly"].(bool)
		if !ok {
			t.Fatalf("row %d: anomaly is %T, want a bool", i, rec["anomaly"])
		}
		labels[label]++
		if _, ok := rec["device"].(map[string]any); !ok {
			t.Fatalf("row %d: device is %T, want a nested record", i, rec["device"])
		}
	}
	if labels[false] == 0 {
		t.Fatalf("labels %v: no normal reading", labels)
	}
}

func TestNonZero(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]int
		want map[string]int
	}{
		{"empty", map[string]int{}, map[string]int{}},
		{"all zero", map[string]int{"null": 0, "wrong_type": 0}, map[string]int{}},
		{"some", map[string]int{"null": 0, "wrong_type": 3, "short_array": 1}, map[string]int{"wrong_type": 3, "short_array": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testkit.NonZero(tt.in); !maps.Equal(got, tt.want) {
				t.Fatalf("NonZero(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
