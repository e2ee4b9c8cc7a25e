package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/model"
)

// fieldError is a record's field that the model cannot read.
type fieldError struct {
	field   string
	problem string
}

// at is the error of a row at path ("rows[3]") with this field.
func (e *fieldError) at(path string) *valueError {
	return invalid(errInvalidRow, path+"."+e.field, "%s.%s: %s", path, e.field, e.problem)
}

func nullOrAbsent(present bool) string {
	if present {
		return "null"
	}
	return "absent"
}

// shapeError is a record whose value on the way to a path cannot take the
// next step ("location is a string, not a record or map").
func shapeError(name string, err error) *fieldError {
	var se *avropath.ShapeError
	msg := err.Error()
	if errors.As(err, &se) {
		msg = se.Reason
	}
	// Numbers of a JSON body are kept as json.Number.
	msg = strings.ReplaceAll(msg, "a value of type json.Number", "a number")
	return &fieldError{name, "cannot be read: " + msg}
}

// read reads the feature's value: present false when it is null or absent.
func (f rowFeature) read(rec map[string]any) (any, bool, *fieldError) {
	v, present, err := f.path.ReadJSON(rec)
	if err != nil {
		return nil, false, shapeError(f.name, err)
	}
	return v, present, nil
}

// notNumber is the 400 of a string (or another non-number) for a feature
// read as numbers; a string's names the categorical option that reads it.
func (f rowFeature) notNumber(v any) *fieldError {
	if _, ok := v.(string); ok {
		return &fieldError{f.name, fmt.Sprintf("is a string, want a number (the feature is read as numbers: list %q in the options' categorical to read it as categories)", f.name)}
	}
	return &fieldError{f.name, fmt.Sprintf("is %s, want a number", jsonKind(v))}
}

// number reads a present value as a number column does: int64, float64
// or a boolean.
func (f rowFeature) number(v any) (any, *fieldError) {
	switch v.(type) {
	case json.Number, bool, int64, float64:
		n, err := numberValue(v)
		if err != nil {
			return nil, &fieldError{f.name, err.Error()}
		}
		return n, nil
	}
	return nil, f.notNumber(v)
}

// category reads a present value as a categorical column does: a string
// as it is, a whole number in decimal, a boolean as "true" or "false".
func (f rowFeature) category(v any) (string, *fieldError) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return strconv.FormatInt(i, 10), nil
		}
		return "", &fieldError{f.name, fmt.Sprintf("is %s, not a category: a category is a string, a whole number or a boolean", x)}
	}
	return "", &fieldError{f.name, fmt.Sprintf("is %s, not a category: a category is a string, a whole number or a boolean", jsonKind(v))}
}

// items reads a present value as an array feature's items, numbers each;
// a longer array than the feature's length is refused, a shorter one is
// returned as it is (the trainer pads it, or skips its row).
func (f rowFeature) items(v any) ([]any, *fieldError) {
	a, ok := v.([]any)
	if !ok {
		return nil, &fieldError{f.name, fmt.Sprintf("is %s, want an array of %d numbers", jsonKind(v), f.length)}
	}
	if len(a) > f.length {
		// The decoder reads no further than one item past the length.
		return nil, &fieldError{f.name, fmt.Sprintf("has more items than its length %d", f.length)}
	}
	out := make([]any, len(a))
	for j, item := range a {
		if item == nil {
			return nil, &fieldError{fmt.Sprintf("%s[%d]", f.name, j), "is null; an array feature's items are numbers"}
		}
		n, ferr := rowFeature{name: fmt.Sprintf("%s[%d]", f.name, j)}.number(item)
		if ferr != nil {
			return nil, ferr
		}
		out[j] = n
	}
	return out, nil
}

// millis reads a present value as a timestamp's Unix milliseconds.
func (f rowFeature) millis(v any) (int64, *fieldError) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, &fieldError{f.name, fmt.Sprintf("is %s, want a timestamp in Unix milliseconds", jsonKind(v))}
	}
	ms, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		return 0, &fieldError{f.name, fmt.Sprintf("is %s, want a timestamp in whole Unix milliseconds", n)}
	}
	return ms, nil
}

