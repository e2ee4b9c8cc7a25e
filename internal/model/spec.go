package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/streamscore/streamscore/internal/avropath"
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
// [N, Width()] takes one column per feature, or Length consecutive columns
// for a whole array; a string input of shape [N, 1] takes exactly one
// string field.
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

// Width is the number of columns the input takes: one per feature, Length
// for a whole array.
func (in Input) Width() int {
	if in.isText() {
		return 1
	}
	w := 0
	for _, f := range in.Fields {
		w += max(f.Length, 1)
	}
	return w
}

// Feature is one column, or Length columns, of an input: a path into the
// record (avropath: location.lat, attributes.firmware, window[3]) and how
// to read what it reaches.
//
// A number, a boolean (1 or 0), a timestamp or date (its Unix
// milliseconds, or one Part of it) or a time (milliseconds) is one column.
// Default stands in for a null or absent value (a record of an older
// schema); without one such a record is unscorable.
//
// With Categories, the value (a string or enum symbol as it is, an int or
// long in decimal, a boolean as "true" or "false") is one column holding
// its code: i for Categories[i], len(Categories) for any other value
// (CodeOther), len(Categories)+1 for null or absent (CodeNull). Unknown
// says what a value not in the table becomes.
//
// With Length, the value is an array of numbers read into Length
// consecutive columns; a shorter one is padded with Pad, or refused
// (ErrShortArray) when Pad is nil; a longer one is refused.
type Feature struct {
	Field   string   `json:"field"`
	Default *float64 `json:"default,omitempty"`

	Length int      `json:"length,omitempty"`
	Pad    *float64 `json:"pad,omitempty"`

	Categories []string `json:"categories,omitempty"`
	// Unknown is UnknownOther (the default when empty), UnknownCategory
	// or UnknownDeadLetter.
	Unknown         string `json:"unknown,omitempty"`
	UnknownCategory string `json:"unknown_category,omitempty"`

	// Part is HourOfDay or DayOfWeek: the column is that part of a
	// timestamp, in UTC, instead of its Unix milliseconds.
	Part string `json:"part,omitempty"`
}

// What a categorical feature does with a value not in its table
// (Feature.Unknown).
const (
	// UnknownOther gives it the other code, len(Categories): the code
	// training gave rare values. The default.
	UnknownOther = "other"
	// UnknownCategory gives it the code of UnknownCategory.
	UnknownCategory = "category"
	// UnknownDeadLetter refuses the record (ErrUnknownCategory).
	UnknownDeadLetter = "dead_letter"
)

// Parts of a timestamp read as a column, in UTC (Feature.Part).
const (
	// HourOfDay is 0 to 23.
	HourOfDay = "hour_of_day"
	// DayOfWeek is 0 (Monday) to 6 (Sunday).
	DayOfWeek = "day_of_week"
)

// MaxLength is the most columns one array feature takes.
const MaxLength = 4096

// MaxCategories is the most categories a feature has: every code up to
// MaxCategories+1 is exact in a float32 column.
const MaxCategories = 1<<24 - 2

// Categorical reports whether the feature is read as categories.
func (f Feature) Categorical() bool { return f.Categories != nil }

// Codes is the number of codes a categorical feature takes: one per
// category, other and null.
func (f Feature) Codes() int { return len(f.Categories) + 2 }

// CodeOther is the code of a value not in the table.
func (f Feature) CodeOther() int { return len(f.Categories) }

// CodeNull is the code of a null or absent value.
func (f Feature) CodeNull() int { return len(f.Categories) + 1 }

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
			if err := f.validate(in); err != nil {
				return bad("input %q field %q: %s", in.Name, f.Field, err)
			}
		}
	}
	if s.MaxTextBytes < 0 {
		return bad("max_text_bytes is negative")
	}
	return nil
}

// validate checks one feature's options, saying what is wrong without
// naming it; Validate names the input and the feature.
func (f Feature) validate(in Input) error {
	if _, err := avropath.Parse(f.Field); err != nil {
		return err
	}
	if in.isText() {
		switch {
		case f.Length != 0 || f.Pad != nil:
			return errors.New("a string input takes one string, not an array (length, pad)")
		case f.Categorical() || f.Unknown != "" || f.UnknownCategory != "":
			return errors.New("a string input takes the text as it is; categories are read into a float input")
		case f.Part != "":
			return errors.New("a string input takes text, not a part of a timestamp")
		}
		return nil
	}
	if f.Pad != nil && f.Length == 0 {
		return errors.New("pad goes with length")
	}
	if f.Length != 0 {
		if f.Length < 1 || f.Length > MaxLength {
			return fmt.Errorf("length %d is out of 1..%d", f.Length, MaxLength)
		}
		if f.Categorical() || f.Part != "" {
			return errors.New("an array (length) is read as numbers, not categories or time parts")
		}
	}
	switch f.Part {
	case "", HourOfDay, DayOfWeek:
	default:
		return fmt.Errorf("part %q is neither %q nor %q", f.Part, HourOfDay, DayOfWeek)
	}
	if f.Part != "" && f.Categorical() {
		return errors.New("a time part is a number column, not categories")
	}
	if !f.Categorical() {
		if f.Unknown != "" || f.UnknownCategory != "" {
			return errors.New("unknown and unknown_category go with categories")
		}
		return nil
	}
	if len(f.Categories) == 0 {
		return errors.New("categories is empty; a categorical feature needs at least one")
	}
	if len(f.Categories) > MaxCategories {
		return fmt.Errorf("%d categories, over the %d whose codes a float32 holds exactly", len(f.Categories), MaxCategories)
	}
	if f.Default != nil {
		return errors.New("a categorical feature has no default: null and absent have their own code")
	}
	seen := make(map[string]bool, len(f.Categories))
	for _, c := range f.Categories {
		if seen[c] {
			return fmt.Errorf("category %q is listed twice", c)
		}
		seen[c] = true
	}
	switch f.Unknown {
	case "", UnknownOther, UnknownDeadLetter:
		if f.UnknownCategory != "" {
			return fmt.Errorf("unknown_category goes with unknown %q", UnknownCategory)
		}
	case UnknownCategory:
		if !seen[f.UnknownCategory] {
			return fmt.Errorf("unknown_category %q is not one of the categories", f.UnknownCategory)
		}
	default:
		return fmt.Errorf("unknown %q is none of %q, %q, %q", f.Unknown, UnknownOther, UnknownCategory, UnknownDeadLetter)
	}
	return nil
}

// ZeroRecord is a decoded record holding every path the spec reads: zero
// for a number or a time part, an empty string for a text, null for a
// category, an array of zeros for a whole array. A smoke run scores it to
// prove a model runs before any real record arrives. Paths that contradict
// each other (a and a.b) cannot both be set; the record then holds the
// first.
func (s Spec) ZeroRecord() map[string]any {
	rec := map[string]any{}
	for _, in := range s.Inputs {
		for _, f := range in.Fields {
			p, err := avropath.Parse(f.Field)
			if err != nil {
				continue // Validate refuses it
			}
			var v any = 0.0
			switch {
			case in.isText():
				v = ""
			case f.Categorical():
				v = nil
			case f.Length > 0:
				items := make([]any, f.Length)
				for i := range items {
					items[i] = 0.0
				}
				v = items
			}
			if _, present, err := p.Read(rec); err == nil && !present {
				_ = p.Put(rec, v)
			}
		}
	}
	return rec
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
