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
