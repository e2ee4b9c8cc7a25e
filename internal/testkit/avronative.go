package testkit

import (
	"math/big"
	"time"
)

// NativeValues makes values of the shapes goavro decodes a record to, from
// fuzz input, for fuzzers of code that reads decoded records (avropath's
// Read, model's readers) without a schema: every scalar Go type goavro
// decodes to, records and maps (map[string]any) with keys that look like
// union wrappers' type names and keys that do not, union wrappers, arrays,
// nulls, and a few values no Avro type decodes to. The same input always
// gives the same values; every input gives some, reading zeros past its
// end.
type NativeValues struct {
	data []byte
	i    int
}

// NewNativeValues reads values from data.
func NewNativeValues(data []byte) *NativeValues { return &NativeValues{data: data} }

// nativeMaxDepth bounds the nesting of generated records, maps and arrays.
const nativeMaxDepth = 5

// NativeKeys are the keys NativeValues gives records and maps, and the
// fields Record makes when given none: plain names, a key no path names
// without quotes, the empty key, the type names goavro keys union branches
// by ("double", "map", "io.x.R", ...), and a key no type name is ("°C"),
// whose one-entry map is a map and never a union.
var NativeKeys = []string{"a", "b", "s", "t", "k.j", "", "double", "map", "array", "io.x.R", "long.timestamp-millis", "null", "°C"}

// nativeStrings are the strings it gives: category-like values, the empty
// string, a NUL, invalid UTF-8 and a long text.
var nativeStrings = []string{"x", "1", "true", "", "\x00", "\xff", "long text over sixteen bytes"}

// Byte is the next byte of input, or zero past its end: a fuzzer's other
// choices (a flag, a limit) come from the same input.
func (g *NativeValues) Byte() byte {
	if g.i >= len(g.data) {
		return 0
	}
	b := g.data[g.i]
	g.i++
	return b
}

// Record is a decoded record: each of fields (NativeKeys when none are
// given) either absent or holding a Value.
func (g *NativeValues) Record(fields ...string) map[string]any {
	if len(fields) == 0 {
		fields = NativeKeys
	}
	rec := make(map[string]any, len(fields))
	for _, k := range fields {
		if g.Byte()%5 == 0 {
			continue // absent, as in a record of an older schema
		}
		rec[k] = g.Value()
	}
	return rec
}

// Value is one value of any shape.
func (g *NativeValues) Value() any { return g.value(0) }

func (g *NativeValues) value(depth int) any {
	b := g.Byte()
	if depth >= nativeMaxDepth {
		b %= 12 // scalars only
	}
	switch b % 16 {
	case 0:
		return nil
	case 1:
		return float64(g.Byte()) - 128
	case 2:
		return float32(g.Byte())
	case 3:
		return int32(g.Byte())
	case 4:
		return int64(g.Byte()) << 40
	case 5:
		return nativeStrings[int(g.Byte())%len(nativeStrings)]
	case 6:
		return g.Byte()%2 == 0
	case 7:
		return time.UnixMilli(int64(g.Byte()) * 3_600_000).UTC() // a timestamp or date
	case 8:
		return time.Duration(g.Byte()) * time.Millisecond // a time-millis
	case 9:
		return []byte{g.Byte()} // bytes or fixed
	case 10:
		return big.NewRat(int64(g.Byte()), 3) // a decimal
	case 11:
		return []float64{1} // no Avro type decodes to this
	case 12, 13:
		// A record, a map or a union wrapper: goavro gives all three as
		// map[string]any.
		n := int(g.Byte() % 4)
		m := make(map[string]any, n)
		for range n {
			m[NativeKeys[int(g.Byte())%len(NativeKeys)]] = g.value(depth + 1)
		}
		return m
	default:
		n := int(g.Byte() % 5)
		a := make([]any, n)
		for j := range a {
			a[j] = g.value(depth + 1)
		}
		return a
	}
}
