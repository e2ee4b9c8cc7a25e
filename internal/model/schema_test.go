package model_test

import (
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/model"
)

// fleetSchema is the schema fleetRecord's records are written with.
const fleetSchema = `{
  "type": "record", "name": "Reading", "namespace": "io.fleet",
  "fields": [
    {"name": "temperature", "type": "double"},
    {"name": "site", "type": "string"},
    {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["OK", "WARN", "FAIL", "MAINTENANCE"]}},
    {"name": "prev_status", "type": ["null", "Status"], "default": null},
    {"name": "code", "type": "int"},
    {"name": "big_code", "type": "long"},
    {"name": "online", "type": "boolean"},
    {"name": "blob", "type": "bytes"},
    {"name": "location", "type": {"type": "record", "name": "Location", "fields": [
      {"name": "lat", "type": "double"},
      {"name": "lon", "type": "double"},
      {"name": "floor", "type": ["null", "int"], "default": null}
    ]}},
    {"name": "home", "type": ["null", "Location"], "default": null},
    {"name": "device", "type": {"type": "record", "name": "Device", "fields": [
      {"name": "model", "type": {"type": "enum", "name": "Model", "symbols": ["X100", "T9"]}},
      {"name": "online", "type": "boolean"},
      {"name": "battery", "type": ["null", "double"], "default": null}
    ]}},
    {"name": "attributes", "type": {"type": "map", "values": "string"}},
    {"name": "gauges", "type": {"type": "map", "values": ["null", "double"]}},
    {"name": "window", "type": {"type": "array", "items": "double"}},
    {"name": "opt_window", "type": ["null", {"type": "array", "items": "double"}], "default": null},
    {"name": "int_window", "type": {"type": "array", "items": "int"}},
    {"name": "holey_window", "type": {"type": "array", "items": ["null", "double"]}},
    {"name": "ts_window", "type": {"type": "array", "items": {"type": "long", "logicalType": "timestamp-millis"}}},
    {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "ts_us", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}], "default": null},
    {"name": "day", "type": {"type": "int", "logicalType": "date"}},
    {"name": "at", "type": {"type": "int", "logicalType": "time-millis"}},
    {"name": "plain_ms", "type": "long"},
    {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2}},
    {"name": "choice", "type": ["null", "double", "string"]},
    {"name": "optmap", "type": ["null", {"type": "map", "values": "double"}]}
  ]
}`

