package fit

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/train"
)

// TestOverflowShownAsAValueTheTableLacks holds what rows show for a value
// past the dictionary's bound to a value the model's table lacks, which
// the model reads as other, however the producer spelt its own values: a
// literal stand-in a producer sends ("\x00overflow", "\x00outside") is a
// category like any other and reads as its own code.
func TestOverflowShownAsAValueTheTableLacks(t *testing.T) {
	d := newCatDict()
	d.maxValues = 3
	var raw []float32
	for _, v := range []string{"a", "\x00overflow", "\x00overflow", "\x00outside", "\x00outside", "\x00outside", "late", "late"} {
		raw = append(raw, d.code(v))
	}
	if raw[6] != rawOverflow || d.overflowed != 2 {
		t.Fatalf("raw %v, %d overflowed: want the fourth value past a dictionary of 3", raw, d.overflowed)
	}
	table, err := learnTable(d, raw, 1, 0, FeatureRead{Given: "site", MaxCategories: 10})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"\x00outside", "\x00overflow", "a"}; !slices.Equal(table.categories, want) {
		t.Fatalf("categories %q, want %q", table.categories, want)
	}
	reader, err := model.Input{Name: train.InputFeatures, Fields: []model.Feature{{Field: "site", Categories: table.categories}}}.Reader()
	if err != nil {
		t.Fatal(err)
	}
	codeOf := func(v string) float32 {
		t.Helper()
		row, err := reader.AppendNumbers(nil, map[string]any{"site": v}, false)
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		return row[0]
	}
	shown, present := d.value(rawOverflow, table.shownOutside)
	if !present || slices.Contains(table.categories, shown) {
		t.Fatalf("an overflowed value shown as %q, present %v: want a value the table %q lacks", shown, present, table.categories)
	}
	if got := codeOf(shown); got != table.other {
		t.Errorf("an overflowed value reads as code %v, want other (%v)", got, table.other)
	}
	if v, _ := table.shown(table.other); codeOf(v) != table.other {
		t.Errorf("the other code shown as %q, which reads as %v", v, codeOf(v))
	}
	for i, v := range table.categories {
		if got := codeOf(v); got != float32(i) {
			t.Errorf("%q reads as %v, want its own code %d", v, got, i)
		}
	}
}

// TestCatDictBoundsItsBytes reads values past the dictionary's byte budget
// as overflow, however few they are; values it holds still read as
// themselves, and a short value still fits.
func TestCatDictBoundsItsBytes(t *testing.T) {
	if d := newCatDict(); d.maxBytes != maxDictBytes || d.maxValues != maxDictValues {
		t.Fatalf("bounds %d bytes, %d values", d.maxBytes, d.maxValues)
	}
	d := newCatDict()
	d.maxBytes = 10
	got := []float32{d.code("aaaa"), d.code("bbbb"), d.code("cccc"), d.code("aaaa"), d.code("c"), d.code("dd")}
	if want := []float32{0, 1, rawOverflow, 0, 2, rawOverflow}; !slices.Equal(got, want) {
		t.Errorf("codes %v, want %v", got, want)
	}
	if d.bytes != 9 || d.overflowed != 2 || len(d.values) != 3 {
		t.Errorf("%d bytes, %d overflowed, values %q", d.bytes, d.overflowed, d.values)
	}
	// One long value per row, as an identifier read as a category: the
	// dictionary stops at its budget, not at a million values.
	d = newCatDict()
	long := strings.Repeat("x", 1<<16)
	for i := range 2000 {
		d.code(long + string(rune('a'+i%26)) + strings.Repeat("y", i))
	}
	if d.bytes > maxDictBytes {
		t.Errorf("%d bytes kept, over the budget of %d", d.bytes, maxDictBytes)
	}
}

// TestChampionRefusalsCountedAsItsScorer judges a champion on rows read
// raw beside a candidate that reads none of its features: the rows its
// scorer would refuse (a number where it reads a category, a short array)
// are skipped for the scorer's reasons, and the rest score exactly as the
// records do, so the champion's evaluation equals one on the records.
func TestChampionRefusalsCountedAsItsScorer(t *testing.T) {
	var rows []map[string]any
	for i := range 600 {
		site := []string{"a", "b", "c"}[i%3]
		rec := map[string]any{"x": float64(i % 10), "w": []any{float64(i % 4), float64(i % 5)}, "site": site, "y": site == "b" != (i%4 == 0)}
		switch {
		case i%17 == 0:
			rec["site"] = 3.5 // wrong_type for a category
		case i%19 == 0:
			rec["w"] = []any{1.0} // short_array
		case i%23 == 0:
			delete(rec, "site") // null: a code of its own, not refused
		}
		rows = append(rows, rec)
	}
	champOpts := Options{Family: GBDT, Features: []string{"site", "w"}, Label: "y",
		Categorical: CategoricalOptions{"site": {}}, Arrays: ArrayOptions{"w": {Length: 2}}, Params: []byte(`{"max_iter": 10}`)}
	res, err := FitRows(context.Background(), "champion", champOpts, Records(rows), nil)
	if err != nil {
		t.Fatal(err)
	}
	champion, err := model.Load(res.ONNX, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer champion.Close()
	direct, err := Evaluate(champion, rows, "y")
	if err != nil {
		t.Fatal(err)
	}
	if direct.Skipped["wrong_type"] == 0 || direct.Skipped["short_array"] == 0 {
		t.Fatalf("the champion's scorer skips %v: want wrong_type and short_array rows", direct.Skipped)
	}

	opts := Options{Family: GBDT, Features: []string{"x"}, Label: "y"}.WithDefaults()
	extra := ExtraFeatures(opts, champion.Spec())
	if len(extra) != 2 {
		t.Fatalf("extra features %+v, want site and w", extra)
	}
	c := newColumns(newLayout(opts, extra), len(rows))
	for i, rec := range rows {
		if err := c.add(rec, int64(i), 0, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	c.finish(0)
	raw, err := EvaluateRows(champion, colRows{c: c, from: 0, to: c.Len(), names: c.dict.names, raw: true}, "y")
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(raw.Skipped, direct.Skipped) || raw.Rows != direct.Rows || !maps.Equal(raw.Metrics, direct.Metrics) {
		t.Errorf("on rows read raw: %d rows, skipped %v, metrics %v; on the records: %d, %v, %v",
			raw.Rows, raw.Skipped, raw.Metrics, direct.Rows, direct.Skipped, direct.Metrics)
	}
}
