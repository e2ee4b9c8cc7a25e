package avropath_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"

	"github.com/streamscore/streamscore/internal/avropath"
)

// TestReadGoavro reads paths that Resolve accepts from records goavro
// itself encoded and decoded, so the union wrappers are the ones the
// scorer meets.
func TestReadGoavro(t *testing.T) {
	const schema = `{
	  "type": "record", "name": "Reading", "namespace": "io.fleet",
	  "fields": [
	    {"name": "temperature", "type": "double"},
	    {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["OK", "WARN"]}},
	    {"name": "prev", "type": ["null", "Status"], "default": null},
	    {"name": "location", "type": {"type": "record", "name": "Location", "fields": [
	      {"name": "lat", "type": "double"},
	      {"name": "floor", "type": ["null", "int"], "default": null}
	    ]}},
	    {"name": "home", "type": ["null", "Location"], "default": null},
	    {"name": "ts", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}], "default": null},
	    {"name": "day", "type": {"type": "int", "logicalType": "date"}},
	    {"name": "window", "type": ["null", {"type": "array", "items": "double"}], "default": null},
	    {"name": "attributes", "type": ["null", {"type": "map", "values": "string"}], "default": null},
	    {"name": "gauges", "type": {"type": "map", "values": ["null", "double"]}}
	  ]
	}`
	codec, err := goavro.NewCodec(schema)
	if err != nil {
		t.Fatal(err)
	}
	s, err := avropath.ParseSchema(schema)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.UnixMilli(1_700_000_000_000).UTC()
	day := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	full := map[string]any{
		"temperature": 21.5,
		"status":      "WARN",
		"prev":        goavro.Union("io.fleet.Status", "OK"),
		"location":    map[string]any{"lat": 52.5, "floor": goavro.Union("int", int32(2))},
		"home":        goavro.Union("io.fleet.Location", map[string]any{"lat": 48.1, "floor": nil}),
		"ts":          goavro.Union("long.timestamp-millis", ts),
		"day":         day,
		"window":      goavro.Union("array", []any{1.5, 2.5}),
		"attributes":  goavro.Union("map", map[string]any{"zone": "A"}),
		"gauges":      map[string]any{"g": goavro.Union("double", 9.5), "h": nil},
	}
	empty := map[string]any{
		"temperature": 1.0, "status": "OK", "prev": nil,
		"location": map[string]any{"lat": 0.0, "floor": nil},
		"home":     nil, "ts": nil, "day": day, "window": nil, "attributes": nil,
		"gauges": map[string]any{},
	}
	tests := []struct {
		path      string
		full      any // read from full; nil for not present
		fromEmpty any
	}{
		{"temperature", 21.5, 1.0},
		{"status", "WARN", "OK"},
		{"prev", "OK", nil},
		{"location.lat", 52.5, 0.0},
		{"location.floor", int32(2), nil},
		{"home.lat", 48.1, nil},
		{"home.floor", nil, nil},
		{"ts", ts, nil},
		{"day", day, day},
		{"window[1]", 2.5, nil},
		{"window[2]", nil, nil},
		{"window", []any{1.5, 2.5}, nil},
		{"attributes.zone", "A", nil},
		{"attributes.owner", nil, nil},
		{"gauges.g", 9.5, nil},
		{"gauges.h", nil, nil},
	}
	for name, native := range map[string]map[string]any{"full": full, "empty": empty} {
		body, err := codec.BinaryFromNative(nil, native)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		decoded, _, err := codec.NativeFromBinary(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rec := decoded.(map[string]any)
		for _, tt := range tests {
			p := mustParse(t, tt.path)
			if _, err := s.Resolve(p); err != nil {
				t.Fatalf("Resolve %s: %v", tt.path, err)
			}
			want := tt.full
			if name == "empty" {
				want = tt.fromEmpty
			}
			got, present, err := p.Read(rec)
			if err != nil {
				t.Errorf("%s %s: %v", name, tt.path, err)
				continue
			}
			if present != (want != nil) || !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s: Read = %#v, %v; want %#v", name, tt.path, got, present, want)
			}
		}
	}
}