func parseFleet(t testing.TB) *avropath.Schema {
	t.Helper()
	s, err := avropath.ParseSchema(fleetSchema)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCheckSchemaPaths checks one feature of every kind against the fleet
// schema: the ones it feeds, and for the others what the refusal says.
func TestCheckSchemaPaths(t *testing.T) {
	statuses := cats("OK", "WARN")
	tests := []struct {
		name    string
		feature model.Feature
		text    bool   // the feature is a string input's
		want    string // "" when it fits; else a fragment after `input "..." `
	}{
		{name: "nested double", feature: model.Feature{Field: "location.lat"}},
		{name: "through a nullable record", feature: model.Feature{Field: "home.lat"}},
		{name: "nullable int", feature: model.Feature{Field: "location.floor"}},
		{name: "nested nullable double", feature: model.Feature{Field: "device.battery"}},
		{name: "boolean", feature: model.Feature{Field: "device.online"}},
		{name: "map value", feature: model.Feature{Field: "gauges.g"}},
		{name: "bracket key", feature: model.Feature{Field: `gauges["g.1"]`}},
		{name: "array item", feature: model.Feature{Field: "window[3]"}},
		{name: "nullable array item", feature: model.Feature{Field: "opt_window[0]"}},
		{name: "timestamp", feature: model.Feature{Field: "ts"}},
		{name: "date", feature: model.Feature{Field: "day"}},
		{name: "time", feature: model.Feature{Field: "at"}},
		{name: "whole array", feature: model.Feature{Field: "window", Length: 8}},
		{name: "whole nullable array", feature: model.Feature{Field: "opt_window", Length: 8, Pad: ptr(0)}},
		{name: "whole array of ints", feature: model.Feature{Field: "int_window", Length: 2}},
		{name: "category of a string", feature: model.Feature{Field: "site", Categories: cats("a")}},
		{name: "category of an enum", feature: model.Feature{Field: "status", Categories: statuses}},
		{name: "category of a nullable enum", feature: model.Feature{Field: "prev_status", Categories: statuses}},
		{name: "category of a nested enum", feature: model.Feature{Field: "device.model", Categories: cats("X100")}},
		{name: "category of a map value", feature: model.Feature{Field: "attributes.zone", Categories: cats("A")}},
		{name: "category of an int", feature: model.Feature{Field: "code", Categories: cats("3")}},
		{name: "category of a long", feature: model.Feature{Field: "big_code", Categories: cats("3")}},
		{name: "category of a boolean", feature: model.Feature{Field: "online", Categories: cats("true")}},
		{name: "hour of a timestamp", feature: model.Feature{Field: "ts", Part: model.HourOfDay}},
		{name: "day of a nullable timestamp-micros", feature: model.Feature{Field: "ts_us", Part: model.DayOfWeek}},
		{name: "day of a date", feature: model.Feature{Field: "day", Part: model.DayOfWeek}},
		{name: "text of a string", feature: model.Feature{Field: "site"}, text: true},
		{name: "text of an enum", feature: model.Feature{Field: "device.model"}, text: true},
		{name: "text of a map value", feature: model.Feature{Field: "attributes.zone"}, text: true},
		{name: "absent with a default", feature: model.Feature{Field: "location.alt", Default: ptr(0)}},
		{name: "absent top-level with a default", feature: model.Feature{Field: "calibration", Default: ptr(0)}},

		{name: "absent top-level", feature: model.Feature{Field: "calibration"},
			want: `needs field "calibration", which the schema lacks`},
		{name: "absent nested", feature: model.Feature{Field: "location.alt"},
			want: `needs field "location.alt", which the schema lacks: record Location has no field "alt"`},
		{name: "absent category", feature: model.Feature{Field: "region", Categories: cats("eu")},
			want: `needs field "region", which the schema lacks`},
		{name: "step into a string", feature: model.Feature{Field: "site.code", Default: ptr(0)},
			want: `field "site.code": site is string, not a record or map`},
		{name: "index into a map", feature: model.Feature{Field: "attributes[2]"},
			want: `field "attributes[2]": attributes is map<string>, not an array`},
		{name: "through a union of two", feature: model.Feature{Field: "choice.x"},
			want: `field "choice.x": choice is ["null","double","string"]; a path passes only through a nullable union`},
		{name: "union wrapper key", feature: model.Feature{Field: "optmap.map"},
			want: `field "optmap.map": optmap is ["null","map<double>"], whose value a decoded record holds under the key "map"`},
		{name: "string as a number", feature: model.Feature{Field: "site"},
			want: `takes numbers but field "site" is string (give it categories to read it as a category)`},
		{name: "enum as a number", feature: model.Feature{Field: "device.model"},
			want: `takes numbers but field "device.model" is enum Model (give it categories`},
		{name: "record as a number", feature: model.Feature{Field: "location"},
			want: `takes numbers but field "location" is record Location`},
		{name: "array as a number", feature: model.Feature{Field: "window"},
			want: `takes numbers but field "window" is array<double> (give it a length to read it whole, or read one item as window[0])`},
		{name: "decimal as a number", feature: model.Feature{Field: "amount"},
			want: `takes numbers but field "amount" is bytes (decimal)`},
		{name: "union as a number", feature: model.Feature{Field: "choice"},
			want: `takes numbers but field "choice" is ["null","double","string"]`},
		{name: "double as a category", feature: model.Feature{Field: "location.lon", Categories: cats("north")},
			want: `reads categories but field "location.lon" is double: a category is a string, an enum, an int, a long or a boolean`},
		{name: "timestamp as a category", feature: model.Feature{Field: "ts", Categories: cats("x")},
			want: `reads categories but field "ts" is long (timestamp-millis)`},
		{name: "record as a category", feature: model.Feature{Field: "device", Categories: cats("x")},
			want: `reads categories but field "device" is record Device`},
		{name: "double as an array", feature: model.Feature{Field: "temperature", Length: 2},
			want: `reads 2 columns from an array but field "temperature" is double`},
		{name: "array of nullables", feature: model.Feature{Field: "holey_window", Length: 2},
			want: `reads 2 columns from an array but field "holey_window" is array<["null","double"]>: an array feature is an array of ints, longs, floats or doubles, none null`},
		{name: "array of timestamps", feature: model.Feature{Field: "ts_window", Length: 2},
			want: `reads 2 columns from an array but field "ts_window" is array<long (timestamp-millis)>`},
		{name: "part of a plain long", feature: model.Feature{Field: "plain_ms", Part: model.HourOfDay},
			want: `reads the hour_of_day of a timestamp but field "plain_ms" is long: a part is of a timestamp-millis, a timestamp-micros or a date`},
		{name: "part of a time", feature: model.Feature{Field: "at", Part: model.DayOfWeek},
			want: `reads the day_of_week of a timestamp but field "at" is int (time-millis)`},
		{name: "text of a number", feature: model.Feature{Field: "location.lat"}, text: true,
			want: `takes text but field "location.lat" is double`},
		{name: "text of a record", feature: model.Feature{Field: "device"}, text: true,
			want: `takes text but field "device" is record Device`},
	}
	schema := parseFleet(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := model.Input{Name: "features", Fields: []model.Feature{tt.feature}}
			if tt.text {
				in = model.Input{Name: "text", Type: model.StringInput, Fields: []model.Feature{tt.feature}}
			}
			spec := model.Spec{Name: "m", Task: model.Regression, Inputs: []model.Input{in}, Outputs: model.Outputs{Value: "v"}}
			if err := spec.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			err := spec.CheckSchema(schema)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckSchema: %v", err)
				}
				return
			}
			requireErr(t, err, model.ErrSchemaMismatch, `input "`+in.Name+`" `+tt.want)
		})
	}
}

