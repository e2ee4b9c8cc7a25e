package fit

import (
	"context"
	"errors"
	"maps"
	"testing"
)

// TestFitTableConsumesIt fits a classifier's table twice: the second fit
// is refused, and the table still counts its classes right.
func TestFitTableConsumesIt(t *testing.T) {
	opts, err := ParseOptions([]byte(`{"family": "gbdt", "features": ["a"], "label": "y", "params": {"max_iter": 3}}`))
	if err != nil {
		t.Fatal(err)
	}
	table, err := NewTable(opts, TableConfig{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Classes first read in another order than the model's, so that the
	// model's class indices are not the dictionary's.
	for i := range 200 {
		if err := table.Add(map[string]any{"a": float64(i % 7), "y": []string{"zeta", "alpha", "mid"}[i%3]}, int64(i), 0, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	table.Finish()
	before := table.ClassCounts()
	if _, err := FitTable(context.Background(), "twice", opts, table, nil, nil); err != nil {
		t.Fatal(err)
	}
	if after := table.ClassCounts(); !maps.Equal(before, after) {
		t.Errorf("classes %v after the fit, %v before", after, before)
	}
	if _, err := FitTable(context.Background(), "twice", opts, table, nil, nil); !errors.Is(err, ErrTableConsumed) {
		t.Errorf("second fit: error %v, want ErrTableConsumed", err)
	}
}

// TestNewTableReserves makes room for the rows expected, and no more
// than the sample keeps.
func TestNewTableReserves(t *testing.T) {
	opts := Options{Family: GBDT, Features: []string{"a"}, Label: "y"}
	for _, tt := range []struct {
		name           string
		sample, expect int
		want           int
	}{
		{"no sample", 0, 300, 300},
		{"sample below", 30, 100, 30},
		{"sample above", 500, 100, 100},
		{"nothing expected", 0, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := opts
			if tt.sample > 0 {
				o.Sample = &Sample{MaxRows: tt.sample}
			}
			table, err := NewTable(o, TableConfig{}, tt.expect)
			if err != nil {
				t.Fatal(err)
			}
			if got := table.Reserved(); got != tt.want {
				t.Errorf("room for %d rows, want %d", got, tt.want)
			}
		})
	}
}
