package api

import (
	"bytes"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/fit"
)

// FuzzNestedRows feeds a slice of rows to a model that reads nested
// paths, categories, an array and a timestamp's parts: the rows are
// refused, or kept and written back as records that hold the same values
// again at their paths; nothing panics.
func FuzzNestedRows(f *testing.F) {
	f.Add(`[{"y": true, "loc": {"lat": 1.5}, "site": "a", "w": [1, 2], "ts": 1700000000000, "m": {"k.x": "v"}}]`)
	f.Add(`{"records": [{"y": 1, "loc": null, "site": 3, "w": [], "m": {}}]}`)
	f.Add(`[{"y": "a", "loc": {"lat": "x"}}, {"y": "b", "site": 2.5}, {"y": "c", "w": [1, 2, 3, 4]}]`)
	f.Add(`[{"y": false, "loc": {"lat": {"double": 2}}, "w": [null], "ts": "now"}]`)
	opts, err := fit.ParseOptions([]byte(`{"family": "gbdt", "label": "y", "features": ["loc.lat", "site", "w", "ts", "m[\"k.x\"]"],
		"categorical": {"site": {}, "m[\"k.x\"]": {}}, "arrays": {"w": {"length": 3}}, "time_parts": {"ts": ["hour_of_day", "day_of_week"]}}`))
	if err != nil {
		f.Fatal(err)
	}
	schema := newRowSchema(opts)
	f.Fuzz(func(t *testing.T, body string) {
		bl, err := newBuilder(schema, 0, func(int64) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if err := decodeRecords(bytes.NewReader([]byte(body)), "rows", schema.paths, bl.add); err != nil {
			return
		}
		b := bl.finish()
		for r := range b.n {
			rec := map[string]any{}
			b.record(r, schema, rec)
			row := b.numbers[r*b.width : (r+1)*b.width]
			missing := func(col int) bool { return b.missing.get(r*b.width + col) }
			for _, f := range schema.features {
				v, present, err := f.path.Read(rec)
				if err != nil {
					t.Fatalf("row %d: %s reads back as an error: %v", r, f.name, err)
				}
				if !present {
					if !missing(f.col) {
						t.Fatalf("row %d: %s kept, absent from %v", r, f.name, rec)
					}
					continue
				}
				switch f.kind {
				case fit.CategoryFeature:
					if v != b.cats[f.cat].names[int(row[f.col])] {
						t.Fatalf("row %d: %s reads back as %v", r, f.name, v)
					}
				case fit.ArrayFeature:
					items := v.([]any)
					for k := range f.length {
						if k < len(items) && (missing(f.col+k) || items[k] != row[f.col+k]) || k >= len(items) && !missing(f.col+k) {
							t.Fatalf("row %d: %s reads back as %v, kept as %v", r, f.name, items, row[f.col:f.col+f.length])
						}
					}
				case fit.PartsFeature:
					ts := v.(time.Time)
					if float32(ts.Hour()) != row[f.col] || float32((int(ts.Weekday())+6)%7) != row[f.col+1] {
						t.Fatalf("row %d: %s reads back as %v, kept as %v", r, f.name, ts, row[f.col:f.col+2])
					}
				default:
					if v != row[f.col] {
						t.Fatalf("row %d: %s reads back as %v, kept as %v", r, f.name, v, row[f.col])
					}
				}
			}
		}
	})
}
