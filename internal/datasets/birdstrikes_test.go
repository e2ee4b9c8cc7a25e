package datasets

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestLoadBirdstrikes(t *testing.T) {
	recs, err := LoadBirdstrikes("testdata/vega-datasets")
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
		"speed_knots":        map[string]any{"int": int32(300)},
		"substantial_damage": false,
		"wildlife_size_code": int32(3), // large
		"phase_code":         int32(1), // Climb, first of Climb and Take-off run
		"state_code":         int32(1), // Louisiana, first of three states
		"damage":             "None",
	} {
		if got := first.Value[k]; !equalValue(got, want) {
			t.Errorf("first record %s = %v, want %v", k, got, want)
		}
	}
	if v := recs[1].Value; v["substantial_damage"] != true || v["wildlife_size_code"] != int32(1) || v["phase_code"] != int32(2) {
		t.Errorf("second record %v", v)
	}
	if v := recs[2].Value; v["speed_knots"] != nil {
		t.Errorf("a strike without a speed has speed_knots %v, want null", v["speed_knots"])
	}
	if v := recs[3].Value; v["damage"] != "C" || v["substantial_damage"] != false {
		t.Errorf("damage code C read as %v, substantial %v", v["damage"], v["substantial_damage"])
	}
	for _, r := range recs {
		if _, ok := r.Value["cost_total"]; ok {
			t.Fatal("costs are kept; they give the label away")
		}
	}
}

func TestParseBirdstrikesRefuses(t *testing.T) {
	header := strings.Join(birdstrikeHeader, ",") + "\n"
	row := "A,B,None,%s,OP,Texas,Climb,%s,Crow,Day,0,0,0,%s\n"
	for _, tc := range []struct{ name, data string }{
		{"header", "a,b\n"},
		{"date", header + fmt.Sprintf(row, "1990-13-01", "Small", "100")},
		{"size", header + fmt.Sprintf(row, "1990-01-01", "Huge", "100")},
		{"speed", header + fmt.Sprintf(row, "1990-01-01", "Small", "-5")},
		{"columns", header + "A,B,None\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseBirdstrikes(strings.NewReader(tc.data)); !errors.Is(err, ErrBadData) {
				t.Fatalf("error %v, want ErrBadData", err)
			}
		})
	}
}

func equalValue(got, want any) bool {
	if m, ok := want.(map[string]any); ok {
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(m) {
			return false
		}
		for k, v := range m {
			if g[k] != v {
				return false
			}
		}
		return true
	}
	return got == want
}
