package serde

import (
	"errors"
	"testing"
)

// TestSchemaKeepsIDNameAndText: a compiled schema keeps the registry's id,
// the record's full name and the text as given. What a feature path reaches
// in it is avropath's concern (avropath.ParseSchema).
func TestSchemaKeepsIDNameAndText(t *testing.T) {
	for schema, wantName := range map[string]string{
		"sensor_reading": "io.streamscore.sensors.SensorReading",
		"text_message":   "io.streamscore.text.TextMessage",
	} {
		t.Run(schema, func(t *testing.T) {
			s, err := newSchema(7, projectSchema(t, schema))
			if err != nil {
				t.Fatalf("newSchema: %v", err)
			}
			if s.ID != 7 || s.Name != wantName || s.Text != projectSchema(t, schema) {
				t.Fatalf("schema %d %q, want 7 %q and the text kept", s.ID, s.Name, wantName)
			}
		})
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
