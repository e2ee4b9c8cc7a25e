package testkit

import "github.com/streamscore/streamscore/internal/sample"

// NestedRows are n nested sensor readings from seed as goavro decodes
// them, oldest first, each with its anomaly label in the field "anomaly"
// (the field the labelled nested schemas add).
func NestedRows(seed uint64, n int) []map[string]any {
	gen := sample.NewNestedSensors(seed, 200, 0.1)
	rows := make([]map[string]any, n)
	for i := range rows {
		rec, anomaly := gen.Next()
		rec["anomaly"] = anomaly
		rows[i] = rec
	}
	return rows
}

// NonZero is counts without its zero entries: a skip count a test expects
// to be empty lists no reason that never happened.
func NonZero(counts map[string]int) map[string]int {
	out := map[string]int{}
	for k, c := range counts {
		if c != 0 {
			out[k] = c
		}
	}
	return out
}
