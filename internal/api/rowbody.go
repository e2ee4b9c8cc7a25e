package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// decodeRecords reads a JSON array of objects (pandas
// to_json(orient="records")), or an object whose one key "records" holds
// one, calling each for every object in order as it is read, so a bad
// record stops the read early. path names the array in messages ("rows",
// "records"). Numbers arrive as json.Number.
//
// paths are the paths the model reads, a trie of their steps (nil reads
// nothing). The body is read as a stream of tokens, never decoded whole:
// only what a path reaches is decoded (see readNode), the rest skipped as
// it is read, so a record of 100,000 fields, or a field of a million
// items a path reads one of, costs what is read of it. A field given twice
// keeps its last value, as a decoded object would.
// rec is reused from one record to the next: each must not keep it.
func decodeRecords(r io.Reader, path string, paths *readNode, each func(i int, rec map[string]any) error) error {
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
		if err := decodeObject(dec, at, paths, rec); err != nil {
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
// what paths reach, decoded; the rest skipped.
func decodeObject(dec *json.Decoder, at string, paths *readNode, rec map[string]any) error {
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
		node := paths.field(key)
		if node == nil {
			if err := dec.Decode(&skipValue{}); err != nil {
				return jsonError(at, err)
			}
			continue
		}
		v := fieldValue{node: node}
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
