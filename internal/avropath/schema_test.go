package avropath_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/avropath"
)

// fleetSchema has every kind of type a path meets: nested and nullable
// records, namespaces and references, a recursive type, enums, fixed,
// arrays, maps, unions and logical types.
const fleetSchema = `{
  "type": "record", "name": "Reading", "namespace": "io.fleet",
  "fields": [
    {"name": "temperature", "type": "double"},
    {"name": "count", "type": "long"},
    {"name": "rssi", "type": "int"},
    {"name": "ratio", "type": "float"},
    {"name": "ok", "type": "boolean"},
    {"name": "blob", "type": "bytes"},
    {"name": "site", "type": "string"},
    {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
    {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "ts_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
    {"name": "local_ts", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
    {"name": "day", "type": {"type": "int", "logicalType": "date"}},
    {"name": "at", "type": {"type": "int", "logicalType": "time-millis"}},
    {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
    {"name": "wrong_logical", "type": {"type": "string", "logicalType": "timestamp-millis"}},
    {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["OK", "WARN", "FAIL"]}},
    {"name": "prev_status", "type": ["null", "Status"], "default": null},
    {"name": "hash", "type": {"type": "fixed", "name": "Hash", "namespace": "io.other", "size": 4}},
    {"name": "hash2", "type": "io.other.Hash"},
    {"name": "location", "type": {"type": "record", "name": "Location", "fields": [
      {"name": "lat", "type": "double"},
      {"name": "lon", "type": "double"},
      {"name": "floor", "type": ["null", "int"], "default": null}
    ]}},
    {"name": "home", "type": ["null", "Location"], "default": null},
    {"name": "work", "type": ["Location", "null"]},
    {"name": "device", "type": {"type": "record", "name": "io.dev.Device", "fields": [
      {"name": "model", "type": {"type": "enum", "name": "Model", "symbols": ["X100", "T9"]}},
      {"name": "battery", "type": ["null", "double"], "default": null},
      {"name": "spec", "type": {"type": "record", "name": "Spec", "namespace": "", "fields": [
        {"name": "volts", "type": "double"}
      ]}},
      {"name": "spec2", "type": "Spec"}
    ]}},
    {"name": "model_again", "type": "io.dev.Model"},
    {"name": "window", "type": {"type": "array", "items": "double"}},
    {"name": "nullable_window", "type": ["null", {"type": "array", "items": "double"}], "default": null},
    {"name": "window_of_nullables", "type": {"type": "array", "items": ["null", "double"]}},
    {"name": "grid", "type": {"type": "array", "items": {"type": "array", "items": "int"}}},
    {"name": "points", "type": {"type": "array", "items": {"type": "record", "name": "Point", "fields": [{"name": "x", "type": "double"}]}}},
    {"name": "attributes", "type": {"type": "map", "values": "string"}},
    {"name": "gauges", "type": ["null", {"type": "map", "values": ["null", "double"]}]},
    {"name": "by_zone", "type": {"type": "map", "values": "Location"}},
    {"name": "nested_maps", "type": {"type": "map", "values": {"type": "map", "values": "double"}}},
    {"name": "series", "type": {"type": "map", "values": {"type": "array", "items": "double"}}},
    {"name": "choice", "type": ["null", "double", "string"]},
    {"name": "two", "type": ["int", "long"]},
    {"name": "only_null", "type": "null"},
    {"name": "nested_null", "type": ["null"]},
    {"name": "tree", "type": {"type": "record", "name": "Tree", "fields": [
      {"name": "value", "type": "double"},
      {"name": "left", "type": ["null", "Tree"], "default": null},
      {"name": "children", "type": {"type": "array", "items": "Tree"}}
    ]}},
    {"name": "wrapped", "type": {"type": {"type": "array", "items": "long"}}},
    {"name": "optmap", "type": ["null", {"type": "map", "values": "string"}]},
    {"name": "Location", "type": ["null", {"type": "record", "name": "Holder", "namespace": "", "fields": [{"name": "Holder", "type": "double"}, {"name": "io", "type": "double"}]}]},
    {"name": "err", "type": {"type": "error", "name": "Failure", "fields": [{"name": "code", "type": "int"}]}}
  ]
}`

func parseFleet(t testing.TB) *avropath.Schema {
	t.Helper()
	s, err := avropath.ParseSchema(fleetSchema)
	if err != nil {
		t.Fatalf("ParseSchema: %v", err)
	}
	return s
}

