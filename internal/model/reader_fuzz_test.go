package model_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/testkit"
)

// FuzzInputReader feeds random values of the shapes goavro decodes to
// (records and maps, union wrappers, arrays, every scalar type) through a
// reader of every kind of feature: it never panics, every refusal is of a
// per-record class, a refused row leaves dst as it was and an accepted one
// appends Width columns.
func FuzzInputReader(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{6, 3, 0, 1, 1, 6, 2, 2, 3, 8, 2, 1, 1})
	f.Add([]byte{6, 4, 5, 6, 1, 0, 1, 1, 9, 3, 1, 2, 3, 7, 7, 0})
	f.Add([]byte{7, 2, 3, 4, 11, 5, 10, 8, 4, 1, 1, 1, 1})
	fields := []model.Feature{
		{Field: "a"},
		{Field: "a.b", Default: ptr(0)},
		{Field: "b[1]"},
		{Field: `m["k.j"]`, Default: ptr(-1)},
		{Field: "w", Length: 3, Pad: ptr(0)},
		{Field: "w", Length: 2},
		{Field: "s", Categories: cats("x", "1", "true")},
		{Field: "a.s", Categories: cats("x"), Unknown: model.UnknownDeadLetter},
		{Field: "double", Categories: cats("x"), Unknown: model.UnknownCategory, UnknownCategory: "x"},
		{Field: "t", Part: model.HourOfDay},
		{Field: "map.t", Part: model.DayOfWeek, Default: ptr(3)},
	}
	in := model.Input{Name: "features", Fields: fields}
	r, err := in.Reader()
	if err != nil {
		f.Fatal(err)
	}
	text, err := model.Input{Name: "text", Type: model.StringInput, Fields: columns("a.s")}.Reader()
	if err != nil {
		f.Fatal(err)
	}
	classes := []error{model.ErrMissingFeature, model.ErrWrongType, model.ErrNonFinite, model.ErrUnknownCategory, model.ErrShortArray, model.ErrOversize}
	classed := func(err error) bool {
		return slices.ContainsFunc(classes, func(c error) bool { return errors.Is(err, c) })
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g := testkit.NewNativeValues(data)
		rec := g.Record("a", "b", "m", "w", "s", "double", "t", "map")
		dst := []float32{42}
		got, err := r.AppendNumbers(dst, rec, g.Byte()%2 == 0)
		switch {
		case err != nil && !classed(err):
			t.Fatalf("AppendNumbers: an unclassed error: %v", err)
		case err != nil && (len(got) != 1 || got[0] != 42):
			t.Fatalf("AppendNumbers refused the row but left %v", got)
		case err == nil && len(got) != 1+in.Width():
			t.Fatalf("AppendNumbers appended %d columns; want %d", len(got)-1, in.Width())
		}
		if _, err := text.Text(rec, 16); err != nil && !classed(err) {
			t.Fatalf("Text: an unclassed error: %v", err)
		}
		for i := range fields {
			if _, _, err := r.Category(i, rec); err != nil && !classed(err) {
				t.Fatalf("Category %d: an unclassed error: %v", i, err)
			}
		}
	})
}
