package sample

import (
	"testing"

	"github.com/linkedin/goavro/v2"

	"github.com/streamscore/streamscore/schemas"
)

// TestNestedSensorsFitSchema encodes generated readings with the nested
// schema and decodes them again: every one fits it, and decodes to the
// values generated (the short windows of the first readings included).
func TestNestedSensorsFitSchema(t *testing.T) {
	codec, err := goavro.NewCodec(schemas.SensorReadingNested)
	if err != nil {
		t.Fatal(err)
	}
	gen := NewNestedSensors(3, 20, 0.05)
	short := 0
	for i := range 2000 {
		rec, _ := gen.Next()
		body, err := codec.BinaryFromNative(nil, rec)
		if err != nil {
			t.Fatalf("reading %d does not fit the schema: %v", i, err)
		}
		back, _, err := codec.NativeFromBinary(body)
		if err != nil {
			t.Fatalf("reading %d: %v", i, err)
		}
		got := back.(map[string]any)
		if got["site"] != rec["site"] || got["status"] != rec["status"] ||
			got["device"].(map[string]any)["model"] != rec["device"].(map[string]any)["model"] {
			t.Fatalf("reading %d decodes to %v, generated %v", i, got, rec)
		}
		if len(rec["vibration_window"].([]any)) < windowLen {
			short++
		}
	}
	// Each device's first four readings carry shorter windows, no other.
	if short != 20*windowLen {
		t.Fatalf("%d readings with a short window, want %d", short, 20*windowLen)
	}
}

// TestNestedSensorsFollowFlat checks the nested readings carry the flat
// generator's measurements and anomalies, changed only where the schema's
// docs say: a foundry's temperature and a T9's battery.
func TestNestedSensorsFollowFlat(t *testing.T) {
	flat, nested := NewSensors(5, 200, 0.05), NewNestedSensors(5, 200, 0.05)
	sites, hot, t9, statuses := map[string]bool{}, 0, 0, map[string]int{}
	for i := range 5000 {
		f, fa := flat.Next()
		n, na := nested.Next()
		if fa != na || f["device_id"] != n["device_id"] || f["humidity"] != n["humidity"] || f["rssi"] != n["rssi"] {
			t.Fatalf("reading %d: nested %v (anomaly %v) is not flat %v (anomaly %v)", i, n, na, f, fa)
		}
		sites[n["site"].(string)] = true
		statuses[n["status"].(string)]++
		if n["temperature"] != f["temperature"] {
			if n["temperature"] != f["temperature"].(float64)+hotSiteTemp {
				t.Fatalf("reading %d: temperature %v, the flat one's %v", i, n["temperature"], f["temperature"])
			}
			hot++
		}
		if v, ok := n["device"].(map[string]any)["battery_volts"].(map[string]any); ok && v["double"] != f["battery_volts"].(map[string]any)["double"] {
			if n["device"].(map[string]any)["model"] != "T9" {
				t.Fatalf("reading %d: the battery of a %v differs from the flat one's", i, n["device"].(map[string]any)["model"])
			}
			t9++
		}
	}
	if len(sites) < 20 || hot == 0 || t9 == 0 || len(statuses) != len(Statuses) {
		t.Fatalf("%d sites, %d foundry readings, %d T9 batteries, statuses %v: not the mix the bench needs", len(sites), hot, t9, statuses)
	}
	t.Logf("%d sites, %d foundry readings, %d T9 batteries, statuses %v", len(sites), hot, t9, statuses)
}