func TestResolve(t *testing.T) {
	s := parseFleet(t)
	double := &avropath.Leaf{Type: "double", TypeName: "double"}
	tests := []struct {
		path string
		want avropath.Leaf
	}{
		{"temperature", avropath.Leaf{Type: "double", TypeName: "double"}},
		{"count", avropath.Leaf{Type: "long", TypeName: "long"}},
		{"rssi", avropath.Leaf{Type: "int", TypeName: "int"}},
		{"ratio", avropath.Leaf{Type: "float", TypeName: "float"}},
		{"ok", avropath.Leaf{Type: "boolean", TypeName: "boolean"}},
		{"blob", avropath.Leaf{Type: "bytes", TypeName: "bytes"}},
		{"site", avropath.Leaf{Type: "string", TypeName: "string"}},
		{"id", avropath.Leaf{Type: "string", TypeName: "string"}},
		{"ts", avropath.Leaf{Type: "long", Logical: "timestamp-millis", TypeName: "long (timestamp-millis)"}},
		{"ts_us", avropath.Leaf{Type: "long", Logical: "timestamp-micros", TypeName: "long (timestamp-micros)"}},
		{"local_ts", avropath.Leaf{Type: "long", TypeName: "long"}},
		{"day", avropath.Leaf{Type: "int", Logical: "date", TypeName: "int (date)"}},
		{"at", avropath.Leaf{Type: "int", Logical: "time-millis", TypeName: "int (time-millis)"}},
		{"amount", avropath.Leaf{Type: "bytes", Logical: "decimal", TypeName: "bytes (decimal)"}},
		{"wrong_logical", avropath.Leaf{Type: "string", TypeName: "string"}},
		{"status", avropath.Leaf{Type: "enum", TypeName: "enum Status"}},
		{"prev_status", avropath.Leaf{Type: "enum", Nullable: true, TypeName: `["null","enum Status"]`}},
		{"hash", avropath.Leaf{Type: "fixed", TypeName: "fixed Hash"}},
		{"hash2", avropath.Leaf{Type: "fixed", TypeName: "fixed Hash"}},
		{"location", avropath.Leaf{Type: "record", TypeName: "record Location"}},
		{"location.lat", avropath.Leaf{Type: "double", TypeName: "double"}},
		{"location.floor", avropath.Leaf{Type: "int", Nullable: true, TypeName: `["null","int"]`}},
		{"home.lat", avropath.Leaf{Type: "double", Nullable: true, TypeName: "double"}},
		{"home.floor", avropath.Leaf{Type: "int", Nullable: true, TypeName: `["null","int"]`}},
		{"work.lon", avropath.Leaf{Type: "double", Nullable: true, TypeName: "double"}},
		{"device.model", avropath.Leaf{Type: "enum", TypeName: "enum Model"}},
		{"model_again", avropath.Leaf{Type: "enum", TypeName: "enum Model"}},
		{"device.battery", avropath.Leaf{Type: "double", Nullable: true, TypeName: `["null","double"]`}},
		{"device.spec.volts", avropath.Leaf{Type: "double", TypeName: "double"}},
		{"device.spec2.volts", avropath.Leaf{Type: "double", TypeName: "double"}},
		{"window", avropath.Leaf{Type: "array", Items: double, TypeName: "array<double>"}},
		{"window[3]", avropath.Leaf{Type: "double", Nullable: true, TypeName: "double"}},
		{"nullable_window", avropath.Leaf{Type: "array", Items: double, Nullable: true, TypeName: `["null","array<double>"]`}},
		{"nullable_window[0]", avropath.Leaf{Type: "double", Nullable: true, TypeName: "double"}},
		{"window_of_nullables", avropath.Leaf{Type: "array", Items: &avropath.Leaf{Type: "double", Nullable: true, TypeName: `["null","double"]`}, TypeName: `array<["null","double"]>`}},
		{"grid[0]", avropath.Leaf{Type: "array", Items: &avropath.Leaf{Type: "int", TypeName: "int"}, Nullable: true, TypeName: "array<int>"}},
		{"grid[0][1]", avropath.Leaf{Type: "int", Nullable: true, TypeName: "int"}},
		{"points[0].x", avropath.Leaf{Type: "double", Nullable: true, TypeName: "double"}},
		{"attributes", avropath.Leaf{Type: "map", Items: &avropath.Leaf{Type: "string", TypeName: "string"}, TypeName: "map<string>"}},
		{"attributes.firmware", avropath.Leaf{Type: "string", Nullable: true, TypeName: "string"}},
		{`attributes["fw.version"]`, avropath.Leaf{Type: "string", Nullable: true, TypeName: "string"}},
		{"gauges.g1", avropath.Leaf{Type: "double", Nullable: true, TypeName: `["null","double"]`}},
		// A nullable map's wrapper is unwrapped and no further, so a key
		// named like its values' wrapper reads exactly (goavro_test.go).
		{"gauges.double", avropath.Leaf{Type: "double", Nullable: true, TypeName: `["null","double"]`}},
		{"by_zone.a", avropath.Leaf{Type: "record", Nullable: true, TypeName: "record Location"}},
		{"nested_maps.a", avropath.Leaf{Type: "map", Items: double, Nullable: true, TypeName: "map<double>"}},
		{"series.a[0]", avropath.Leaf{Type: "double", Nullable: true, TypeName: "double"}},
		{"choice", avropath.Leaf{Type: "union", Nullable: true, TypeName: `["null","double","string"]`}},
		{"two", avropath.Leaf{Type: "union", TypeName: `["int","long"]`}},
		{"only_null", avropath.Leaf{Type: "null", TypeName: "null"}},
		{"nested_null", avropath.Leaf{Type: "null", Nullable: true, TypeName: `["null"]`}},
		{"tree.value", avropath.Leaf{Type: "double", TypeName: "double"}},
		{"tree.left.left.left.value", avropath.Leaf{Type: "double", Nullable: true, TypeName: "double"}},
		{"tree.children[2].left.children[0].value", avropath.Leaf{Type: "double", Nullable: true, TypeName: "double"}},
		{"tree.children", avropath.Leaf{Type: "array", Items: &avropath.Leaf{Type: "record", TypeName: "record Tree"}, TypeName: "array<record Tree>"}},
		{"wrapped", avropath.Leaf{Type: "array", Items: &avropath.Leaf{Type: "long", TypeName: "long"}, TypeName: "array<long>"}},
		{"optmap.zone", avropath.Leaf{Type: "string", Nullable: true, TypeName: "string"}},
		{"Location.io", avropath.Leaf{Type: "double", Nullable: true, TypeName: "double"}},
		{"err.code", avropath.Leaf{Type: "int", TypeName: "int"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := s.Resolve(mustParse(t, tt.path))
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Resolve = %+v; want %+v", got, tt.want)
			}
		})
	}
}