// part is a part of a timestamp in UTC, as a time part column reads it;
// the options and specs a schema is built from name only parts TimePart
// knows.
func part(name string, ms int64) float32 {
	v, _ := model.TimePart(time.UnixMilli(ms), name)
	return float32(v)
}

// record checks a record to score (numbers as json.Number) and returns
// what the model reads of it, each feature at its path with numbers as
// int64 or float64, as model.Batch takes them. A record to score needs no
// label, but a null feature without a default, or a null text, cannot be
// scored; a null category is a code of its own.
func (s rowSchema) record(rec map[string]any) (map[string]any, *fieldError) {
	out := make(map[string]any, len(s.paths.keys))
	for _, f := range s.features {
		v, present, ferr := f.read(rec)
		if ferr != nil {
			return nil, ferr
		}
		if !present {
			if f.def == nil && f.kind != fit.CategoryFeature {
				return nil, &fieldError{f.name, fmt.Sprintf("is %s and has no default", f.path.MissingJSON(rec))}
			}
			continue
		}
		var value any
		switch f.kind {
		case fit.CategoryFeature:
			value, ferr = f.category(v)
		case fit.ArrayFeature:
			value, ferr = f.items(v)
		case fit.PartsFeature:
			value, ferr = f.millis(v)
		default:
			value, ferr = f.number(v)
		}
		if ferr != nil {
			return nil, ferr
		}
		if err := f.path.Put(out, value); err != nil {
			return nil, shapeError(f.name, err)
		}
	}
	if s.text != nil {
		text, present, ferr := s.textValue(rec)
		if ferr != nil {
			return nil, ferr
		}
		if !present {
			return nil, &fieldError{s.text.name, fmt.Sprintf("is %s; want a string", s.text.path.MissingJSON(rec))}
		}
		if err := s.text.path.Put(out, text); err != nil {
			return nil, shapeError(s.text.name, err)
		}
	}
	return out, nil
}

// textValue reads a text model's text: a string the model can take, or
// null or absent (present false).
func (s rowSchema) textValue(rec map[string]any) (string, bool, *fieldError) {
	f := s.text
	v, present, ferr := f.read(rec)
	if ferr != nil {
		return "", false, ferr
	}
	if !present {
		return "", false, nil
	}
	x, ok := v.(string)
	if !ok {
		return "", false, &fieldError{f.name, fmt.Sprintf("is %s, want a string", jsonKind(v))}
	}
	if s.textReader == nil {
		return "", false, &fieldError{f.name, "is not a path a model can read"}
	}
	if _, err := s.textReader.Text(rec, model.DefaultMaxTextBytes); err != nil {
		// model's messages read "class: field "f" problem".
		msg := err.Error()
		if _, problem, ok := strings.Cut(msg, fmt.Sprintf("field %q ", f.name)); ok {
			msg = problem
		}
		return "", false, &fieldError{f.name, msg}
	}
	return x, true, nil
}

// rowColumns are one checked training row as a block keeps it: the
// columns, those missing (null or absent: the trainer reads them as the
// default or skips the row), and each categorical feature's value.
type rowColumns struct {
	values  []float32
	missing []int
	cats    []string // by rowFeature.cat; "" with its column missing
}

// columns checks a training row's features and maps them to columns.
func (s rowSchema) columns(rec map[string]any, out *rowColumns) *fieldError {
	out.values, out.missing = out.values[:0], out.missing[:0]
	out.cats = out.cats[:0]
	for _, f := range s.features {
		v, present, ferr := f.read(rec)
		if ferr != nil {
			return ferr
		}
		if f.kind == fit.CategoryFeature {
			out.cats = append(out.cats, "")
		}
		if !present {
			for k := range f.width {
				out.values = append(out.values, 0)
				out.missing = append(out.missing, f.col+k)
			}
			continue
		}
		switch f.kind {
		case fit.CategoryFeature:
			c, ferr := f.category(v)
			if ferr != nil {
				return ferr
			}
			out.cats[f.cat] = c
			out.values = append(out.values, 0) // the block's index, set when kept
		case fit.ArrayFeature:
			items, ferr := f.items(v)
			if ferr != nil {
				return ferr
			}
			for k := range f.length {
				if k >= len(items) {
					// A short array: the items it lacks are missing, NaN
					// where an absent array's are 0, and the row reads
					// back as the short array it was.
					out.values = append(out.values, float32(math.NaN()))
					out.missing = append(out.missing, f.col+k)
					continue
				}
				out.values = append(out.values, float32(toFloat(items[k])))
			}
		case fit.PartsFeature:
			ms, ferr := f.millis(v)
			if ferr != nil {
				return ferr
			}
			for _, p := range f.parts {
				out.values = append(out.values, part(p, ms))
			}
		default:
			n, ferr := f.number(v)
			if ferr != nil {
				return ferr
			}
			out.values = append(out.values, float32(toFloat(n)))
		}
	}
	return nil
}

