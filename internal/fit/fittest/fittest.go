// Package fittest holds what the tests of fit and of jobs train on: sample
// rows, quick options, and the category table fit's rule learns.
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
	"github.com/streamscore/streamscore/schemas"
)

// SensorRows generates labelled readings, oldest first: the sample
// generator's records with their anomaly flag as the "anomaly" field.
func SensorRows(seed uint64, n int) []map[string]any {
	gen := sample.NewSensors(seed, 50, 0.1)
	rows := make([]map[string]any, n)
	for i := range rows {
		rec, anomaly := gen.Next()
		rec["anomaly"] = anomaly
		rows[i] = rec
	}
	return rows
}

// LabelledSensorSchema is the sensor reading schema with the label added,
// as a history topic would carry it.
func LabelledSensorSchema(t testing.TB) string {
	t.Helper()
	var s map[string]any
	if err := json.Unmarshal([]byte(schemas.SensorReading), &s); err != nil {
		t.Fatal(err)
	}
	s["name"] = "LabelledSensorReading"
	s["fields"] = append(s["fields"].([]any), map[string]any{"name": "anomaly", "type": "boolean", "default": false})
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

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
