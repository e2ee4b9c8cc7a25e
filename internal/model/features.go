package model

import (
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Classes of per-record feature errors. The scorer dead-letters a record
// that fails with one of them, naming the class; none of them is a reason to
// stop the stream.
var (
	ErrMissingFeature = errors.New("missing feature")
	ErrWrongType      = errors.New("wrong feature type")
	ErrNonFinite      = errors.New("non-finite feature")
	ErrOversize       = errors.New("oversize feature")
	// ErrUnknownCategory is a value not in a categorical feature's table,
	// for a feature whose unknown policy is dead_letter.
	ErrUnknownCategory = errors.New("unknown category")
	// ErrShortArray is an array shorter than its feature's length, for a
	// feature without a pad.
	ErrShortArray = errors.New("short array")
)

// ErrSchemaMismatch means a model cannot score records of a given schema.
var ErrSchemaMismatch = errors.New("model does not fit the record schema")

// plainNumber reads what a number column takes, as goavro decodes it: a
// number, a boolean (1 or 0), a timestamp or date (Unix milliseconds) or a
// time (milliseconds). It fails without an error, for the reader's fast
// path.
func plainNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case time.Time:
		return float64(x.UnixMilli()), true
	case time.Duration:
		// goavro decodes time-millis and time-micros to a Duration; like a
		// timestamp, it becomes milliseconds.
		return float64(x) / float64(time.Millisecond), true
	}
	return 0, false
}

// numericValue reads the value a path reached, its union wrapper already
// removed by avropath (the one rule of what a wrapper is), as a float64:
// present false for null, ErrWrongType for what is not a number.
func numericValue(v any) (float64, bool, error) {
	if f, ok := plainNumber(v); ok {
		return f, true, nil
	}
	if v == nil {
		return 0, false, nil
	}
	return 0, false, fmt.Errorf("%w: an Avro %s is not a number", ErrWrongType, avroKind(v))
}

// textValue reads the string a path reached, its union wrapper already
// removed by avropath.
func textValue(v any) (string, bool, error) {
	switch x := v.(type) {
	case nil:
		return "", false, nil
	case string:
		return x, true, nil
	}
	return "", false, fmt.Errorf("%w: an Avro %s is not text", ErrWrongType, avroKind(v))
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