// toFloat is a number value (as numberValue returns it) as a float64.
func toFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	case bool:
		if x {
			return 1
		}
	}
	return 0
}

// labelValue reads a training row's label: present, not null, a boolean,
// a string or a number (int64 or float64). What it is worth is then the
// trainer's one rule (fit.ClassLabel, fit.TargetValue).
func (s rowSchema) labelValue(rec map[string]any) (any, *fieldError) {
	bad := func(format string, args ...any) (any, *fieldError) {
		return nil, &fieldError{s.label, fmt.Sprintf(format, args...)}
	}
	raw, present, err := s.labelPath.ReadJSON(rec)
	switch {
	case err != nil:
		return nil, shapeError(s.label, err)
	case !present && strings.HasPrefix(s.labelPath.MissingJSON(rec), "absent"):
		return bad("is required (the label)")
	}
	switch x := raw.(type) {
	case nil:
		return bad("is null; every training row needs its label")
	case bool:
		if s.task == model.Regression {
			return bad("is a boolean; a regressor's label must be a number")
		}
		return x, nil
	case string:
		if s.task == model.Regression {
			return bad("is a string, want a number")
		}
		return x, nil
	case json.Number:
		v, err := numberValue(x)
		if err != nil {
			return nil, &fieldError{s.label, err.Error()}
		}
		return v, nil
	}
	if s.task == model.Regression {
		return bad("is %s, want a number", jsonKind(raw))
	}
	return bad("is %s, want a string, a whole number or a boolean", jsonKind(raw))
}

// classLabel reads a classifier's training label by fit.ClassLabel:
// its class name, its kind, and the value the trainer will read back.
func (s rowSchema) classLabel(rec map[string]any) (string, fit.LabelKind, *fieldError) {
	v, ferr := s.labelValue(rec)
	if ferr != nil {
		return "", 0, ferr
	}
	name, kind, err := fit.ClassLabel(v)
	if err != nil {
		return "", 0, &fieldError{s.label, labelProblem(err)}
	}
	return name, kind, nil
}

// target reads a regressor's training label by fit.TargetValue.
func (s rowSchema) target(rec map[string]any) (float64, *fieldError) {
	v, ferr := s.labelValue(rec)
	if ferr != nil {
		return 0, ferr
	}
	t, err := fit.TargetValue(v)
	if err != nil {
		return 0, &fieldError{s.label, labelProblem(err)}
	}
	return t, nil
}

// labelProblem is what the trainer found wrong with a label, as a phrase
// after the field's name.
func labelProblem(err error) string {
	var le *fit.LabelError
	if errors.As(err, &le) {
		return le.Problem
	}
	return err.Error()
}

// numberValue converts a feature's JSON value: integers to int64 (exact),
// other numbers to float64, booleans and null as they are. Anything else,
// or a number a float32 feature column cannot hold, is an error.
func numberValue(raw any) (any, error) {
	switch x := raw.(type) {
	case nil, bool:
		return x, nil
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i, nil
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil || math.Abs(f) > math.MaxFloat32 {
			return nil, fmt.Errorf("is %s, beyond the range of a float32 feature", x)
		}
		return f, nil
	}
	return nil, fmt.Errorf("is %s, want a number", jsonKind(raw))
}

// jsonKind names a decoded JSON value's type for messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64, int64:
		return "a number"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case json.Delim:
		if v == json.Delim('{') {
			return "an object"
		}
		return "an array"
	}
	return fmt.Sprintf("a %T", v)
}