// TestCheckSchemaNamesEveryPath refuses a spec with many bad paths in one
// error that names each path beside its Avro type.
func TestCheckSchemaNamesEveryPath(t *testing.T) {
	spec := model.Spec{
		Name: "fleet", Task: model.Classification, Labels: []string{"normal", "anomaly"},
		Inputs: []model.Input{
			{Name: "features", Fields: []model.Feature{
				{Field: "temperature"},
				{Field: "location.lat"},
				{Field: "status", Categories: cats("OK", "WARN", "FAIL")},
				{Field: "location.alt"},
				{Field: "site.code"},
				{Field: "attributes[2]"},
				{Field: "location.lon", Categories: cats("north", "south")},
				{Field: "window", Length: 4, Pad: ptr(0)},
				{Field: "holey_window", Length: 4, Pad: ptr(0)},
				{Field: "plain_ms", Part: model.HourOfDay},
				{Field: "calibration.offset", Default: ptr(0)},
			}},
			{Name: "text", Type: model.StringInput, Fields: columns("temperature")},
		},
		Outputs: model.Outputs{Scores: "scores"},
	}
	err := spec.CheckSchema(parseFleet(t))
	requireErr(t, err, model.ErrSchemaMismatch)
	problems := strings.Split(err.Error(), "; ")
	wants := []struct{ path, avroType string }{
		{"location.alt", "record Location"},
		{"site.code", "string"},
		{"attributes[2]", "map<string>"},
		{"location.lon", "double"},
		{"holey_window", `array<["null","double"]>`},
		{"plain_ms", "long"},
		{"temperature", "double"}, // the text input's
	}
	if len(problems) != len(wants) {
		t.Errorf("%d problems; want %d: %v", len(problems), len(wants), err)
	}
	for _, want := range wants {
		named := false
		for _, p := range problems {
			named = named || strings.Contains(p, `"`+want.path+`"`) && strings.Contains(p, want.avroType)
		}
		if !named {
			t.Errorf("the refusal does not name %s beside its Avro type %s: %v", want.path, want.avroType, err)
		}
	}
}
