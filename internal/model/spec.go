package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// SpecMetadataKey is the ONNX metadata_props key under which a model carries
// its Spec as JSON. Models trained by streamscore always carry one; a model
// trained elsewhere gets its Spec from a side file instead.
const SpecMetadataKey = "streamscore.spec"

// Task says what a model predicts.
type Task string

const (
	Classification Task = "classification"
	Regression     Task = "regression"
)

// Spec is the contract between a model and the records it scores: which
// Avro fields feed which ONNX input, in which column order, and how to read
// the model's outputs. The scorer and the trainer both map features through
// it, so training and serving cannot drift apart.
type Spec struct {
	Name    string   `json:"name"`
	Version string   `json:"version,omitempty"`
	Task    Task     `json:"task"`
	Labels  []string `json:"labels,omitempty"` // class names, in the order of the score columns
	Inputs  []Input  `json:"inputs"`
	Outputs Outputs  `json:"outputs"`

	// AllowNonFinite lets NaN and ±Inf through to the model. Off by default:
	// most models were never trained on them and score them silently wrong.
	AllowNonFinite bool `json:"allow_non_finite,omitempty"`
	// MaxTextBytes bounds a text feature; longer values are refused as
	// oversize rather than fed to a tokenizer. Zero means DefaultMaxTextBytes.
	MaxTextBytes int `json:"max_text_bytes,omitempty"`
}

// DefaultMaxTextBytes is the text feature limit when a Spec sets none.
const DefaultMaxTextBytes = 64 << 10

// Input maps Avro fields onto one ONNX input tensor. A float input of shape
// [N, len(Fields)] takes one numeric field per column; a string input of
// shape [N, 1] takes exactly one string field.
type Input struct {
	Name string `json:"name"`
	// Type is the tensor's element type: "float" (the default) or "string".
	Type   InputType `json:"type,omitempty"`
	Fields []Feature `json:"fields"`
}

// InputType is the element type of an input tensor.
type InputType string

const (
	FloatInput  InputType = "float"
	StringInput InputType = "string"
)

func (in Input) isText() bool { return in.Type == StringInput }

// Feature is one column: an Avro field, and what to use when the field is
// null or absent from the record's schema (an older schema version).
// Without a Default such a record is unscorable.
type Feature struct {
	Field   string   `json:"field"`
	Default *float64 `json:"default,omitempty"`
}

// Outputs names the ONNX outputs to read. Scores is a float tensor [N, C]
// (classification) and Value a float tensor [N] or [N, 1] (regression);
// Label, an int64 or string tensor [N], is read only when a classifier has no
// Scores output. Margin, optional, is a classifier's raw scores, from which
// its Scores come: float [N, 1], the logit of the positive (last) class, or
// [N, C], one score per class. Those who rank rare events rank on it, as a
// probability saturates at 1 where the margin keeps growing.
type Outputs struct {
	Scores string `json:"scores,omitempty"`
	Label  string `json:"label,omitempty"`
	Value  string `json:"value,omitempty"`
	Margin string `json:"margin,omitempty"`
}

// ErrBadSpec marks a Spec that cannot describe a servable model.
var ErrBadSpec = errors.New("invalid model spec")

// ParseSpec decodes a Spec from JSON, rejecting unknown fields so a typo in a
// hand-written mapping is an error and not a silently ignored option.
func ParseSpec(data []byte) (Spec, error) {
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Spec{}, fmt.Errorf("%w: %w", ErrBadSpec, err)
	}
	// Decode stops after one value; a second one (two specs pasted into
	// one file) would otherwise be ignored without a word.
	if _, err := dec.Token(); err != io.EOF {
		return Spec{}, fmt.Errorf("%w: unexpected data after the spec", ErrBadSpec)
	}
	return s, s.Validate()
}

// Validate checks the Spec on its own; Load checks it against the ONNX graph.
func (s Spec) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadSpec, fmt.Sprintf(format, args...))
	}
	if s.Name == "" {
		return bad("name is empty")
	}
	switch s.Task {
	case Classification:
		if s.Outputs.Scores == "" && s.Outputs.Label == "" {
			return bad("a classifier needs outputs.scores or outputs.label")
		}
		if s.Outputs.Scores != "" && len(s.Labels) < 2 {
			return bad("a classifier with scores needs at least two labels, got %d", len(s.Labels))
		}
		if s.Outputs.Margin != "" && s.Outputs.Scores == "" {
			return bad("outputs.margin is read beside outputs.scores, which is empty")
		}
	case Regression:
		if s.Outputs.Value == "" {
			return bad("a regressor needs outputs.value")
		}
		if s.Outputs.Margin != "" {
			return bad("outputs.margin is a classifier's; a regressor's value is its margin")
		}
	default:
		return bad("task %q is neither %q nor %q", s.Task, Classification, Regression)
	}
	if len(s.Inputs) == 0 {
		return bad("no inputs")
	}
	seen := map[string]bool{}
	for _, in := range s.Inputs {
		if in.Name == "" {
			return bad("an input has no name")
		}
		if seen[in.Name] {
			return bad("input %q is mapped twice", in.Name)
		}
		seen[in.Name] = true
		if len(in.Fields) == 0 {
			return bad("input %q has no fields", in.Name)
		}
		switch in.Type {
		case "", FloatInput:
		case StringInput:
			if len(in.Fields) != 1 {
				return bad("string input %q takes exactly one field, got %d", in.Name, len(in.Fields))
			}
			if in.Fields[0].Default != nil {
				// A default is a number; a text field has no numeric stand-in.
				return bad("string input %q: field %q cannot have a numeric default", in.Name, in.Fields[0].Field)
			}
		default:
			return bad("input %q has type %q; want %q or %q", in.Name, in.Type, FloatInput, StringInput)
		}
		for i, f := range in.Fields {
			if f.Field == "" {
				return bad("input %q column %d has no field name", in.Name, i)
			}
		}
	}
	if s.MaxTextBytes < 0 {
		return bad("max_text_bytes is negative")
	}
	return nil
}

// MaxText is the text feature limit in bytes: MaxTextBytes, or its default.
func (s Spec) MaxText() int {
	if s.MaxTextBytes == 0 {
		return DefaultMaxTextBytes
	}
	return s.MaxTextBytes
}

// Marshal encodes the Spec for the model's metadata.
func (s Spec) Marshal() (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("encode model spec: %w", err)
	}
	return string(b), nil
}
