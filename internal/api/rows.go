package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/trainer"
)

// decodeRecords reads a JSON array of objects (pandas
// to_json(orient="records")), or an object whose one key "records" holds
// one, calling each for every object in order as it is decoded, so a bad
// record stops the read early. path names the array in messages
// ("rows", "records"). Numbers arrive as json.Number.
func decodeRecords(r io.Reader, path string, each func(i int, rec map[string]any) error) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return jsonError("", err)
	}
	wrapped := false
	switch tok {
	case json.Delim('['):
	case json.Delim('{'):
		wrapped = true
		key, err := dec.Token()
		if err != nil {
			return jsonError("", err)
		}
		if key != "records" {
			if key == json.Delim('}') {
				return badRequest("records", "is required")
			}
			return badRequest(fmt.Sprint(key), "unknown field; the body is an array of records or {\"records\": [...]}")
		}
		if tok, err = dec.Token(); err != nil {
			return jsonError("records", err)
		}
		if tok != json.Delim('[') {
			return badRequest("records", "is %s, want an array of objects", jsonKind(tok))
		}
	default:
		return badRequest("", "the body is %s; want an array of records or {\"records\": [...]}", jsonKind(tok))
	}
	for i := 0; dec.More(); i++ {
		at := fmt.Sprintf("%s[%d]", path, i)
		var v any
		if err := dec.Decode(&v); err != nil {
			return jsonError(at, err)
		}
		rec, ok := v.(map[string]any)
		if !ok {
			return badRequest(at, "is %s, want an object", jsonKind(v))
		}
		if err := each(i, rec); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // ']'
		return jsonError(path, err)
	}
	if wrapped {
		tok, err := dec.Token()
		if err != nil {
			return jsonError("", err)
		}
		if tok != json.Delim('}') {
			return badRequest(fmt.Sprint(tok), "unknown field; the body is an array of records or {\"records\": [...]}")
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("", "unexpected data after the JSON value")
	}
	return nil
}

// jsonError describes a decoding error at path. A body over the size limit
// keeps its own error, answered 413.
func jsonError(path string, err error) error {
	var tooLarge *http.MaxBytesError
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &tooLarge):
		return err
	case errors.Is(err, io.EOF) && path == "":
		return badRequest("", "the body is empty")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Status: http.StatusBadRequest, Field: path, Msg: prefix(path, "the JSON ends early"), Err: err}
	case errors.As(err, &syntax):
		return &Error{Status: http.StatusBadRequest, Field: path, Msg: prefix(path, fmt.Sprintf("malformed JSON at byte %d: %s", syntax.Offset, syntax)), Err: err}
	}
	return &Error{Status: http.StatusBadRequest, Field: path, Msg: prefix(path, "malformed JSON: "+err.Error()), Err: err}
}

func prefix(path, msg string) string {
	if path == "" {
		return msg
	}
	return path + ": " + msg
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

// rowSchema is what a model reads from a record: the label, the numeric
// features or the text. It checks uploaded rows and prediction records, and
// keeps only the fields the model reads.
type rowSchema struct {
	label    string
	task     model.Task
	features []model.Feature // numeric columns, with their defaults
	text     *model.Input    // a text model's input
}

// newRowSchema is the schema of training rows under opts.
func newRowSchema(opts trainer.Options) rowSchema {
	s := specSchema(opts.Spec("", nil))
	s.label = opts.Label
	return s
}

// specSchema is the schema of the records a loaded model scores.
func specSchema(spec model.Spec) rowSchema {
	s := rowSchema{task: spec.Task}
	for _, in := range spec.Inputs {
		if in.Type == model.StringInput {
			s.text = &in
			continue
		}
		s.features = append(s.features, in.Fields...)
	}
	return s
}

// fieldError is a record's field that the model cannot read.
type fieldError struct {
	field   string
	problem string
}

func (e *fieldError) at(path string) *Error {
	return badRequest(path+"."+e.field, "%s.%s: %s", path, e.field, e.problem)
}

// row checks a decoded record (numbers as json.Number) and returns the
// fields the model reads, numbers as int64 or float64, as trainer.Fit and
// model.Batch take them.
//
// A training row (training set) needs its label; its features and text may
// be null or absent, since the trainer skips such a row or uses the
// feature's default. A record to score needs no label, and a null feature
// without a default, or a null text, cannot be scored.
func (s rowSchema) row(rec map[string]any, training bool) (map[string]any, *fieldError) {
	out := make(map[string]any, len(s.features)+2)
	if training {
		v, err := s.labelValue(rec)
		if err != nil {
			return nil, err
		}
		out[s.label] = v
	}
	for _, f := range s.features {
		raw, present := rec[f.Field]
		v, err := numberValue(raw)
		if err != nil {
			return nil, &fieldError{f.Field, err.Error()}
		}
		if v == nil && !training && f.Default == nil {
			return nil, &fieldError{f.Field, fmt.Sprintf("is %s and has no default", map[bool]string{true: "null", false: "absent"}[present])}
		}
		if present {
			out[f.Field] = v
		}
	}
	if s.text != nil {
		f := s.text.Fields[0].Field
		raw, present := rec[f]
		switch x := raw.(type) {
		case nil:
			if !training {
				return nil, &fieldError{f, fmt.Sprintf("is %s; want a string", map[bool]string{true: "null", false: "absent"}[present])}
			}
			if present {
				out[f] = nil
			}
		case string:
			if _, err := s.text.Text(rec, model.DefaultMaxTextBytes); err != nil {
				// model's messages read "class: field "f" problem".
				msg := err.Error()
				if _, problem, ok := strings.Cut(msg, fmt.Sprintf("field %q ", f)); ok {
					msg = problem
				}
				return nil, &fieldError{f, msg}
			}
			out[f] = x
		default:
			return nil, &fieldError{f, fmt.Sprintf("is %s, want a string", jsonKind(raw))}
		}
	}
	return out, nil
}

// labelValue checks the label as trainer.Fit will read it: a class is a
// non-empty string, a boolean or a whole number; a regression target is a
// number or a boolean.
func (s rowSchema) labelValue(rec map[string]any) (any, *fieldError) {
	raw, present := rec[s.label]
	if !present {
		return nil, &fieldError{s.label, "is required (the label)"}
	}
	bad := func(format string, args ...any) (any, *fieldError) {
		return nil, &fieldError{s.label, fmt.Sprintf(format, args...)}
	}
	switch x := raw.(type) {
	case nil:
		return bad("is null; every training row needs its label")
	case bool:
		return x, nil
	case string:
		if s.task == model.Regression {
			return bad("is a string, want a number")
		}
		if x == "" {
			return bad("is empty")
		}
		return x, nil
	case json.Number:
		v, err := numberValue(x)
		if err != nil {
			return nil, &fieldError{s.label, err.Error()}
		}
		if f, ok := v.(float64); ok && s.task != model.Regression && f != math.Trunc(f) {
			return bad("is %v; a class label must be a whole number, a string or a boolean", f)
		}
		return v, nil
	}
	if s.task == model.Regression {
		return bad("is %s, want a number", jsonKind(raw))
	}
	return bad("is %s, want a string, a whole number or a boolean", jsonKind(raw))
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
