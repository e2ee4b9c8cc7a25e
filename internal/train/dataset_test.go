package train

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestNewDataset(t *testing.T) {
	tests := []struct {
		name        string
		features    []float32
		numFeatures int
		labels      []float64
		errContains string // empty: valid
	}{
		{"two rows", []float32{1, 2, 3, 4}, 2, []float64{0, 1}, ""},
		{"NaN features are allowed", []float32{float32(math.NaN()), 2}, 2, []float64{1}, ""},
		{"no features", nil, 0, []float64{1}, "numFeatures 0"},
		{"no rows", nil, 2, nil, "0 rows"},
		{"ragged matrix", []float32{1, 2, 3}, 2, []float64{0, 1}, "3 feature values for 2 rows of 2 features"},
		{"NaN label", []float32{1}, 1, []float64{math.NaN()}, "label of row 0 is NaN"},
		{"infinite label", []float32{1, 2}, 1, []float64{0, math.Inf(-1)}, "label of row 1 is -Inf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := NewDataset(tt.features, tt.numFeatures, tt.labels)
			if tt.errContains == "" {
				if err != nil {
					t.Fatalf("NewDataset: %v", err)
				}
				if d.NumRows() != len(tt.labels) || d.NumFeatures() != tt.numFeatures {
					t.Errorf("got %d rows of %d features", d.NumRows(), d.NumFeatures())
				}
				return
			}
			if !errors.Is(err, ErrInvalidData) || !strings.Contains(err.Error(), tt.errContains) {
				t.Errorf("NewDataset error = %v, want ErrInvalidData containing %q", err, tt.errContains)
			}
		})
	}
}

func TestDatasetRowAndLabel(t *testing.T) {
	d, err := NewDataset([]float32{1, 2, 3, 4, 5, 6}, 3, []float64{7, 8})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Row(1); len(got) != 3 || got[0] != 4 || got[2] != 6 {
		t.Errorf("Row(1) = %v, want [4 5 6]", got)
	}
	if got := d.Label(1); got != 8 {
		t.Errorf("Label(1) = %v, want 8", got)
	}
}