// TestResolveRefusesWrapperKeysOfMapValues shows, on records goavro
// decoded, why Resolve refuses a map key named like the union wrapper of
// the map's values: a map of one entry lacking the key reads like a union
// wrapper, and Read would return the one entry's value under another key
// (review M4).
func TestResolveRefusesWrapperKeysOfMapValues(t *testing.T) {
	const schema = `{
	  "type": "record", "name": "Reading", "namespace": "io.x",
	  "fields": [
	    {"name": "gauges", "type": {"type": "map", "values": ["null", "double"]}},
	    {"name": "coords", "type": {"type": "map", "values": ["long", "null"]}},
	    {"name": "opt_gauges", "type": ["null", {"type": "map", "values": ["null", "double"]}]},
	    {"name": "places", "type": {"type": "map", "values": ["null",
	      {"type": "record", "name": "Place", "fields": [{"name": "depth", "type": "double"}]}]}},
	    {"name": "series", "type": {"type": "map", "values": ["null", {"type": "array", "items": "double"}]}},
	    {"name": "tags", "type": {"type": "map", "values": ["string", {"type": "enum", "name": "region", "symbols": ["EU", "US"]}]}}
	  ]
	}`
	codec, err := goavro.NewCodec(schema)
	if err != nil {
		t.Fatal(err)
	}
	s, err := avropath.ParseSchema(schema)
	if err != nil {
		t.Fatal(err)
	}
	body, err := codec.BinaryFromNative(nil, map[string]any{
		"gauges":     map[string]any{"g": goavro.Union("double", 9.5)},
		"coords":     map[string]any{"lat": goavro.Union("long", int64(52))},
		"opt_gauges": goavro.Union("map", map[string]any{"g": goavro.Union("double", 9.5)}),
		"places":     map[string]any{"dock": goavro.Union("io.x.Place", map[string]any{"depth": 4.5})},
		"series":     map[string]any{"s": goavro.Union("array", []any{1.5})},
		"tags":       map[string]any{"x": goavro.Union("io.x.region", "US")},
	})
	if err != nil {
		t.Fatal(err)
	}
	decoded, _, err := codec.NativeFromBinary(body)
	if err != nil {
		t.Fatal(err)
	}
	rec := decoded.(map[string]any)
	tests := []struct {
		path     string
		misreads any // what Read finds, though the map has no such key
		refusal  string
	}{
		{"gauges.double", 9.5, `gauges.double: gauges is map<["null","double"]>, whose values a decoded record holds under the key "double"`},
		{"coords.long", int64(52), `coords.long: coords is map<["long","null"]>, whose values a decoded record holds under the key "long"`},
		{`places["io.x.Place"]`, 4.5, `places["io.x.Place"]: places is map<["null","record Place"]>, whose values`},
		{"series.array", []any{1.5}, `series.array: series is map<["null","array<double>"]>, whose values`},
		// A union of several types: any branch's key misreads.
		{`tags["io.x.region"]`, "US", `tags["io.x.region"]: tags is map<["string","enum region"]>, whose values`},
		{"tags.string", nil, `tags.string: tags is map<["string","enum region"]>, whose values`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p := mustParse(t, tt.path)
			if got, present, err := p.Read(rec); tt.misreads != nil && (err != nil || !present || !reflect.DeepEqual(got, tt.misreads)) {
				t.Fatalf("Read = %#v, %v, %v; the case no longer shows the misreading", got, present, err)
			}
			_, err := s.Resolve(p)
			if !errors.Is(err, avropath.ErrNoPath) || !strings.HasPrefix(err.Error(), tt.refusal) {
				t.Errorf("Resolve = %v\nwant:     %s", err, tt.refusal)
			}
		})
	}
	// Other keys of the same maps resolve, and read what the map holds. So
	// does a wrapper key into a nullable map: Read unwraps the union around
	// the map, and looks no further.
	for path, want := range map[string]any{
		"gauges.g": 9.5, "coords.lat": int64(52), "places.dock": map[string]any{"depth": 4.5}, "gauges.lat": nil,
		"opt_gauges.g": 9.5, "opt_gauges.double": nil,
	} {
		p := mustParse(t, path)
		if _, err := s.Resolve(p); err != nil {
			t.Errorf("Resolve %s: %v", path, err)
		}
		if got, present, err := p.Read(rec); err != nil || present != (want != nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("Read %s = %#v, %v, %v; want %#v", path, got, present, err, want)
		}
	}
}