func TestResolveRefuses(t *testing.T) {
	s := parseFleet(t)
	tests := []struct {
		path   string
		want   string // the whole message after the class
		absent bool
	}{
		{"nope", `nope: record Reading has no field "nope"`, true},
		{"location.alt", `location.alt: record Location has no field "alt"`, true},
		{"home.alt", `home.alt: record Location has no field "alt"`, true},
		{"tree.left.nope", `tree.left.nope: record Tree has no field "nope"`, true},
		{"site.x", `site.x: site is string, not a record or map`, false},
		{"location.lat.x", `location.lat.x: location.lat is double, not a record or map`, false},
		{"device.battery.x", `device.battery.x: device.battery is double, not a record or map`, false},
		{"status.OK", `status.OK: status is enum Status, not a record or map`, false},
		{"window.x", `window.x: window is array<double>, not a record or map`, false},
		{"attributes[3]", `attributes[3]: attributes is map<string>, not an array`, false},
		{"location[0]", `location[0]: location is record Location, not an array`, false},
		{"temperature[0]", `temperature[0]: temperature is double, not an array`, false},
		{"window[0][1]", `window[0][1]: window[0] is double, not an array`, false},
		{"choice.x", `choice.x: choice is ["null","double","string"]; a path passes only through a nullable union ["null", T]`, false},
		{"two[0]", `two[0]: two is ["int","long"]; a path passes only through a nullable union`, false},
		// Names a decoded record uses as union wrapper keys.
		{"optmap.map", `optmap.map: optmap is ["null","map<string>"], whose value a decoded record holds under the key "map": the step "map" would read that wrapper, not a key`, false},
		{`home["io.fleet.Location"]`, `home["io.fleet.Location"]: home is ["null","record Location"], whose value a decoded record holds under the key "io.fleet.Location": the step "io.fleet.Location" would read that wrapper, not a field`, false},
		{"Location.Holder", `Location.Holder: Location is ["null","record Holder"], whose value a decoded record holds under the key "Holder"`, false},
		{`gauges.map`, `gauges.map: gauges is ["null","map<[\"null\",\"double\"]>"], whose value a decoded record holds under the key "map"`, false},
		// Maps whose values a one-entry map would be mistaken for.
		{"by_zone.a.lat", `by_zone.a.lat: by_zone is map<record Location>: a path cannot step into the values of a map of records or maps`, false},
		{"nested_maps.a.b", `nested_maps.a.b: nested_maps is map<map<double>>: a path cannot step into the values`, false},
		{"only_null.x", `only_null.x: only_null is null, not a record or map`, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			_, err := s.Resolve(mustParse(t, tt.path))
			if !errors.Is(err, avropath.ErrNoPath) {
				t.Fatalf("Resolve = %v; want ErrNoPath", err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Resolve: %s\nwant:     %s", err, tt.want)
			}
			if got := avropath.IsAbsent(err); got != tt.absent {
				t.Errorf("IsAbsent = %v; want %v", got, tt.absent)
			}
		})
	}
	if _, err := s.Resolve(avropath.Path{}); !errors.Is(err, avropath.ErrNoPath) {
		t.Errorf("Resolve(zero Path) = %v; want ErrNoPath", err)
	}
}

