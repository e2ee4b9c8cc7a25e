// Package fittest holds what the tests of fit and of jobs share about
// fitting: quick options and the category table fit's rule learns. Rows
// come from testkit.
package fittest

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"testing"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/sample"
)

// GBDTOptions are quick gbdt options on the sensor features, with params
// (JSON) when not empty.
func GBDTOptions(t testing.TB, params string) fit.Options {
	t.Helper()
	raw := `{"family": "gbdt", "features": ` + MustJSON(t, sample.SensorFeatures) + `, "defaults": {"battery_volts": 3.3}, "label": "anomaly"`
	if params != "" {
		raw += `, "params": ` + params
	}
	opts, err := fit.ParseOptions([]byte(raw + "}"))
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

// MustJSON is v as JSON.
func MustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// LearntTable is the table fit's rule learns from rows: the values at
// path (strings, or ints) by count, most frequent first, ties by value,
// at most max.
func LearntTable(t testing.TB, rows []map[string]any, path string, max int) []string {
	t.Helper()
	p := avropath.MustParse(path)
	counts := map[string]int{}
	for _, r := range rows {
		v, present, err := p.Read(r)
		if err != nil {
			t.Fatal(err)
		}
		if !present {
			continue
		}
		switch x := v.(type) {
		case string:
			counts[x]++
		case int32:
			counts[strconv.Itoa(int(x))]++
		default:
			t.Fatalf("%s: a %T", path, v)
		}
	}
	table := slices.SortedFunc(maps.Keys(counts), func(a, b string) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b))
	})
	return table[:min(len(table), max)]
}
