package serde

import (
	"errors"
	"reflect"
	"testing"
)

func TestSchemaFieldsDescribeProjectSchemas(t *testing.T) {
	tests := []struct {
		schema   string
		wantName string
		want     []Field
	}{
		{"sensor_reading", "io.streamscore.sensors.SensorReading", []Field{
			{Name: "device_id", Type: "string"},
			{Name: "ts", Type: "long", Logical: "timestamp-millis"},
			{Name: "temperature", Type: "double"},
			{Name: "humidity", Type: "double"},
			{Name: "pressure", Type: "double"},
			{Name: "light", Type: "double"},
			{Name: "co2", Type: "double"},
			{Name: "vibration", Type: "double"},
			{Name: "sound", Type: "double"},
			{Name: "rssi", Type: "int"},
			{Name: "uptime_s", Type: "long"},
			{Name: "battery_volts", Type: "double", Nullable: true},
		}},
		{"text_message", "io.streamscore.text.TextMessage", []Field{
			{Name: "id", Type: "string"},
			{Name: "ts", Type: "long", Logical: "timestamp-millis"},
			{Name: "text", Type: "string"},
			{Name: "language", Type: "string", Nullable: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			s, err := newSchema(7, projectSchema(t, tt.schema))
			if err != nil {
				t.Fatalf("newSchema: %v", err)
			}
			if s.ID != 7 || s.Name != tt.wantName || s.Text != projectSchema(t, tt.schema) {
				t.Fatalf("schema %d %q, want 7 %q and the text kept", s.ID, s.Name, tt.wantName)
			}
			if !reflect.DeepEqual(s.Fields, tt.want) {
				t.Fatalf("Fields =\n%+v\nwant\n%+v", s.Fields, tt.want)
			}
		})
	}
}

func TestSchemaFieldsDescribeEveryTypeShape(t *testing.T) {
	const schema = `{
	  "type": "record", "name": "All", "namespace": "ns.top",
	  "fields": [
	    {"name": "b", "type": "boolean"},
	    {"name": "f", "type": {"type": "float"}},
	    {"name": "raw", "type": "bytes"},
	    {"name": "dec", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
	    {"name": "day", "type": {"type": "int", "logicalType": "date"}},
	    {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}},
	    {"name": "color2", "type": "Color"},
	    {"name": "color3", "type": ["null", "ns.top.Color"]},
	    {"name": "inner", "type": {"type": "record", "name": "Inner", "namespace": "ns.other", "fields": [
	      {"name": "h", "type": {"type": "fixed", "name": "Hash", "size": 4}}
	    ]}},
	    {"name": "inner2", "type": "ns.other.Inner"},
	    {"name": "hash", "type": ["ns.other.Hash", "null"]},
	    {"name": "tags", "type": {"type": "array", "items": "string"}},
	    {"name": "attrs", "type": {"type": "map", "values": "long"}},
	    {"name": "when", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}]},
	    {"name": "either", "type": ["string", "long"]},
	    {"name": "maybe_either", "type": ["null", "string", "long"]},
	    {"name": "only", "type": ["string"]},
	    {"name": "nothing", "type": "null"}
	  ]
	}`
	want := []Field{
		{Name: "b", Type: "boolean"},
		{Name: "f", Type: "float"},
		{Name: "raw", Type: "bytes"},
		{Name: "dec", Type: "bytes", Logical: "decimal"},
		{Name: "day", Type: "int", Logical: "date"},
		{Name: "color", Type: "enum"},
		{Name: "color2", Type: "enum"},
		{Name: "color3", Type: "enum", Nullable: true},
		{Name: "inner", Type: "record"},
		{Name: "inner2", Type: "record"},
		{Name: "hash", Type: "fixed", Nullable: true},
		{Name: "tags", Type: "array"},
		{Name: "attrs", Type: "map"},
		{Name: "when", Type: "long", Logical: "timestamp-millis", Nullable: true},
		{Name: "either", Type: "union"},
		{Name: "maybe_either", Type: "union", Nullable: true},
		{Name: "only", Type: "union"},
		{Name: "nothing", Type: "null"},
	}
	s, err := newSchema(1, schema)
	if err != nil {
		t.Fatalf("newSchema: %v", err)
	}
	if s.Name != "ns.top.All" {
		t.Errorf("Name = %q, want ns.top.All", s.Name)
	}
	if len(s.Fields) != len(want) {
		t.Fatalf("got %d fields, want %d", len(s.Fields), len(want))
	}
	for i := range want {
		if s.Fields[i] != want[i] {
			t.Errorf("field %d = %+v, want %+v", i, s.Fields[i], want[i])
		}
	}
}

func TestNewSchemaNames(t *testing.T) {
	tests := []struct {
		name, schema, want string
	}{
		{"no namespace", `{"type":"record","name":"R","fields":[]}`, "R"},
		{"namespace attribute", `{"type":"record","name":"R","namespace":"a.b","fields":[]}`, "a.b.R"},
		{"dotted name wins", `{"type":"record","name":"x.y.R","namespace":"a.b","fields":[]}`, "x.y.R"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := newSchema(1, tt.schema)
			if err != nil {
				t.Fatalf("newSchema: %v", err)
			}
			if s.Name != tt.want {
				t.Fatalf("Name = %q, want %q", s.Name, tt.want)
			}
		})
	}
}

func TestNewSchemaRefusesNonRecords(t *testing.T) {
	tests := []struct {
		name, schema string
		want         error
	}{
		{"not JSON", `{`, ErrUnsupportedSchema},
		{"primitive", `"long"`, ErrNotRecord},
		{"map", `{"type":"map","values":"long"}`, ErrNotRecord},
		{"record that does not compile", `{"type":"record","name":"R","fields":[{"name":"a","type":"Missing"}]}`, ErrUnsupportedSchema},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := newSchema(1, tt.schema); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
