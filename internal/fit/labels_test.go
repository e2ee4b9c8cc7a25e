package fit_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/fit"
)

// TestClassLabel is the label rule value by value, as goavro decodes Avro
// values and the REST API reads JSON ones.
func TestClassLabel(t *testing.T) {
	tests := []struct {
		name  string
		value any
		class string
		kind  fit.LabelKind
		err   string // in the error, if the label is refused
	}{
		{name: "int", value: 1, class: "1", kind: fit.LabelNumber},
		{name: "Avro int", value: int32(-7), class: "-7", kind: fit.LabelNumber},
		{name: "Avro long past 2^53", value: int64(9007199254740993), class: "9007199254740993", kind: fit.LabelNumber},
		{name: "whole double", value: 1.0, class: "1", kind: fit.LabelNumber},
		{name: "whole float", value: float32(3), class: "3", kind: fit.LabelNumber},
		{name: "negative zero", value: math.Copysign(0, -1), class: "0", kind: fit.LabelNumber},
		{name: "large whole double", value: 1e15, class: "1000000000000000", kind: fit.LabelNumber},
		{name: "numeric string", value: "1", class: "1", kind: fit.LabelString},
		{name: "padded numeric string", value: "01", class: "01", kind: fit.LabelString},
		{name: "true", value: true, class: "true", kind: fit.LabelBoolean},
		{name: "nullable union", value: map[string]any{"long": int64(1)}, class: "1", kind: fit.LabelNumber},
		{name: "fraction", value: 0.5, err: "whole number"},
		{name: "double past 2^53", value: 1e16, err: "2^53"},
		{name: "NaN", value: math.NaN(), err: "whole number"},
		{name: "infinity", value: math.Inf(1), err: "whole number"},
		{name: "null", value: nil, err: "is null"},
		{name: "empty string", value: "", err: "is empty"},
		{name: "bytes", value: []byte("1"), err: "[]uint8"},
		{name: "Avro map", value: map[string]any{"a": 1, "b": 2}, err: "map"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			class, kind, err := fit.ClassLabel(tt.value)
			if tt.err != "" {
				if !errors.Is(err, fit.ErrBadLabel) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ClassLabel(%#v) = %q, %v, %v; want an ErrBadLabel saying %q", tt.value, class, kind, err, tt.err)
				}
				return
			}
			if err != nil || class != tt.class || kind != tt.kind {
				t.Fatalf("ClassLabel(%#v) = %q, %v, %v; want %q, %v", tt.value, class, kind, err, tt.class, tt.kind)
			}
		})
	}
}

// TestTargetValue is a regressor's label rule: numbers only.
func TestTargetValue(t *testing.T) {
	tests := []struct {
		name  string
		value any
		want  float64
		err   string
	}{
		{name: "double keeps its precision", value: 0.1, want: 0.1},
		{name: "long as a feature reads it", value: int64(16777217), want: 16777216},
		{name: "nullable union", value: map[string]any{"double": 2.5}, want: 2.5},
		{name: "boolean", value: true, err: "must be a number"},
		{name: "nullable boolean", value: map[string]any{"boolean": false}, err: "must be a number"},
		{name: "numeric string", value: "1", err: "must be a number"},
		{name: "null", value: nil, err: "is null"},
		{name: "past float32", value: 1e300, err: "non-finite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fit.TargetValue(tt.value)
			if tt.err != "" {
				if !errors.Is(err, fit.ErrBadLabel) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("TargetValue(%#v) = %v, %v; want an ErrBadLabel saying %q", tt.value, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("TargetValue(%#v) = %v, %v; want %v", tt.value, got, err, tt.want)
			}
		})
	}
}
