package datasets

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLoadSensors(t *testing.T) {
	recs, err := LoadSensors("testdata/sensor-network")
	if err != nil {
		t.Fatal(err)
	}
	at := func(reading int) time.Time { return SensorEpoch.Add(time.Duration(reading-1) * 5 * time.Second) }
	want := []struct {
		key         string
		reading     int32
		indoor      bool
		humidity    float64
		temperature float64
		anomaly     bool
	}{
		{"1", 1, true, 45.93, 27.97, false},
		{"1", 2, true, 45.9, 27.95, false},
		{"1", 2343, true, 46.26, 27.84, false},
		{"1", 2344, true, 49.26, 27.98, true},
		{"3", 5039, false, 45.47, 22.77, false},
		{"4", 2362, false, 51.67, 27.62, true},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i, w := range want {
		r := recs[i]
		v := r.Value
		if r.Key != w.key || v["mote_id"] != int32(r.Key[0]-'0') || v["reading"] != w.reading || v["indoor"] != w.indoor ||
			v["humidity"] != w.humidity || v["temperature"] != w.temperature || v["anomaly"] != w.anomaly {
			t.Errorf("record %d = %s %v, want %+v", i, r.Key, v, w)
		}
		if ts := at(int(w.reading)); !r.Time.Equal(ts) || v["ts"] != r.Time {
			t.Errorf("record %d at %v (value ts %v), want %v", i, r.Time, v["ts"], ts)
		}
	}
	if last := recs[4].Time; last != time.Date(2010, 5, 9, 6, 59, 50, 0, time.UTC) {
		t.Errorf("mote 3's last reading at %v", last)
	}
}

func TestParseSensorsRejects(t *testing.T) {
	const header = "reading,mote_id,indoor,humidity,temperature,label\n"
	for _, tc := range []struct {
		name, csv, errContains string
	}{
		{"empty", "", "header"},
		{"other header", "reading,mote,indoor,humidity,temperature,label\n", "header"},
		{"short row", header + "1,1,1,45.9,27.9\n", "wrong number of fields"},
		{"label 2", header + "1,1,1,45.9,27.9,2\n", "label 2"},
		{"reading 0", header + "0,1,1,45.9,27.9,0\n", "reading 0"},
		{"NaN humidity", header + "1,1,1,NaN,27.9,0\n", "humidity"},
		{"text temperature", header + "1,1,1,45.9,warm,0\n", "temperature"},
		{"indoor 2", header + "1,1,2,45.9,27.9,0\n", "indoor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSensors(strings.NewReader(tc.csv))
			if !errors.Is(err, ErrBadData) || !strings.Contains(err.Error(), tc.errContains) {
				t.Fatalf("error %v, want ErrBadData containing %q", err, tc.errContains)
			}
		})
	}
}
