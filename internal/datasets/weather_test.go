package datasets

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLoadWeather(t *testing.T) {
	recs, err := LoadWeather("testdata/vega-datasets")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	day := time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC)
	ny := recs[2]
	if ny.Key != "New York" || !ny.Time.Equal(day) {
		t.Errorf("New York's record key %q time %v", ny.Key, ny.Time)
	}
	for k, want := range map[string]any{
		"seattle": false, "day_of_year": int32(1), "precipitation": 1.8, "temp_max": 10.0, "temp_min": 3.3, "wind": 5.1, "weather": "rain",
	} {
		if got := ny.Value[k]; got != want {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
	if recs[1].Value["seattle"] != true || recs[1].Value["day_of_year"] != int32(2) {
		t.Errorf("Seattle's second day %v", recs[1].Value)
	}
}

func TestParseWeatherRefuses(t *testing.T) {
	header := strings.Join(weatherHeader, ",") + "\n"
	for _, tc := range []struct{ name, data string }{
		{"header", "location,date\n"},
		{"date", header + "Seattle,2012-02-30,0,1,0,1,sun\n"},
		{"number", header + "Seattle,2012-01-01,x,1,0,1,sun\n"},
		{"not finite", header + "Seattle,2012-01-01,0,NaN,0,1,sun\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseWeather(strings.NewReader(tc.data)); !errors.Is(err, ErrBadData) {
				t.Fatalf("error %v, want ErrBadData", err)
			}
		})
	}
}
