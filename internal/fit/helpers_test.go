package trainer_test

import (
	"encoding/json"
	"testing"

	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/trainer"
	"github.com/streamscore/streamscore/schemas"
)

// sensorFeatures are the numeric fields of a sample reading.
var sensorFeatures = sample.SensorFeatures

// sensorRows generates labelled readings, oldest first: the sample
// generator's records with their anomaly flag as the "anomaly" field.
func sensorRows(seed uint64, n int) []map[string]any {
	gen := sample.NewSensors(seed, 50, 0.1)
	rows := make([]map[string]any, n)
	for i := range rows {
		rec, anomaly := gen.Next()
		rec["anomaly"] = anomaly
		rows[i] = rec
	}
	return rows
}

// textRows generates labelled messages, with "spam" or "ham" in "label".
func textRows(seed uint64, n int) []map[string]any {
	gen := sample.NewTexts(seed, 0.3)
	rows := make([]map[string]any, n)
	for i := range rows {
		rec, spam := gen.Next()
		rec["label"] = map[bool]string{true: "spam", false: "ham"}[spam]
		rows[i] = rec
	}
	return rows
}

// labelledSensorSchema is the sensor reading schema with the label added,
// as a history topic would carry it.
func labelledSensorSchema(t testing.TB) string {
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

// gbdtOptions are quick gbdt options on the sensor features.
func gbdtOptions(t testing.TB, params string) trainer.Options {
	t.Helper()
	raw := `{"family": "gbdt", "features": ` + mustJSON(t, sensorFeatures) + `, "defaults": {"battery_volts": 3.3}, "label": "anomaly"`
	if params != "" {
		raw += `, "params": ` + params
	}
	opts, err := trainer.ParseOptions([]byte(raw + "}"))
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
