package datasets

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestLoadBirdstrikeReports(t *testing.T) {
	recs, err := LoadBirdstrikeReports("testdata/vega-datasets")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4", len(recs))
	}
	first := recs[0]
	if first.Key != "1" || !first.Time.Equal(time.Date(1990, 1, 8, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("first record key %q time %v", first.Key, first.Time)
	}
	for k, want := range map[string]any{
		"airport":          "BARKSDALE AIR FORCE BASE ARPT",
		"aircraft":         "T-38A",
		"operator":         "MILITARY",
		"origin_state":     "Louisiana",
		"phase_of_flight":  "Climb",
		"wildlife_size":    "Large",
		"wildlife_species": "Turkey vulture",
		"time_of_day":      "Day",
		"speed_knots":      map[string]any{"int": int32(300)},
		"damage":           "None",
		"damaged":          false,
		"night":            false,
	} {
		if got := first.Value[k]; !equalValue(got, want) {
			t.Errorf("first record %s = %v, want %v", k, got, want)
		}
	}
	for _, k := range []string{"airport_code", "phase_code", "substantial_damage", "cost_total"} {
		if _, ok := first.Value[k]; ok {
			t.Errorf("field %s kept: a report carries names only, and no cost", k)
		}
	}
	if v := recs[1].Value; v["damaged"] != true || v["phase_of_flight"] != "Take-off run" {
		t.Errorf("second record (substantial damage) %v", v)
	}
	if v := recs[2].Value; v["speed_knots"] != nil {
		t.Errorf("a strike without a speed has speed_knots %v, want null", v["speed_knots"])
	}
	if v := recs[3].Value; v["damage"] != "C" || v["damaged"] != true {
		t.Errorf("damage code C read as %v, damaged %v; want damage", v["damage"], v["damaged"])
	}
}

func TestParseBirdstrikeReports(t *testing.T) {
	header := strings.Join(birdstrikeHeader, ",") + "\n"
	row := "A,B,%s,%s,OP,Texas,Climb,%s,Crow,%s,0,0,0,%s\n"
	t.Run("night, no speed", func(t *testing.T) {
		recs, err := ParseBirdstrikeReports(strings.NewReader(header +
			fmt.Sprintf(row, "None", "1990-01-01", "Small", "Night", "") +
			fmt.Sprintf(row, "Minor", "1990-01-02", "Medium", "Dawn", "120")))
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 || recs[0].Key != "1" || recs[1].Key != "2" {
			t.Fatalf("records %v", recs)
		}
		if v := recs[0].Value; v["time_of_day"] != "Night" || v["night"] != true || v["speed_knots"] != nil || v["damaged"] != false {
			t.Errorf("first %v", v)
		}
		if v := recs[1].Value; v["time_of_day"] != "Dawn" || v["night"] != false || v["damaged"] != true {
			t.Errorf("second %v", v)
		}
	})
	for _, tc := range []struct{ name, data string }{
		{"header", "a,b\n"},
		{"date", header + fmt.Sprintf(row, "None", "1990-13-01", "Small", "Day", "100")},
		{"size", header + fmt.Sprintf(row, "None", "1990-01-01", "Huge", "Day", "100")},
		{"time of day", header + fmt.Sprintf(row, "None", "1990-01-01", "Small", "Noon", "100")},
		{"speed", header + fmt.Sprintf(row, "None", "1990-01-01", "Small", "Day", "-5")},
		{"columns", header + "A,B,None\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseBirdstrikeReports(strings.NewReader(tc.data)); !errors.Is(err, ErrBadData) {
				t.Fatalf("error %v, want ErrBadData", err)
			}
		})
	}
}
