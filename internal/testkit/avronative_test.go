package testkit_test

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/streamscore/streamscore/internal/testkit"
)

// TestNativeValuesAreDeterministic makes the same values from the same
// input, so a fuzzer's failing input replays.
func TestNativeValuesAreDeterministic(t *testing.T) {
	for _, data := range [][]byte{nil, {0}, {12, 3, 6, 1, 13, 2, 5, 7}, testkit.Seed(64)} {
		a := testkit.NewNativeValues(data).Record()
		b := testkit.NewNativeValues(data).Record()
		if !reflect.DeepEqual(a, b) {
			t.Errorf("input %v gave %#v, then %#v", data, a, b)
		}
	}
}

// TestNativeValuesCoverEveryShape draws values from every one-byte input
// and a nested one, and finds each Go type goavro decodes to among them,
// with records nested no deeper than the bound.
func TestNativeValuesCoverEveryShape(t *testing.T) {
	seen := map[string]bool{}
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > 6 {
			t.Fatalf("a value nests %d deep", depth)
		}
		seen[fmt.Sprintf("%T", v)] = true
		switch x := v.(type) {
		case map[string]any:
			for _, e := range x {
				walk(e, depth+1)
			}
		case []any:
			for _, e := range x {
				walk(e, depth+1)
			}
		}
	}
	for b := range 256 {
		walk(testkit.NewNativeValues([]byte{byte(b), 3, 12, 2, 1, 5, 14, 3}).Value(), 0)
	}
	deep := make([]byte, 0, 64)
	for range 16 {
		deep = append(deep, 12, 1, 0) // a map of one entry, keyed "a", holding the next
	}
	walk(testkit.NewNativeValues(deep).Value(), 0)
	for _, want := range []string{"<nil>", "float64", "float32", "int32", "int64", "string", "bool", "time.Time", "time.Duration", "[]uint8", "*big.Rat", "[]float64", "map[string]interface {}", "[]interface {}"} {
		if !seen[want] {
			t.Errorf("no value of type %s", want)
		}
	}
}

// TestNativeRecordFields makes a record of the fields asked for, each
// present or absent, and of NativeKeys when none are.
func TestNativeRecordFields(t *testing.T) {
	rec := testkit.NewNativeValues([]byte{1, 1, 7, 0, 1, 3, 9}).Record("x", "y", "z")
	for k := range rec {
		if k != "x" && k != "y" && k != "z" {
			t.Errorf("field %q was not asked for", k)
		}
	}
	if _, ok := rec["y"]; ok {
		t.Error("y is present; the input makes it absent")
	}
	all := testkit.NewNativeValues(bytes.Repeat([]byte{1}, 64)).Record() // each field present, a double
	if len(all) != len(testkit.NativeKeys) {
		t.Errorf("Record() has %d fields; want one per NativeKeys, %d", len(all), len(testkit.NativeKeys))
	}
}
