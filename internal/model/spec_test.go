package model_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/model"
)

// validSpec is a spec every Validate row starts from and breaks one way.
func validSpec() model.Spec {
	return model.Spec{
		Name:   "sensor-anomaly",
		Task:   model.Classification,
		Labels: []string{"normal", "anomaly"},
		Inputs: []model.Input{
			{Name: "features", Fields: columns("temperature", "humidity")},
			{Name: "text", Type: model.StringInput, Fields: columns("note")},
		},
		Outputs: model.Outputs{Scores: "probabilities"},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*model.Spec)
		wantErr string // "" when the spec is valid
	}{
		{"valid", func(*model.Spec) {}, ""},
		{"label-only classifier needs no labels", func(s *model.Spec) {
			s.Labels, s.Outputs = nil, model.Outputs{Label: "label"}
		}, ""},
		{"regressor", func(s *model.Spec) {
			s.Task, s.Labels, s.Outputs = model.Regression, nil, model.Outputs{Value: "variable"}
		}, ""},
		{"explicit float type", func(s *model.Spec) { s.Inputs[0].Type = model.FloatInput }, ""},
		{"no name", func(s *model.Spec) { s.Name = "" }, "name is empty"},
		{"no task", func(s *model.Spec) { s.Task = "" }, `task "" is neither`},
		{"bad task", func(s *model.Spec) { s.Task = "clustering" }, `task "clustering" is neither "classification" nor "regression"`},
		{"classifier without outputs", func(s *model.Spec) { s.Outputs = model.Outputs{Value: "v"} }, "a classifier needs outputs.scores or outputs.label"},
		{"classifier with scores and no labels", func(s *model.Spec) { s.Labels = nil }, "at least two labels, got 0"},
		{"classifier with scores and one label", func(s *model.Spec) { s.Labels = []string{"only"} }, "at least two labels, got 1"},
		{"regressor without value", func(s *model.Spec) { s.Task = model.Regression }, "a regressor needs outputs.value"},
		{"no inputs", func(s *model.Spec) { s.Inputs = nil }, "no inputs"},
		{"input without name", func(s *model.Spec) { s.Inputs[1].Name = "" }, "an input has no name"},
		{"duplicate input", func(s *model.Spec) { s.Inputs[1] = s.Inputs[0] }, `input "features" is mapped twice`},
		{"input without fields", func(s *model.Spec) { s.Inputs[0].Fields = nil }, `input "features" has no fields`},
		{"string input with two fields", func(s *model.Spec) {
			s.Inputs[1].Fields = columns("note", "subject")
		}, `string input "text" takes exactly one field, got 2`},
		{"string input with a default", func(s *model.Spec) {
			zero := 0.0
			s.Inputs[1].Fields[0].Default = &zero
		}, `string input "text": field "note" cannot have a numeric default`},
		{"unknown input type", func(s *model.Spec) { s.Inputs[0].Type = "double" }, `input "features" has type "double"; want "float" or "string"`},
		{"column without field", func(s *model.Spec) { s.Inputs[0].Fields[1].Field = "" }, `input "features" column 1 has no field name`},
		{"negative max_text_bytes", func(s *model.Spec) { s.MaxTextBytes = -1 }, "max_text_bytes is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := validSpec()
			tt.edit(&spec)
			err := spec.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			requireErr(t, err, model.ErrBadSpec, tt.wantErr)
		})
	}
}

func TestParseSpec(t *testing.T) {
	const valid = `{"name": "m", "task": "classification", "labels": ["a", "b"],
		"inputs": [{"name": "features", "fields": [{"field": "x"}, {"field": "y", "default": -1}]}],
		"outputs": {"scores": "probabilities"}}`
	tests := []struct {
		name    string
		json    string
		wantErr string // "" when the JSON is a valid spec
	}{
		{"valid", valid, ""},
		{"valid with trailing whitespace", valid + "\n\t \n", ""},
		{"unknown top-level field", strings.Replace(valid, `"labels"`, `"lables"`, 1), `unknown field "lables"`},
		{"unknown nested field", strings.Replace(valid, `"default"`, `"defualt"`, 1), `unknown field "defualt"`},
		{"not JSON", `name: m`, "invalid character"},
		{"empty", ``, "EOF"},
		{"wrong JSON type", strings.Replace(valid, `["a", "b"]`, `"a,b"`, 1), "labels"},
		{"trailing data", valid + `{"name": "other"}`, "after the spec"},
		{"valid JSON, invalid spec", strings.Replace(valid, `"name": "m"`, `"name": ""`, 1), "name is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := model.ParseSpec([]byte(tt.json))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseSpec: %v", err)
				}
				want := -1.0
				if spec.Name != "m" || len(spec.Inputs[0].Fields) != 2 || *spec.Inputs[0].Fields[1].Default != want {
					t.Fatalf("ParseSpec decoded %+v", spec)
				}
				return
			}
			requireErr(t, err, model.ErrBadSpec, tt.wantErr)
		})
	}
}

func TestSpecMarshalRoundTrip(t *testing.T) {
	spec := validSpec()
	spec.Version = "3"
	zero := 0.0
	spec.Inputs[0].Fields[1].Default = &zero
	spec.AllowNonFinite, spec.MaxTextBytes = true, 512
	text, err := spec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := model.ParseSpec([]byte(text))
	if err != nil {
		t.Fatalf("ParseSpec(Marshal()): %v", err)
	}
	if !reflect.DeepEqual(got, spec) {
		t.Errorf("round trip changed the spec:\n got %+v\nwant %+v", got, spec)
	}
	// A default of zero must survive: it is not the same as no default.
	if got.Inputs[0].Fields[1].Default == nil {
		t.Error("a zero default was dropped")
	}
	if errors.Is(spec.Validate(), model.ErrBadSpec) {
		t.Error("the round-trip spec is invalid")
	}
}
