package testkit

import (
	"testing"

	"github.com/streamscore/streamscore/internal/sample"
)

// SensorRows are n labelled sensor readings from seed, oldest first: the
// sample generator's records with their anomaly flag as the "anomaly"
// field, as a history topic would carry them (LabelledSensorSchema).
func SensorRows(seed uint64, n int) []map[string]any {
	return labelled(sample.NewSensors(seed, 50, 0.1), n)
}

// labelled are gen's next n records, each with its label as the field
// "anomaly".
func labelled(gen interface{ Next() (map[string]any, bool) }, n int) []map[string]any {
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
	s, err := sample.LabelledSensorSchema()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// NestedRows are n nested sensor readings from seed as goavro decodes
// them, oldest first, each with its anomaly label in the field "anomaly"
// (the field the labelled nested schemas add).
func NestedRows(seed uint64, n int) []map[string]any {
	return labelled(sample.NewNestedSensors(seed, 200, 0.1), n)
}
