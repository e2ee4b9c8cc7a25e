package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

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

// TimePart is the part (HourOfDay or DayOfWeek) of t in UTC, as a time
// part column holds it. Every reader of a time part, the scorer's, the
// trainer's and the REST API's, computes it here.
func TimePart(t time.Time, part string) (float64, error) {
	t = t.UTC()
	switch part {
	case HourOfDay:
		return float64(t.Hour()), nil
	case DayOfWeek:
		return float64((int(t.Weekday()) + 6) % 7), nil // Monday 0
	}
	return 0, fmt.Errorf("%w: part %q is neither %q nor %q", ErrBadSpec, part, HourOfDay, DayOfWeek)
}

// TimeOfParts is a time whose TimePart of each of parts is the column
// beside it: a Monday in UTC (5 January 1970) plus the day of the week and
// the hour of the day. It writes rows held as columns back as records (the
// trainer's holdout, the REST API's rows). A value that is no part (a
// default standing in for a null, say) makes the time null, which reads as
// that default again.
func TimeOfParts(parts []string, cols []float32) any {
	hour, day := 0, 0
	for k, p := range parts {
		v := cols[k]
		n := int(v)
		limit := 24
		if p == DayOfWeek {
			limit = 7
		}
		if float32(n) != v || n < 0 || n >= limit {
			return nil
		}
		if p == DayOfWeek {
			day = n
		} else {
			hour = n
		}
	}
	return time.Date(1970, time.January, 5+day, hour, 0, 0, 0, time.UTC)
}

// MaxArrayLength is the most columns one array feature takes.
const MaxArrayLength = 4096

// MaxWidth is the most columns an input takes. A batch holds MaxBatch
// rows of them, so a spec of many long arrays would otherwise ask for
// gigabytes per batch.
const MaxWidth = 1 << 16

// MaxCategories is the most categories a feature has. With the other and
// null codes it is train.MaxCategoryCodes (1<<16), the most codes the
// trainer splits on (a test holds the two together; model does not import
// the trainer's package), and well inside the codes a float32 holds
// exactly. It also bounds the table a Load indexes per feature.
const MaxCategories = 1<<16 - 2

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
		if len(in.Fields) > MaxWidth {
			return bad("input %q has %d fields, over the %d columns an input takes", in.Name, len(in.Fields), MaxWidth)
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
			if _, err := f.validate(in); err != nil {
				return bad("input %q field %q: %s", in.Name, f.Field, err)
			}
		}
		// Each feature's length is bounded, so the sum cannot overflow.
		if w := in.Width(); w > MaxWidth {
			return bad("input %q is %d columns wide, over the %d an input takes", in.Name, w, MaxWidth)
		}
	}
	if s.MaxTextBytes < 0 {
		return bad("max_text_bytes is negative")
	}
	return nil
}

// validate checks one feature's options, saying what is wrong without
// naming it; Validate names the input and the feature. For a categorical
// feature it returns the table indexed, each category to its code, which
// it builds to find a category listed twice: the reader keeps it.
func (f Feature) validate(in Input) (map[string]float32, error) {
	if err := f.check(in); err != nil {
		return nil, err
	}
	if !f.Categorical() {
		return nil, nil
	}
	codes := make(map[string]float32, len(f.Categories))
	for i, c := range f.Categories {
		if _, dup := codes[c]; dup {
			return nil, fmt.Errorf("category %q is listed twice", c)
		}
		// A spec travels as JSON, which would carry invalid UTF-8 as
		// U+FFFD: another category, or a duplicate. The readers refuse
		// such values (ErrWrongType), so no table needs them.
		if !utf8.ValidString(c) {
			return nil, fmt.Errorf("category %s is not valid UTF-8", quoteShort(c))
		}
		codes[c] = float32(i)
	}
	if f.Unknown == UnknownCategory {
		if _, ok := codes[f.UnknownCategory]; !ok {
			return nil, fmt.Errorf("unknown_category %q is not one of the categories", f.UnknownCategory)
		}
	}
	return codes, nil
}

// check checks what validate does but the category table.
func (f Feature) check(in Input) error {
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
		if f.Length < 1 || f.Length > MaxArrayLength {
			return fmt.Errorf("length %d is out of 1..%d", f.Length, MaxArrayLength)
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
		return fmt.Errorf("%d categories, over the %d a feature takes", len(f.Categories), MaxCategories)
	}
	if f.Default != nil {
		return errors.New("a categorical feature has no default: null and absent have their own code")
	}
	switch f.Unknown {
	case "", UnknownOther, UnknownDeadLetter:
		if f.UnknownCategory != "" {
			return fmt.Errorf("unknown_category goes with unknown %q", UnknownCategory)
		}
	case UnknownCategory:
		// validate finds it in the table.
	default:
		return fmt.Errorf("unknown %q is none of %q, %q, %q", f.Unknown, UnknownOther, UnknownCategory, UnknownDeadLetter)
	}
	return nil
}

// maxZeroItems bounds the array items ZeroRecord makes in all, 16 MiB of
// them: each path may index up to avropath.MaxIndex, and a spec has up to
// MaxWidth paths.
const maxZeroItems = 1 << 20

// ZeroRecord is a decoded record holding every path the spec reads: zero
// for a number or a time part, an empty string for a text, null for a
// category, an array of zeros for a whole array. A smoke run scores it to
// prove a model runs before any real record arrives. Paths that contradict
// each other (a and a.b) cannot both be set; the record then holds the
// first. A path whose arrays would take the record past maxZeroItems items
// is left out, so that a hostile spec costs no more than that: the smoke
// run then finds it absent.
func (s Spec) ZeroRecord() map[string]any {
	rec := map[string]any{}
	items := 0
	for _, in := range s.Inputs {
		for _, f := range in.Fields {
			p, err := avropath.Parse(f.Field)
			if err != nil {
				continue // Validate refuses it
			}
			if _, present, err := p.Read(rec); err != nil || present {
				continue
			}
			cost := p.Growth(rec)
			if !in.isText() && f.Length > 0 && !f.Categorical() {
				cost += f.Length
			}
			if cost > maxZeroItems-items {
				continue
			}
			items += cost
			var v any = 0.0
			switch {
			case in.isText():
				v = ""
			case f.Categorical():
				v = nil
			case f.Length > 0:
				zeros := make([]any, f.Length)
				for i := range zeros {
					zeros[i] = 0.0
				}
				v = zeros
			}
			_ = p.Put(rec, v)
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
