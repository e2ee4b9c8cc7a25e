package model_test

import (
	"testing"

	"github.com/streamscore/streamscore/internal/model"
)

// TestTwoStepPathsReadAsTheGeneralWay holds AppendNumbers' shared lookup of
// a nested record (env.temperature beside env.humidity) to the general
// path reading: same values where the lookups find a number, and the same
// values or error where they do not (a union wrapper, a null record, a
// map, a key named like a wrapper, a record that moves between columns).
func TestTwoStepPathsReadAsTheGeneralWay(t *testing.T) {
	zero := 0.0
	in := model.Input{Name: "features", Fields: []model.Feature{
		{Field: "env.temperature"}, {Field: "env.humidity"},
		{Field: "power.volts", Default: &zero},
		{Field: "attrs.map", Default: &zero},
		{Field: "env.co2", Default: &zero},
		{Field: "top"},
		{Field: "link.rssi", Default: &zero},
	}}
	r, err := in.Reader()
	if err != nil {
		t.Fatal(err)
	}
	// env also holds the keys of the other records' columns, so a lookup
	// left over from env would read them.
	env := map[string]any{"temperature": 21.5, "humidity": int32(40), "co2": int64(400), "volts": 99.0, "map": 99.0, "rssi": 99.0}
	tests := []struct {
		name string
		rec  map[string]any
	}{
		{"plain records", map[string]any{"env": env, "power": map[string]any{"volts": 3.3}, "attrs": map[string]any{"map": 7.0}, "top": 1.0, "link": map[string]any{"rssi": int32(-60)}}},
		{"a nullable record's wrapper", map[string]any{"env": env, "power": map[string]any{"io.x.Power": map[string]any{"volts": 3.1}}, "attrs": map[string]any{}, "top": 2.0, "link": nil}},
		{"a null record takes the default", map[string]any{"env": env, "power": nil, "top": 3.0}},
		{"a nullable map's wrapper", map[string]any{"env": env, "attrs": map[string]any{"map": map[string]any{"map": 5.0, "x": 1.0}}, "top": 4.0}},
		{"a wrapped number one level down", map[string]any{"env": map[string]any{"temperature": map[string]any{"double": 19.0}, "humidity": 1.0, "co2": nil}, "top": map[string]any{"double": 5.0}}},
		{"a boolean and a missing record", map[string]any{"env": map[string]any{"temperature": true, "humidity": false}, "top": 6.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, wantErr := model.ColumnNumbers(r, tt.rec)
			got, err := r.AppendNumbers(nil, tt.rec, false)
			if (err == nil) != (wantErr == nil) {
				t.Fatalf("AppendNumbers error %v, the general way's %v", err, wantErr)
			}
			if err != nil {
				return
			}
			for i := range want {
				if got[i] != float32(want[i]) {
					t.Errorf("column %d (%s) = %v, the general way reads %v", i, in.Fields[i].Field, got[i], want[i])
				}
			}
		})
	}
}
