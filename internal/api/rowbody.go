package api

import (
	"bytes"
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
// one, calling each for every object in order as it is read, so a bad
// record stops the read early. path names the array in messages ("rows",
// "records"). Numbers arrive as json.Number.
//
// keep says how each top-level field is read: skipped, as a scalar, or
// whole (an object or array a feature's path goes into).
//
// The body is read as a stream of tokens, never decoded whole: only the
// fields keep accepts are decoded, the others are skipped as they are
// read, so a record of 100,000 fields costs what its kept fields cost.
// A field given twice keeps its last value, as a decoded object would.
// rec is reused from one record to the next: each must not keep it.
func decodeRecords(r io.Reader, path string, keep func(field string) fieldUse, each func(i int, rec map[string]any) error) error {
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
	rec := map[string]any{}
	for i := 0; dec.More(); i++ {
		at := path + "[" + strconv.Itoa(i) + "]"
		clear(rec)
		if err := decodeObject(dec, at, keep, rec); err != nil {
			return err
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

// decodeObject reads the next value, which must be an object, into rec:
// the fields keep accepts, decoded; the others skipped.
func decodeObject(dec *json.Decoder, at string, keep func(string) fieldUse, rec map[string]any) error {
	tok, err := dec.Token()
	if err != nil {
		return jsonError(at, err)
	}
	if tok != json.Delim('{') {
		return badRequest(at, "is %s, want an object", jsonKind(tok))
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jsonError(at, err)
		}
		key, _ := tok.(string) // the decoder allows nothing else here
		switch keep(key) {
		case skipField:
			if err := dec.Decode(&skipValue{}); err != nil {
				return jsonError(at, err)
			}
			continue
		case wholeField:
			// A path goes into it: objects and arrays are decoded, their
			// numbers as json.Number.
			var v any
			if err := dec.Decode(&v); err != nil {
				return jsonError(at, err)
			}
			rec[key] = v
			continue
		}
		var v scalar
		if err := dec.Decode(&v); err != nil {
			return jsonError(at, err)
		}
		rec[key] = v.value
	}
	if _, err := dec.Token(); err != nil { // '}'
		return jsonError(at, err)
	}
	return nil
}

// scalar is decoded into for a field read as itself: a number (as
// json.Number), a string, a boolean or null. An array or an object is not
// decoded, since no such field takes one and a 32 MiB array of numbers
// would take a gigabyte as []any: it is kept as its opening delimiter,
// which the field's check refuses by name ("is an array").
type scalar struct{ value any }

func (s *scalar) UnmarshalJSON(raw []byte) error {
	if len(raw) > 0 && (raw[0] == '[' || raw[0] == '{') {
		s.value = json.Delim(raw[0])
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(&s.value)
}

// skipValue is decoded into to skip a value: the decoder checks its syntax
// and keeps nothing of it.
type skipValue struct{}

func (skipValue) UnmarshalJSON([]byte) error { return nil }

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

// labelValue reads a training row's label: present, not null, a boolean,
// a string or a number (int64 or float64). What it is worth is then the
// trainer's one rule (trainer.ClassLabel, trainer.TargetValue).
func (s rowSchema) labelValue(rec map[string]any) (any, *fieldError) {
	bad := func(format string, args ...any) (any, *fieldError) {
		return nil, &fieldError{s.label, fmt.Sprintf(format, args...)}
	}
	raw, present, err := s.labelPath.Read(rec)
	switch {
	case err != nil:
		return nil, shapeError(s.label, err)
	case !present && strings.HasPrefix(s.labelPath.Missing(rec), "absent"):
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

// classLabel reads a classifier's training label by trainer.ClassLabel:
// its class name, its kind, and the value the trainer will read back.
func (s rowSchema) classLabel(rec map[string]any) (string, trainer.LabelKind, *fieldError) {
	v, ferr := s.labelValue(rec)
	if ferr != nil {
		return "", 0, ferr
	}
	name, kind, err := trainer.ClassLabel(v)
	if err != nil {
		return "", 0, &fieldError{s.label, labelProblem(err)}
	}
	return name, kind, nil
}

// target reads a regressor's training label by trainer.TargetValue.
func (s rowSchema) target(rec map[string]any) (float64, *fieldError) {
	v, ferr := s.labelValue(rec)
	if ferr != nil {
		return 0, ferr
	}
	t, err := trainer.TargetValue(v)
	if err != nil {
		return 0, &fieldError{s.label, labelProblem(err)}
	}
	return t, nil
}

// labelProblem is what the trainer found wrong with a label, as a phrase
// after the field's name.
func labelProblem(err error) string {
	var le *trainer.LabelError
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