func TestParseSchemaRefuses(t *testing.T) {
	tests := []struct {
		name, schema, want string
	}{
		{"not JSON", `{`, "not JSON"},
		{"not a record", `"double"`, "the top level is double, not a record"},
		{"an enum", `{"type": "enum", "name": "E", "symbols": ["A"]}`, "the top level is enum E, not a record"},
		{"a union", `["null", "double"]`, `the top level is ["null","double"], not a record`},
		{"unknown reference", `{"type": "record", "name": "R", "fields": [{"name": "a", "type": "Nope"}]}`, `record R field a: unknown type "Nope"`},
		{"reference before definition", `{"type": "record", "name": "R", "fields": [{"name": "a", "type": "L"}, {"name": "b", "type": {"type": "record", "name": "L", "fields": []}}]}`, `unknown type "L"`},
		{"no fields", `{"type": "record", "name": "R"}`, "record R has no fields array"},
		{"field without name", `{"type": "record", "name": "R", "fields": [{"type": "int"}]}`, "record R: a field has no name"},
		{"field twice", `{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}, {"name": "a", "type": "int"}]}`, `field "a" is defined twice`},
		{"type twice", `{"type": "record", "name": "R", "fields": [{"name": "a", "type": {"type": "enum", "name": "R", "symbols": []}}]}`, "type R is defined twice"},
		{"nameless record", `{"type": "record", "fields": []}`, "a record has no name"},
		{"array without items", `{"type": "record", "name": "R", "fields": [{"name": "a", "type": {"type": "array"}}]}`, `array has no "items"`},
		{"map without values", `{"type": "record", "name": "R", "fields": [{"name": "a", "type": {"type": "map"}}]}`, `map has no "values"`},
		{"object without type", `{"type": "record", "name": "R", "fields": [{"name": "a", "type": {}}]}`, `an object type has no "type"`},
		{"number as type", `{"type": "record", "name": "R", "fields": [{"name": "a", "type": 3}]}`, "a type is a string, an array or an object, not a number"},
		{"field not an object", `{"type": "record", "name": "R", "fields": [3]}`, "a field is a number, not an object"},
		{"symbol not a string", `{"type": "record", "name": "R", "fields": [{"name": "a", "type": {"type": "enum", "name": "E", "symbols": [1]}}]}`, "enum E: a symbol is a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := avropath.ParseSchema(tt.schema)
			if !errors.Is(err, avropath.ErrSchema) {
				t.Fatalf("ParseSchema = %v; want ErrSchema", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseSchema: %s; want it to say %s", err, tt.want)
			}
		})
	}
}

// TestParseSchemaOfTheRepo reads every schema the project ships.
func TestParseSchemaOfTheRepo(t *testing.T) {
	files, err := filepath.Glob("../../schemas/*.avsc")
	if err != nil || len(files) == 0 {
		t.Fatalf("no schemas found: %v", err)
	}
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := avropath.ParseSchema(string(text)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
