package train

import (
	"slices"
	"testing"
)

// TestSetColumnsLayout checks the membership columns of hand-built trees:
// equal sets of a feature share a column, a set with a trailing zero word
// included; each feature's table has a row per code up to its largest
// and a last row of 1s for values that are no code; the features' columns
// follow the input's in feature order; and ONNX Runtime scores the
// export as Go does.
func TestSetColumnsLayout(t *testing.T) {
	ens := &Ensemble{
		Objective:   SquaredError,
		NumFeatures: 4,
		BaseScores:  []float32{0},
		Trees: []Tree{
			{
				Nodes: []Node{
					{Feature: 3, Left: 1, Right: 2},
					{Feature: 1, Left: 3, Right: 4},
					{Feature: 1, Left: 5, Right: 6},
					{Leaf: true, Value: 1},
					{Leaf: true, Value: 2},
					{Leaf: true, Value: 4},
					{Leaf: true, Value: 8},
				},
				Categories: []CategorySet{0: NewCategorySet(0), 1: NewCategorySet(1, 2), 2: NewCategorySet(4), 6: nil},
			},
			{
				Nodes: []Node{
					{Feature: 1, Left: 1, Right: 2},
					{Feature: 0, Threshold: 0.5, Left: 3, Right: 4},
					{Feature: 3, Left: 5, Right: 6},
					{Leaf: true, Value: 16},
					{Leaf: true, Value: 32},
					{Leaf: true, Value: 64},
					{Leaf: true, Value: 128},
				},
				// {1, 2} again, with a word of zeros; {0} of feature 3 again.
				Categories: []CategorySet{0: {0b110, 0}, 2: NewCategorySet(0), 6: nil},
			},
		},
	}
	if err := ens.Validate(); err != nil {
		t.Fatal(err)
	}
	c := newSetColumns(ens)
	if len(c.features) != 2 || c.features[0].feature != 1 || c.features[1].feature != 3 {
		t.Fatalf("categorical features %+v, want 1 and 3", c.features)
	}
	f1, f3 := c.features[0], c.features[1]
	if f1.codes != 5 || len(f1.sets) != 2 || f1.first != 4 || f3.codes != 1 || len(f3.sets) != 1 || f3.first != 6 {
		t.Errorf("feature 1: %d codes, %d sets from column %d; feature 3: %d codes, %d sets from column %d; want 5, 2, 4 and 1, 1, 6",
			f1.codes, len(f1.sets), f1.first, f3.codes, len(f3.sets), f3.first)
	}
	for _, tt := range []struct {
		f    int32
		set  CategorySet
		want int64
	}{
		{1, NewCategorySet(1, 2), 4},
		{1, CategorySet{0b110, 0}, 4},
		{1, NewCategorySet(4), 5},
		{3, NewCategorySet(0), 6},
	} {
		if got := c.column(tt.f, tt.set); got != tt.want {
			t.Errorf("column of feature %d's set %v = %d, want %d", tt.f, tt.set.Codes(), got, tt.want)
		}
	}
	// Rows are codes 0..4 then "no code"; columns {1, 2} and {4}.
	want1 := []float32{
		1, 1,
		0, 1,
		0, 1,
		1, 1,
		1, 0,
		1, 1,
	}
	if got := f1.table(); !slices.Equal(got, want1) {
		t.Errorf("feature 1's table %v, want %v", got, want1)
	}
	if got, want := f3.table(), []float32{0, 1}; !slices.Equal(got, want) {
		t.Errorf("feature 3's table %v, want %v", got, want)
	}

	var rows []float32
	for _, x1 := range []float32{-1, 0, 1, 2, 2.5, 3, 4, 5, 6, 64, 1000} {
		for _, x3 := range []float32{0, 1, -0.5, 0.5} {
			rows = append(rows, 0, x1, 0, x3, 1, x1, 7, x3)
		}
	}
	checkCategoricalParity(t, ens, rows)
}
