package model

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"
)

// Classes of per-record feature errors. The scorer dead-letters a record
// that fails with one of them, naming the class; none of them is a reason to
// stop the stream.
var (
	ErrMissingFeature = errors.New("missing feature")
	ErrWrongType      = errors.New("wrong feature type")
	ErrNonFinite      = errors.New("non-finite feature")
	ErrOversize       = errors.New("oversize feature")
)

// Field describes one top-level field of a record schema, enough to check a
// Spec against it before any record arrives.
type Field struct {
	Name string
	// Type is the Avro type of the value: a primitive ("double", "long",
	// "string", ...) or, for a nullable field, the non-null branch.
	Type string
	// Logical is the Avro logical type, such as "timestamp-millis".
	Logical  string
	Nullable bool
}

// numericTypes are the Avro types a float column accepts.
var numericTypes = map[string]bool{"int": true, "long": true, "float": true, "double": true, "boolean": true}

// CheckFields reports, all at once, every way in which records of a schema
// with these fields could never be scored by this Spec: a mapped field that
// is missing and has no default, or that has a type the column cannot take.
// Nullable fields without a default are allowed: a null is refused per
// record.
func (s Spec) CheckFields(fields []Field) error {
	byName := make(map[string]Field, len(fields))
	for _, f := range fields {
		byName[f.Name] = f
	}
	var problems []string
	for _, in := range s.Inputs {
		for _, col := range in.Fields {
			f, ok := byName[col.Field]
			switch {
			case !ok && col.Default != nil: // read as the default
			case !ok:
				problems = append(problems, fmt.Sprintf("input %q needs field %q, which the schema lacks", in.Name, col.Field))
			case in.isText() && f.Type != "string":
				problems = append(problems, fmt.Sprintf("input %q takes text but field %q is %s", in.Name, col.Field, f.Type))
			case !in.isText() && !numericTypes[f.Type]:
				problems = append(problems, fmt.Sprintf("input %q takes numbers but field %q is %s", in.Name, col.Field, f.Type))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrSchemaMismatch, strings.Join(problems, "; "))
	}
	return nil
}

// ErrSchemaMismatch means a model cannot score records of a given schema.
var ErrSchemaMismatch = errors.New("model does not fit the record schema")

// numericValue reads an Avro value as decoded by goavro (a union arrives as a
// one-entry map keyed by its branch) as a float64.
func numericValue(v any) (float64, bool, error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case float64:
		return x, true, nil
	case float32:
		return float64(x), true, nil
	case int32:
		return float64(x), true, nil
	case int64:
		return float64(x), true, nil
	case int:
		return float64(x), true, nil
	case bool:
		if x {
			return 1, true, nil
		}
		return 0, true, nil
	case time.Time:
		return float64(x.UnixMilli()), true, nil
	case time.Duration:
		// goavro decodes time-millis and time-micros to a Duration; like a
		// timestamp, it becomes milliseconds.
		return float64(x) / float64(time.Millisecond), true, nil
	case map[string]any:
		if inner, ok := unionBranch(x); ok {
			return numericValue(inner)
		}
		return 0, false, fmt.Errorf("%w: an Avro record or map is not a number", ErrWrongType)
	default:
		return 0, false, fmt.Errorf("%w: an Avro %s is not a number", ErrWrongType, avroKind(v))
	}
}

// textValue reads an Avro string, plain or as a nullable union branch.
func textValue(v any) (string, bool, error) {
	switch x := v.(type) {
	case nil:
		return "", false, nil
	case string:
		return x, true, nil
	case map[string]any:
		if inner, ok := unionBranch(x); ok {
			return textValue(inner)
		}
		return "", false, fmt.Errorf("%w: an Avro record or map is not text", ErrWrongType)
	default:
		return "", false, fmt.Errorf("%w: an Avro %s is not text", ErrWrongType, avroKind(v))
	}
}

// avroKind names the Avro type goavro decoded v from, for reasons that a
// producer reads: "bytes", not "[]uint8".
func avroKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case int32:
		return "int"
	case int64:
		return "long"
	case float32:
		return "float"
	case float64:
		return "double"
	case string:
		return "string or enum"
	case []byte:
		return "bytes or fixed"
	case []any:
		return "array"
	case map[string]any:
		return "record or map"
	case *big.Rat:
		return "decimal"
	case time.Time:
		return "timestamp or date"
	case time.Duration:
		return "time"
	default:
		return fmt.Sprintf("value of unknown type %T", v)
	}
}

// unionBranch returns the value of a non-null union branch, which goavro
// decodes as a map of the branch's type name to its value. A map of any
// other size is an Avro map field, not a union.
func unionBranch(m map[string]any) (any, bool) {
	if len(m) != 1 {
		return nil, false
	}
	for _, v := range m {
		return v, true
	}
	return nil, false
}

// AppendNumbers appends one row of a float input's columns to dst. On error
// dst is returned unchanged, so a bad record never leaves half a row behind.
// The scorer's batches and the trainer's data sets both map records through
// it, so a model is trained on exactly the features it is served.
func (in Input) AppendNumbers(dst []float32, rec map[string]any, allowNonFinite bool) ([]float32, error) {
	start := len(dst)
	for _, col := range in.Fields {
		// A field the record's schema lacks reads like a null: records
		// written before a nullable field was added still score with the
		// column's default.
		raw := rec[col.Field]
		v, ok, err := numericValue(raw)
		if err != nil {
			return dst[:start], fmt.Errorf("field %q: %w", col.Field, err)
		}
		if !ok {
			if col.Default == nil {
				return dst[:start], fmt.Errorf("%w: field %q is %s and has no default", ErrMissingFeature, col.Field, nullOrAbsent(rec, col.Field))
			}
			v = *col.Default
		}
		f := float32(v)
		if !allowNonFinite && (math.IsNaN(float64(f)) || math.IsInf(float64(f), 0)) {
			return dst[:start], fmt.Errorf("%w: field %q is %v as float32", ErrNonFinite, col.Field, v)
		}
		dst = append(dst, f)
	}
	return dst, nil
}

func nullOrAbsent(rec map[string]any, field string) string {
	if _, present := rec[field]; present {
		return "null"
	}
	return "absent"
}

// Text reads a text input's single string column from a record, refusing
// what a model's string input cannot take. Like AppendNumbers, the scorer's
// batches and the trainer's data sets both read texts through it.
func (in Input) Text(rec map[string]any, maxBytes int) (string, error) {
	col := in.Fields[0]
	raw, present := rec[col.Field]
	if !present {
		return "", fmt.Errorf("%w: field %q is absent", ErrMissingFeature, col.Field)
	}
	s, ok, err := textValue(raw)
	if err != nil {
		return "", fmt.Errorf("field %q: %w", col.Field, err)
	}
	if !ok {
		return "", fmt.Errorf("%w: field %q is null", ErrMissingFeature, col.Field)
	}
	if len(s) > maxBytes {
		return "", fmt.Errorf("%w: field %q is %d bytes, over the %d-byte limit", ErrOversize, col.Field, len(s), maxBytes)
	}
	// ONNX Runtime takes strings as C strings: invalid UTF-8 fails the
	// whole batch, and a NUL byte silently cuts the text short.
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: field %q is not valid UTF-8", ErrWrongType, col.Field)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "", fmt.Errorf("%w: field %q holds a NUL byte, which a model's string input cannot carry", ErrWrongType, col.Field)
	}
	return s, nil
}
