package avropath_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"

	"github.com/streamscore/streamscore/internal/avroguard"
	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/schemas"
)

// projSchema has a field of every kind a projection reads or skips: the
// skipped ones (bytes, fixed, logical types, maps and arrays of records, a
// record of constant size) both before and after the read ones; nested and
// nullable records, with null first and last; enums; a multi-branch union
// of scalars and one of every kind of branch; maps and arrays of numbers,
// nullable or not, nested; and a recursive record.
const projSchema = `{
  "type": "record", "name": "Reading", "namespace": "io.proj",
  "fields": [
    {"name": "blob", "type": "bytes"},
    {"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 4}},
    {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "day", "type": {"type": "int", "logicalType": "date"}},
    {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
    {"name": "flag", "type": "boolean"},
    {"name": "coords", "type": {"type": "array", "items": {"type": "record", "name": "Coord", "fields": [
      {"name": "x", "type": "double"}, {"name": "y", "type": "float"}, {"name": "h", "type": "Hash"}]}}},
    {"name": "places", "type": {"type": "map", "values": {"type": "record", "name": "Place", "fields": [
      {"name": "depth", "type": "double"}, {"name": "label", "type": "string"}]}}},
    {"name": "points", "type": {"type": "array", "items": {"type": "record", "name": "Point", "fields": [
      {"name": "x", "type": "float"}, {"name": "on", "type": "boolean"}]}}},
    {"name": "temperature", "type": "double"},
    {"name": "count", "type": "int"},
    {"name": "total", "type": "long"},
    {"name": "ratio", "type": "float"},
    {"name": "ok", "type": "boolean"},
    {"name": "name", "type": "string"},
    {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["OK", "WARN", "FAIL"]}},
    {"name": "prev", "type": ["null", "Status"]},
    {"name": "location", "type": {"type": "record", "name": "Location", "fields": [
      {"name": "lat", "type": "double"},
      {"name": "floor", "type": ["null", "int"]},
      {"name": "zone", "type": ["string", "null"]},
      {"name": "inner", "type": ["null", {"type": "record", "name": "Inner", "fields": [
        {"name": "depth", "type": ["null", "double"]},
        {"name": "tag", "type": "string"}]}]}]}},
    {"name": "home", "type": ["null", "Location"]},
    {"name": "work", "type": ["Location", "null"]},
    {"name": "mixed", "type": ["null", "int", "string"]},
    {"name": "wide", "type": ["null", "boolean", "long", "double", "float", "string", "Status", "Hash", "Place",
      {"type": "int", "logicalType": "date"},
      {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2},
      {"type": "map", "values": "int"},
      {"type": "array", "items": "double"}]},
    {"name": "attributes", "type": {"type": "map", "values": "string"}},
    {"name": "gauges", "type": {"type": "map", "values": ["null", "double"]}},
    {"name": "limits", "type": ["null", {"type": "map", "values": "long"}]},
    {"name": "window", "type": {"type": "array", "items": "double"}},
    {"name": "counts", "type": ["null", {"type": "array", "items": "int"}]},
    {"name": "flags", "type": {"type": "array", "items": "boolean"}},
    {"name": "floats", "type": {"type": "array", "items": "float"}},
    {"name": "longs", "type": {"type": "array", "items": "long"}},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "stamps", "type": {"type": "array", "items": {"type": "long", "logicalType": "timestamp-millis"}}},
    {"name": "maybe", "type": {"type": "array", "items": ["null", "double"]}},
    {"name": "grid", "type": {"type": "array", "items": {"type": "array", "items": "double"}}},
    {"name": "series", "type": {"type": "map", "values": {"type": "array", "items": "double"}}},
    {"name": "track", "type": {"type": "array", "items": "Coord"}},
    {"name": "legs", "type": {"type": "array", "items": "Point"}},
    {"name": "stops", "type": {"type": "array", "items": {"type": "map", "values": "double"}}},
    {"name": "chain", "type": ["null", {"type": "record", "name": "Link", "fields": [
      {"name": "v", "type": "long"}, {"name": "next", "type": ["null", "Link"]}]}]},
    {"name": "tail_blob", "type": "bytes"},
    {"name": "tail_hash", "type": "Hash"},
    {"name": "tail_places", "type": {"type": "map", "values": "Place"}},
    {"name": "tail_points", "type": {"type": "array", "items": "Point"}},
    {"name": "tail_ts", "type": {"type": "long", "logicalType": "timestamp-micros"}},
    {"name": "tail_day", "type": {"type": "int", "logicalType": "date"}},
    {"name": "tail_time", "type": {"type": "int", "logicalType": "time-millis"}},
    {"name": "tail_price", "type": {"type": "fixed", "name": "Price", "size": 8, "logicalType": "decimal", "precision": 18, "scale": 2}},
    {"name": "tail_flag", "type": "boolean"},
    {"name": "tail_status", "type": "Status"},
    {"name": "tail_choice", "type": ["null", "string", "Place"]}
  ]
}`

// projColumns are the columns read from projSchema's bodies: every kind of
// leaf, a path twice, and a whole array beside an index into it.
var projColumns = columns(
	"temperature", "temperature", "count", "total", "ratio", "ok", "name", "status", "prev",
	"location.lat", "location.floor", "location.zone", "location.inner.depth", "location.inner.tag",
	"home.lat", "home.floor", "home.zone", "home.inner.depth", "home.inner.tag",
	"work.lat", "work.zone",
	"mixed", "wide",
	"attributes.zone", `attributes["fw.version"]`, "attributes.missing",
	"gauges.g", "gauges.h", "limits.max",
	"window[0]", "window[2]", "window[]", "window[]",
	"counts[]", "counts[1]",
	"flags[]", "floats[]", "longs[]", "longs[0]",
	"maybe[0]", "maybe[1]",
	"grid[1][]", "grid[0][1]",
	"series.s[]", "series.s[0]",
	"track[0].x", "track[1].y", "track[2].x", "legs[1].on", "legs[0].x", "stops[0].k", "stops[1].k",
	"chain.v", "chain.next.v", "chain.next.next.v",
)

// columns builds columns from paths; a trailing "[]" reads the whole array.
func columns(paths ...string) []avropath.Column {
	cols := make([]avropath.Column, len(paths))
	for i, p := range paths {
		whole := strings.HasSuffix(p, "[]")
		cols[i] = avropath.Column{Path: avropath.MustParse(strings.TrimSuffix(p, "[]")), Array: whole}
	}
	return cols
}

func colName(c avropath.Column) string {
	if c.Array {
		return c.Path.String() + "[]"
	}
	return c.Path.String()
}

// projRecord is a projSchema record in goavro's native form with every
// nullable value present.
func projRecord() map[string]any {
	u := goavro.Union
	loc := func(lat float64, zone any, inner any) map[string]any {
		return map[string]any{"lat": lat, "floor": u("int", int32(2)), "zone": zone, "inner": inner}
	}
	return map[string]any{
		"blob":   []byte{1, 2, 3},
		"hash":   []byte("hash"),
		"ts":     time.UnixMilli(1_700_000_000_000).UTC(),
		"day":    time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		"amount": big.NewRat(12345, 100),
		"flag":   true,
		"coords": []any{
			map[string]any{"x": 1.0, "y": float32(2), "h": []byte("abcd")},
			map[string]any{"x": 3.0, "y": float32(4), "h": []byte("efgh")},
		},
		"places":      map[string]any{"dock": map[string]any{"depth": 4.5, "label": "d"}, "pier": map[string]any{"depth": 1.5, "label": "p"}},
		"points":      []any{map[string]any{"x": float32(1.5), "on": true}},
		"temperature": 21.5,
		"count":       int32(-7),
		"total":       int64(1) << 40,
		"ratio":       float32(0.1),
		"ok":          true,
		"name":        "sensor-α",
		"status":      "WARN",
		"prev":        u("io.proj.Status", "FAIL"),
		"location":    loc(52.5, u("string", "A"), u("io.proj.Inner", map[string]any{"depth": u("double", 3.5), "tag": "t"})),
		"home":        u("io.proj.Location", loc(48.25, u("string", "H"), u("io.proj.Inner", map[string]any{"depth": u("double", 7.5), "tag": "h"}))),
		"work":        u("io.proj.Location", loc(40.75, u("string", "W"), nil)),
		"mixed":       u("int", int32(5)),
		"wide":        u("double", 2.25),
		"attributes":  map[string]any{"zone": "A", "fw.version": "1.2", "owner": "ops"},
		"gauges":      map[string]any{"g": u("double", 9.5), "h": nil},
		"limits":      u("map", map[string]any{"max": int64(100), "min": int64(-100)}),
		"window":      []any{0.5, 0.25, 0.125},
		"counts":      u("array", []any{int32(1), int32(2), int32(3)}),
		"flags":       []any{true, false, true},
		"floats":      []any{float32(1.5), float32(-0.1)},
		"longs":       []any{int64(1) << 60, int64(-3)},
		"tags":        []any{"a", "b"},
		"stamps":      []any{time.UnixMilli(5).UTC()},
		"maybe":       []any{u("double", 1.5), nil},
		"grid":        []any{[]any{1.0, 2.0}, []any{3.0, 4.0, 5.0}},
		"series":      map[string]any{"s": []any{7.5, 8.5}, "t": []any{}},
		"track": []any{
			map[string]any{"x": 10.0, "y": float32(11), "h": []byte("trk0")},
			map[string]any{"x": 12.0, "y": float32(13), "h": []byte("trk1")},
		},
		"legs":        []any{map[string]any{"x": float32(0.5), "on": false}, map[string]any{"x": float32(1), "on": true}},
		"stops":       []any{map[string]any{"k": 1.0, "j": 2.0}, map[string]any{"j": 3.0}},
		"chain":       u("io.proj.Link", map[string]any{"v": int64(1), "next": u("io.proj.Link", map[string]any{"v": int64(2), "next": nil})}),
		"tail_blob":   []byte("tail"),
		"tail_hash":   []byte("tail"),
		"tail_places": map[string]any{"x": map[string]any{"depth": 1.0, "label": "x"}},
		"tail_points": []any{map[string]any{"x": float32(2), "on": false}},
		"tail_ts":     time.UnixMicro(1_700_000_000_000_001).UTC(),
		"tail_day":    time.Date(2001, 9, 9, 0, 0, 0, 0, time.UTC),
		"tail_time":   90 * time.Second,
		"tail_price":  big.NewRat(1, 4),
		"tail_flag":   false,
		"tail_status": "FAIL",
		"tail_choice": u("io.proj.Place", map[string]any{"depth": 2.0, "label": "c"}),
	}
}

// with is projRecord with some top-level fields replaced.
func with(changes map[string]any) map[string]any {
	rec := projRecord()
	for k, v := range changes {
		rec[k] = v
	}
	return rec
}

// fixture is a schema as the scorer holds it: goavro's codec, the guard,
// and the paths' schema.
type fixture struct {
	codec  *goavro.Codec
	guard  *avroguard.Schema
	schema *avropath.Schema
}

func newFixture(t testing.TB, text string) *fixture {
	t.Helper()
	codec, err := goavro.NewCodec(text)
	if err != nil {
		t.Fatalf("goavro: %v", err)
	}
	guard, err := avroguard.Compile(text)
	if err != nil {
		t.Fatalf("avroguard: %v", err)
	}
	schema, err := avropath.ParseSchema(text)
	if err != nil {
		t.Fatalf("ParseSchema: %v", err)
	}
	return &fixture{codec: codec, guard: guard, schema: schema}
}

func (f *fixture) project(t testing.TB, cols []avropath.Column) *avropath.Projection {
	t.Helper()
	p, err := f.schema.Project(cols)
	if err != nil {
		t.Fatalf("Project: %v", err)
	}
	if p.Columns() != len(cols) {
		t.Fatalf("Columns() = %d; want %d", p.Columns(), len(cols))
	}
	return p
}

func (f *fixture) encode(t testing.TB, rec map[string]any) []byte {
	t.Helper()
	body, err := f.codec.BinaryFromNative(nil, rec)
	if err != nil {
		t.Fatalf("BinaryFromNative: %v", err)
	}
	return body
}

// decode is goavro's decoding of a whole body: trailing bytes are an error.
func (f *fixture) decode(body []byte) (map[string]any, error) {
	native, rest, err := f.codec.NativeFromBinary(body)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%d trailing bytes", len(rest))
	}
	return native.(map[string]any), nil
}

// disagreements reads body with p and with goavro, and lists every way
// they break Projection's contract: Read succeeds where goavro fails, or
// fails where goavro decodes, or reads a value other than what Path.Read
// finds in goavro's record.
func (f *fixture) disagreements(p *avropath.Projection, cols []avropath.Column, body []byte) []string {
	vals := make([]avropath.Value, len(cols))
	nums, err := p.Read(body, vals, nil)
	rec, gerr := f.decode(body)
	switch {
	case err == nil && gerr != nil:
		return []string{fmt.Sprintf("Read succeeds on a body goavro refuses: %v", gerr)}
	case err != nil && gerr == nil:
		return []string{fmt.Sprintf("Read fails on a body goavro decodes: %v", err)}
	case err != nil:
		return nil
	}
	var out []string
	for i, c := range cols {
		want, present, err := c.Path.Read(rec)
		if err != nil {
			out = append(out, fmt.Sprintf("%s: Path.Read: %v", colName(c), err))
			continue
		}
		leaf, _ := f.schema.Resolve(c.Path) // a column on a field the schema lacks reads Absent
		millis := leaf.Logical == "timestamp-millis"
		if m := mismatch(c, millis, vals[i], nums, want, present); m != "" {
			out = append(out, colName(c)+": "+m)
		}
	}
	return out
}

// agrees holds body to what the test built: the guard passes it, goavro
// decodes it to a record whose paths read what want says, and the
// projection reads each column as goavro's record does.
func (f *fixture) agrees(t *testing.T, p *avropath.Projection, cols []avropath.Column, body []byte, want map[string]any) {
	t.Helper()
	if _, err := f.guard.Check(body, avroguard.Limits{}); err != nil {
		t.Fatalf("the guard refuses the body: %v", err)
	}
	rec, err := f.decode(body)
	if err != nil {
		t.Fatalf("goavro: %v", err)
	}
	expect(t, rec, want)
	for _, d := range f.disagreements(p, cols, body) {
		t.Error(d)
	}
}

// mismatch says how v, what the projection read for col, differs from
// what Path.Read found in goavro's record, or "" if it is what the contract
// says: Absent for nothing, the same number, boolean or text, the numbers
// of a whole array, and Unread exactly where a Value cannot carry what
// goavro decoded.
func mismatch(col avropath.Column, millis bool, v avropath.Value, nums []float64, want any, present bool) string {
	got := describe(v, nums)
	if !present {
		if v.Kind == avropath.Absent {
			return ""
		}
		return fmt.Sprintf("read %s; Path.Read finds nothing", got)
	}
	ok := false
	if col.Array {
		items, isArray := want.([]any)
		fs, numeric := numbers(items)
		switch {
		case isArray && len(items) == 0 && v.Kind == avropath.Unread:
			// An empty array of items goavro wraps (a union of one
			// branch) is unread like a full one: its Go value cannot
			// tell. TestProjectionReadsEmptyArraysAsNoNumbers holds
			// empty arrays of plain numbers to Numbers.
			ok = true
		case isArray && numeric:
			ok = v.Kind == avropath.Numbers && v.Start >= 0 && v.Len == len(fs) &&
				v.Start+v.Len <= len(nums) && sameFloats(nums[v.Start:v.Start+v.Len], fs)
		default:
			ok = v.Kind == avropath.Unread
		}
	} else {
		switch w := want.(type) {
		case bool:
			ok = v.Kind == avropath.Boolean && v.Int == boolInt(w)
		case int32:
			ok = v.Kind == avropath.Int && v.Int == int64(w)
		case int64:
			ok = v.Kind == avropath.Int && v.Int == w
		case float32:
			ok = v.Kind == avropath.Float && math.Float64bits(v.Float) == math.Float64bits(float64(w))
		case float64:
			ok = v.Kind == avropath.Float && math.Float64bits(v.Float) == math.Float64bits(w)
		case string:
			ok = v.Kind == avropath.Text && string(v.Bytes) == w
		case time.Time:
			// A timestamp-millis is read as Millis, the very instant;
			// the other logical types goavro makes a time.Time of
			// (timestamp-micros, date) are Unread, and so may a union's
			// branch of any of them be.
			ok = v.Kind == avropath.Millis && time.UnixMilli(v.Int).Equal(w) || v.Kind == avropath.Unread && !millis
		default:
			ok = v.Kind == avropath.Unread
		}
	}
	if ok {
		return ""
	}
	return fmt.Sprintf("read %s; Path.Read finds %#v", got, want)
}

// numbers is an array's items as a feature reads them, and whether they
// are all numbers or booleans.
func numbers(items []any) ([]float64, bool) {
	fs := make([]float64, len(items))
	for i, it := range items {
		switch x := it.(type) {
		case bool:
			fs[i] = float64(boolInt(x))
		case int32:
			fs[i] = float64(x)
		case int64:
			fs[i] = float64(x)
		case float32:
			fs[i] = float64(x)
		case float64:
			fs[i] = x
		default:
			return nil, false
		}
	}
	return fs, true
}

func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// describe writes a Value for messages.
func describe(v avropath.Value, nums []float64) string {
	switch v.Kind {
	case avropath.Absent:
		return "Absent"
	case avropath.Boolean:
		return fmt.Sprintf("Boolean %d", v.Int)
	case avropath.Int:
		return fmt.Sprintf("Int %d", v.Int)
	case avropath.Float:
		return fmt.Sprintf("Float %v", v.Float)
	case avropath.Text:
		return fmt.Sprintf("Text %q", v.Bytes)
	case avropath.Millis:
		return fmt.Sprintf("Millis %d", v.Int)
	case avropath.Numbers:
		if v.Start < 0 || v.Len < 0 || v.Start+v.Len > len(nums) {
			return fmt.Sprintf("Numbers [%d:+%d] out of nums of %d", v.Start, v.Len, len(nums))
		}
		return fmt.Sprintf("Numbers %v", nums[v.Start:v.Start+v.Len])
	case avropath.Unread:
		return "Unread"
	}
	return fmt.Sprintf("kind %d", v.Kind)
}

// unread stands, in a case's expectations, for a value Path.Read finds
// that a Value cannot carry (a record, bytes, a time): the projection must
// say Unread.
type unread struct{}

// expect checks that Path.Read finds in rec what a case says it shows
// (nil: nothing; unread{}: any value of a type a Value does not carry), so
// that the case tests what its name says.
func expect(t *testing.T, rec map[string]any, want map[string]any) {
	t.Helper()
	for path, w := range want {
		got, present, err := avropath.MustParse(path).Read(rec)
		switch {
		case err != nil:
			t.Errorf("the case's record: Path.Read %s: %v", path, err)
		case w == nil:
			if present {
				t.Errorf("the case's record: %s is %#v; the case wants it absent", path, got)
			}
		case w == (unread{}):
			if !present {
				t.Errorf("the case's record: %s is absent; the case wants a value a Value cannot carry", path)
			} else if carried(got) {
				t.Errorf("the case's record: %s is %#v; the case wants a value a Value cannot carry", path, got)
			}
		case !present || !reflect.DeepEqual(got, w):
			t.Errorf("the case's record: %s is %#v, %v; the case wants %#v", path, got, present, w)
		}
	}
}

// carried reports whether a Value carries v, a value goavro decoded, as
// itself: a boolean, a number or text.
func carried(v any) bool {
	switch v.(type) {
	case bool, int32, int64, float32, float64, string:
		return true
	}
	return false
}

// TestProjectionReadsWhatGoavroDecodes reads projColumns from bodies goavro
// encoded, each case a shape of record, and holds every column to what
// Path.Read finds in goavro's decoding of the same body.
func TestProjectionReadsWhatGoavroDecodes(t *testing.T) {
	f := newFixture(t, projSchema)
	p := f.project(t, projColumns)
	u := goavro.Union
	tests := []struct {
		name string
		rec  map[string]any
		want map[string]any // what Path.Read finds, to show the case is what its name says
	}{
		{
			name: "every column present reads its value",
			rec:  projRecord(),
			want: map[string]any{
				"temperature": 21.5, "count": int32(-7), "total": int64(1) << 40, "ratio": float32(0.1),
				"ok": true, "name": "sensor-α", "status": "WARN", "prev": "FAIL",
				"location.lat": 52.5, "location.floor": int32(2), "location.zone": "A",
				"location.inner.depth": 3.5, "location.inner.tag": "t",
				"home.lat": 48.25, "home.inner.depth": 7.5, "work.zone": "W",
				"mixed": int32(5), "wide": 2.25,
				"attributes.zone": "A", `attributes["fw.version"]`: "1.2", "attributes.missing": nil,
				"gauges.g": 9.5, "gauges.h": nil, "limits.max": int64(100),
				"window[0]": 0.5, "window[2]": 0.125, "window": []any{0.5, 0.25, 0.125},
				"counts[1]": int32(2), "flags": []any{true, false, true}, "longs[0]": int64(1) << 60,
				"maybe[0]": 1.5, "maybe[1]": nil, "grid[0][1]": 2.0, "series.s[0]": 7.5,
				"chain.v": int64(1), "chain.next.v": int64(2), "chain.next.next.v": nil,
				"track[1].y": float32(13), "track[2].x": nil, "legs[1].on": true, "stops[0].k": 1.0, "stops[1].k": nil,
			},
		},
		{
			name: "nullable values that are null read absent",
			rec: with(map[string]any{
				"prev":     nil,
				"location": map[string]any{"lat": 1.0, "floor": nil, "zone": nil, "inner": nil},
				"mixed":    nil, "wide": nil, "limits": nil, "counts": nil, "chain": nil,
				"gauges": map[string]any{"g": nil},
				"maybe":  []any{nil, nil},
			}),
			want: map[string]any{
				"prev": nil, "location.floor": nil, "location.zone": nil, "location.inner.depth": nil,
				"mixed": nil, "wide": nil, "limits.max": nil, "counts": nil, "counts[1]": nil,
				"chain.v": nil, "gauges.g": nil, "maybe[0]": nil,
			},
		},
		{
			name: "a null record on the way makes every path below it absent",
			rec: with(map[string]any{
				"home": nil,
				"work": nil,
				"location": map[string]any{"lat": 1.0, "floor": u("int", int32(-1)), "zone": u("string", "Z"),
					"inner": nil},
				"chain": u("io.proj.Link", map[string]any{"v": int64(9), "next": nil}),
			}),
			want: map[string]any{
				"home.lat": nil, "home.floor": nil, "home.inner.depth": nil, "home.inner.tag": nil,
				"work.lat": nil, "work.zone": nil, "location.inner.depth": nil, "location.inner.tag": nil,
				"location.floor": int32(-1), "chain.v": int64(9), "chain.next.v": nil, "chain.next.next.v": nil,
			},
		},
		{
			name: "a null on the way under a present nullable record makes only the paths below it absent",
			rec: with(map[string]any{
				"home": u("io.proj.Location", map[string]any{"lat": 2.0, "floor": nil, "zone": nil,
					"inner": u("io.proj.Inner", map[string]any{"depth": nil, "tag": "x"})}),
			}),
			want: map[string]any{"home.lat": 2.0, "home.floor": nil, "home.zone": nil, "home.inner.depth": nil, "home.inner.tag": "x"},
		},
		{
			name: "a [T, null] union reads its value or absent like a [null, T] one",
			rec: with(map[string]any{
				"work": u("io.proj.Location", map[string]any{"lat": -3.5, "floor": nil, "zone": nil, "inner": nil}),
			}),
			want: map[string]any{"work.lat": -3.5, "work.zone": nil},
		},
		{
			name: "a multi-branch union reads the string branch as text",
			rec:  with(map[string]any{"mixed": u("string", "five"), "wide": u("string", "")}),
			want: map[string]any{"mixed": "five", "wide": ""},
		},
		{
			name: "a multi-branch union reads its boolean branch",
			rec:  with(map[string]any{"wide": u("boolean", false)}),
			want: map[string]any{"wide": false},
		},
		{
			name: "a multi-branch union reads its long branch",
			rec:  with(map[string]any{"wide": u("long", int64(math.MinInt64))}),
			want: map[string]any{"wide": int64(math.MinInt64)},
		},
		{
			name: "a multi-branch union reads its float branch widened",
			rec:  with(map[string]any{"wide": u("float", float32(-1.25))}),
			want: map[string]any{"wide": float32(-1.25)},
		},
		{
			name: "a multi-branch union reads its enum branch as the symbol",
			rec:  with(map[string]any{"wide": u("io.proj.Status", "OK")}),
			want: map[string]any{"wide": "OK"},
		},
		{
			name: "a multi-branch union's fixed branch is unread",
			rec:  with(map[string]any{"wide": u("io.proj.Hash", []byte("abcd"))}),
			want: map[string]any{"wide": unread{}},
		},
		{
			name: "a multi-branch union's record branch is unread",
			rec:  with(map[string]any{"wide": u("io.proj.Place", map[string]any{"depth": 1.0, "label": "q"})}),
			want: map[string]any{"wide": unread{}},
		},
		{
			name: "a multi-branch union's date branch is unread",
			rec:  with(map[string]any{"wide": u("int.date", time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC))}),
			want: map[string]any{"wide": unread{}},
		},
		{
			name: "a multi-branch union's decimal branch is unread",
			rec:  with(map[string]any{"wide": u("bytes.decimal", big.NewRat(-5, 4))}),
			want: map[string]any{"wide": unread{}},
		},
		{
			name: "a multi-branch union's map branch is unread",
			rec:  with(map[string]any{"wide": u("map", map[string]any{"a": int32(1)})}),
			want: map[string]any{"wide": unread{}},
		},
		{
			name: "a multi-branch union's array branch is unread",
			rec:  with(map[string]any{"wide": u("array", []any{1.0, 2.0})}),
			want: map[string]any{"wide": unread{}},
		},
		{
			name: "map keys read by key, and a missing key reads absent",
			rec: with(map[string]any{
				"attributes": map[string]any{"owner": "x"},
				"gauges":     map[string]any{"h": u("double", 1.0)},
				"limits":     u("map", map[string]any{"min": int64(3)}),
				"series":     map[string]any{"t": []any{1.0}},
			}),
			want: map[string]any{
				"attributes.zone": nil, `attributes["fw.version"]`: nil, "gauges.g": nil, "gauges.h": 1.0,
				"limits.max": nil, "series.s": nil, "series.s[0]": nil,
			},
		},
		{
			name: "empty maps read every key absent",
			rec: with(map[string]any{
				"attributes": map[string]any{}, "gauges": map[string]any{},
				"limits": u("map", map[string]any{}), "series": map[string]any{},
			}),
			want: map[string]any{"attributes.zone": nil, "gauges.g": nil, "limits.max": nil, "series.s": nil},
		},
		{
			name: "indexes past the end of an array read absent",
			rec: with(map[string]any{
				"window": []any{0.5}, "counts": u("array", []any{int32(1)}), "maybe": []any{},
				"grid": []any{[]any{1.0}}, "series": map[string]any{"s": []any{}},
				"longs": []any{},
			}),
			want: map[string]any{
				"window[0]": 0.5, "window[2]": nil, "counts[1]": nil, "maybe[0]": nil,
				"grid[1]": nil, "grid[0][1]": nil, "series.s[0]": nil, "longs[0]": nil,
			},
		},
		{
			name: "empty arrays read whole as no numbers",
			rec: with(map[string]any{
				"window": []any{}, "counts": u("array", []any{}), "flags": []any{}, "floats": []any{},
				"longs": []any{}, "grid": []any{[]any{}, []any{}}, "series": map[string]any{"s": []any{}},
			}),
			want: map[string]any{"window": []any{}, "counts": []any{}, "flags": []any{}, "grid[1]": []any{}, "series.s": []any{}},
		},
		{
			name: "whole arrays of each number type read as float64s, booleans as 1 and 0",
			rec: with(map[string]any{
				"flags":  []any{false, true, true, false},
				"floats": []any{float32(math.Inf(-1)), float32(math.SmallestNonzeroFloat32), float32(math.NaN())},
				"longs":  []any{int64(math.MaxInt64), int64(math.MinInt64), int64(1)<<53 + 1},
				"counts": u("array", []any{int32(math.MinInt32), int32(math.MaxInt32)}),
				"window": []any{math.Copysign(0, -1), math.NaN(), math.MaxFloat64},
			}),
			want: map[string]any{"longs[0]": int64(math.MaxInt64)},
		},
		{
			name: "scalars at their extremes read exactly",
			rec: with(map[string]any{
				"temperature": math.Copysign(0, -1), "count": int32(math.MinInt32), "total": int64(math.MinInt64),
				"ratio": float32(math.NaN()), "ok": false, "name": "", "status": "FAIL",
			}),
			want: map[string]any{"count": int32(math.MinInt32), "total": int64(math.MinInt64), "ok": false, "name": "", "status": "FAIL"},
		},
		{
			name: "a recursive record reads at every depth",
			rec: with(map[string]any{
				"chain": u("io.proj.Link", map[string]any{"v": int64(1), "next": u("io.proj.Link", map[string]any{
					"v": int64(2), "next": u("io.proj.Link", map[string]any{"v": int64(3), "next": u("io.proj.Link", map[string]any{
						"v": int64(4), "next": nil})})})}),
			}),
			want: map[string]any{"chain.v": int64(1), "chain.next.v": int64(2), "chain.next.next.v": int64(3)},
		},
		{
			name: "skipped fields at their smallest and largest do not shift the read ones",
			rec: with(map[string]any{
				"blob": []byte{}, "amount": big.NewRat(0, 1), "coords": []any{}, "places": map[string]any{},
				"points":    []any{},
				"tail_blob": make([]byte, 300), "tail_places": map[string]any{}, "tail_points": []any{},
				"tags": []any{strings.Repeat("t", 200)}, "stamps": []any{},
				"tail_choice": u("string", strings.Repeat("c", 130)),
			}),
			want: map[string]any{"temperature": 21.5, "chain.next.v": int64(2)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.agrees(t, p, projColumns, f.encode(t, tt.rec), tt.want)
		})
	}
}

// enc hand-encodes Avro binary, for bodies goavro does not write: several
// blocks, negative block counts, repeated map keys.
type enc []byte

func (e enc) long(v int64) enc  { return binary.AppendVarint(e, v) }
func (e enc) str(s string) enc  { return append(e.long(int64(len(s))), s...) }
func (e enc) raw(b ...byte) enc { return append(e, b...) }

func (e enc) double(fs ...float64) enc {
	for _, f := range fs {
		e = binary.LittleEndian.AppendUint64(e, math.Float64bits(f))
	}
	return e
}

// blocksSchema is a schema for hand-encoded bodies of arrays and maps.
const blocksSchema = `{
  "type": "record", "name": "Blocks", "namespace": "io.blocks",
  "fields": [
    {"name": "pre", "type": "string"},
    {"name": "window", "type": {"type": "array", "items": "double"}},
    {"name": "flags", "type": {"type": "array", "items": "boolean"}},
    {"name": "gauges", "type": {"type": "map", "values": "double"}},
    {"name": "opt", "type": {"type": "map", "values": ["null", "double"]}},
    {"name": "skipped", "type": {"type": "map", "values": "string"}},
    {"name": "post", "type": "long"}
  ]
}`

var blocksColumns = columns(
	"pre", "window[]", "window[0]", "window[3]", "window[4]", "window[5]", "flags[]", "flags[2]",
	"gauges.a", "gauges.b", "opt.a", "opt.b", "post",
)

// blocksBody encodes a blocksSchema record with window, flags, gauges,
// opt and skipped given as their encoded blocks.
func blocksBody(window, flags, gauges, opt, skipped enc) []byte {
	b := enc{}.str("pre")
	b = append(b, window...)
	b = append(b, flags...)
	b = append(b, gauges...)
	b = append(b, opt...)
	b = append(b, skipped...)
	return b.long(42)
}

// TestProjectionReadsArraysAndMapsOfSeveralBlocks holds hand-encoded
// bodies, whose arrays and maps come in several blocks, some with negative
// counts (and the byte size after them), to what goavro decodes.
func TestProjectionReadsArraysAndMapsOfSeveralBlocks(t *testing.T) {
	f := newFixture(t, blocksSchema)
	p := f.project(t, blocksColumns)
	empty := enc{}.long(0)
	tests := []struct {
		name                             string
		window, flags, gauges, opt, skip enc
		want                             map[string]any
	}{
		{
			name:   "an array of several blocks, one with a negative count, reads whole and by index across blocks",
			window: enc{}.long(2).double(1.5, 2.5).long(-2).long(16).double(3.5, 4.5).long(1).double(5.5).long(0),
			flags:  enc{}.long(-1).long(1).raw(1).long(2).raw(0, 1).long(0),
			gauges: empty, opt: empty, skip: empty,
			want: map[string]any{
				"window": []any{1.5, 2.5, 3.5, 4.5, 5.5}, "window[3]": 4.5, "window[4]": 5.5, "window[5]": nil,
				"flags": []any{true, false, true}, "flags[2]": true,
			},
		},
		{
			name:   "a map of several blocks, one with a negative count, reads each key",
			window: empty, flags: empty,
			gauges: enc{}.long(1).str("x").double(1).long(-1).long(10).str("a").double(2).long(1).str("b").double(3).long(0),
			opt:    enc{}.long(-2).long(14).str("b").long(0).str("a").long(1).double(4).long(0),
			skip:   enc{}.long(1).str("k").str("v").long(-1).long(4).str("j").str("w").long(0),
			want:   map[string]any{"gauges.a": 2.0, "gauges.b": 3.0, "opt.a": 4.0, "opt.b": nil, "post": int64(42)},
		},
		{
			name:   "blocks of one item each read like one block",
			window: enc{}.long(1).double(1).long(1).double(2).long(1).double(3).long(1).double(4).long(0),
			flags:  enc{}.long(1).raw(1).long(-1).long(1).raw(1).long(0),
			gauges: enc{}.long(1).str("b").double(8).long(1).str("a").double(9).long(0),
			opt:    empty, skip: empty,
			want: map[string]any{"window": []any{1.0, 2.0, 3.0, 4.0}, "window[3]": 4.0, "window[4]": nil, "flags[2]": nil, "gauges.a": 9.0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.agrees(t, p, blocksColumns, blocksBody(tt.window, tt.flags, tt.gauges, tt.opt, tt.skip), tt.want)
		})
	}
}

// TestProjectionReadRefusesRepeatedMapKeys hand-encodes maps that hold a
// key twice. goavro (v2.15) refuses such a body ("duplicate key"), so a
// projection that reads it to the end would pass the scorer a record goavro
// calls corrupt: Read must fail too, whether the map is read or skipped.
func TestProjectionReadRefusesRepeatedMapKeys(t *testing.T) {
	f := newFixture(t, blocksSchema)
	p := f.project(t, blocksColumns)
	empty := enc{}.long(0)
	tests := []struct {
		name             string
		gauges, opt, skp enc
	}{
		{
			name:   "a read key twice in one block",
			gauges: enc{}.long(2).str("a").double(1).str("a").double(2).long(0),
			opt:    empty, skp: empty,
		},
		{
			name:   "a read key twice, in two blocks",
			gauges: enc{}.long(1).str("a").double(1).long(-1).long(10).str("a").double(2).long(0),
			opt:    empty, skp: empty,
		},
		{
			name:   "a read key twice, the second value null",
			gauges: empty,
			opt:    enc{}.long(2).str("a").long(1).double(4).str("a").long(0).long(0),
			skp:    empty,
		},
		{
			name:   "a key no column reads twice",
			gauges: enc{}.long(2).str("z").double(1).str("z").double(2).long(0),
			opt:    empty, skp: empty,
		},
		{
			name:   "a key twice in a skipped map",
			gauges: empty, opt: empty,
			skp: enc{}.long(2).str("k").str("v").str("k").str("w").long(0),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := blocksBody(empty, empty, tt.gauges, tt.opt, tt.skp)
			if _, err := f.guard.Check(body, avroguard.Limits{}); err != nil {
				t.Fatalf("the guard refuses the body: %v", err)
			}
			if _, err := f.decode(body); err == nil || !strings.Contains(err.Error(), "duplicate key") {
				t.Fatalf("goavro decodes the body (%v); the case no longer shows goavro refusing a repeated key", err)
			}
			vals := make([]avropath.Value, p.Columns())
			if _, err := p.Read(body, vals, nil); err == nil {
				t.Errorf("Read succeeds on a body goavro refuses for a repeated map key: gauges.a %s, opt.a %s",
					describe(vals[8], nil), describe(vals[10], nil))
			}
		})
	}
}

// TestProjectionAppendsToNums checks that whole arrays are appended after
// what nums already holds, each Value's Start counting from its start.
func TestProjectionAppendsToNums(t *testing.T) {
	f := newFixture(t, projSchema)
	cols := columns("window[]", "flags[]", "window[]")
	p := f.project(t, cols)
	body := f.encode(t, projRecord())
	vals := make([]avropath.Value, len(cols))
	nums, err := p.Read(body, vals, []float64{-1, -2})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{-1, -2, 0.5, 0.25, 0.125, 1, 0, 1}; !reflect.DeepEqual(nums, want) {
		t.Errorf("nums = %v; want %v", nums, want)
	}
	want := []avropath.Value{
		{Kind: avropath.Numbers, Start: 2, Len: 3},
		{Kind: avropath.Numbers, Start: 5, Len: 3},
		{Kind: avropath.Numbers, Start: 2, Len: 3},
	}
	if !reflect.DeepEqual(vals, want) {
		t.Errorf("vals = %+v; want %+v", vals, want)
	}
}

// TestProjectionReadsEmptyArraysAsNoNumbers checks that an empty array of
// plain numbers reads whole as Numbers of length 0, not Unread.
func TestProjectionReadsEmptyArraysAsNoNumbers(t *testing.T) {
	f := newFixture(t, projSchema)
	cols := columns("window[]", "counts[]", "flags[]", "floats[]", "longs[]", "grid[0][]", "series.s[]")
	p := f.project(t, cols)
	body := f.encode(t, with(map[string]any{
		"window": []any{}, "counts": goavro.Union("array", []any{}), "flags": []any{}, "floats": []any{},
		"longs": []any{}, "grid": []any{[]any{}}, "series": map[string]any{"s": []any{}},
	}))
	vals := make([]avropath.Value, len(cols))
	if _, err := p.Read(body, vals, nil); err != nil {
		t.Fatal(err)
	}
	for i, v := range vals {
		if v.Kind != avropath.Numbers || v.Len != 0 {
			t.Errorf("%s = %s; want Numbers of none", colName(cols[i]), describe(v, nil))
		}
	}
}

// TestProjectionReadResetsVals checks that a Read leaves nothing of the one
// before it: a column absent from the second body reads Absent.
func TestProjectionReadResetsVals(t *testing.T) {
	f := newFixture(t, projSchema)
	p := f.project(t, projColumns)
	vals := make([]avropath.Value, len(projColumns))
	if _, err := p.Read(f.encode(t, projRecord()), vals, nil); err != nil {
		t.Fatal(err)
	}
	second := f.encode(t, with(map[string]any{"home": nil, "chain": nil, "attributes": map[string]any{}}))
	if _, err := p.Read(second, vals, nil); err != nil {
		t.Fatal(err)
	}
	for i, c := range projColumns {
		switch colName(c) {
		case "home.lat", "chain.v", "attributes.zone":
			if vals[i].Kind != avropath.Absent {
				t.Errorf("%s = %s after a body where it is absent; want Absent", colName(c), describe(vals[i], nil))
			}
		}
	}
}

// TestProjectionIsSharedByGoroutines reads with one Projection from
// several goroutines at once, each its own bodies into its own values:
// each reads what goavro decodes (run with -race, it also shows that Read
// writes nothing shared).
func TestProjectionIsSharedByGoroutines(t *testing.T) {
	f := newFixture(t, projSchema)
	p := f.project(t, projColumns)
	var bodies [][]byte
	for _, rec := range projSeeds() {
		bodies = append(bodies, f.encode(t, rec))
	}
	var wg sync.WaitGroup
	errs := make([][]string, 4)
	for g := range errs {
		wg.Go(func() {
			for i := range 50 {
				body := bodies[(g+i)%len(bodies)]
				errs[g] = append(errs[g], f.disagreements(p, projColumns, body)...)
			}
		})
	}
	wg.Wait()
	for g, ds := range errs {
		for _, d := range ds {
			t.Errorf("goroutine %d: %s", g, d)
		}
	}
}

// TestProjectionReadsTimestampMillis: a timestamp-millis, at the top, in
// a nullable union or as an array's item, reads as Millis, the instant
// goavro's time.Time holds, before 1970 too.
func TestProjectionReadsTimestampMillis(t *testing.T) {
	const schema = `{"type": "record", "name": "T", "fields": [
	  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
	  {"name": "maybe", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}]},
	  {"name": "stamps", "type": {"type": "array", "items": {"type": "long", "logicalType": "timestamp-millis"}}}]}`
	f := newFixture(t, schema)
	cols := columns("ts", "maybe", "stamps[1]")
	p := f.project(t, cols)
	for _, ms := range []int64{0, 1_700_000_000_123, -1_500, -62_135_596_800_000} {
		at := time.UnixMilli(ms).UTC()
		body := f.encode(t, map[string]any{"ts": at, "maybe": goavro.Union("long.timestamp-millis", at), "stamps": []any{at, at}})
		if d := f.disagreements(p, cols, body); len(d) > 0 {
			t.Fatalf("%d ms: %v", ms, d)
		}
		vals := make([]avropath.Value, len(cols))
		if _, err := p.Read(body, vals, nil); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if v.Kind != avropath.Millis || v.Int != ms {
				t.Errorf("%d ms: %s read %s; want Millis %d", ms, colName(cols[i]), describe(v, nil), ms)
			}
		}
	}
}

// soloSchema nests a record of one field, a map: goavro decodes it to a
// map of one entry, which Path.Read takes for a union wrapper when a key
// is missing from it.
const soloSchema = `{"type": "record", "name": "R", "fields": [
  {"name": "x", "type": "double"},
  {"name": "solo", "type": {"type": "record", "name": "Solo", "fields": [
    {"name": "inner", "type": {"type": "map", "values": "double"}}]}}]}`

// TestProjectionReadsFieldsTheSchemaLacksAsAbsent: a column on a field
// the writer schema lacks (one a newer schema added), at the top or
// nested, reads Absent, as Path.Read finds nothing in goavro's record, so
// records of older schemas are read from their bodies too; except in a
// nested record of one field, where Path.Read reads the entry's value as
// a union wrapper's and Project declines (TestProjectRefuses).
func TestProjectionReadsFieldsTheSchemaLacksAsAbsent(t *testing.T) {
	f := newFixture(t, projSchema)
	cols := columns("nope", "location.alt", "temperature", "nope.deeper")
	p := f.project(t, cols)
	body := f.encode(t, projRecord())
	if d := f.disagreements(p, cols, body); len(d) > 0 {
		t.Fatalf("disagreements: %v", d)
	}
	vals := make([]avropath.Value, len(cols))
	if _, err := p.Read(body, vals, nil); err != nil {
		t.Fatal(err)
	}
	for i, c := range cols {
		if want := avropath.Absent; c.Path.String() != "temperature" && vals[i].Kind != want {
			t.Errorf("%s: %v; want Absent", colName(c), describe(vals[i], nil))
		}
	}
	solo := newFixture(t, soloSchema)
	ps := solo.project(t, columns("x", "nope"))
	soloBody := solo.encode(t, map[string]any{"x": 1.5, "solo": map[string]any{"inner": map[string]any{"nope": 2.0}}})
	if d := solo.disagreements(ps, columns("x", "nope"), soloBody); len(d) > 0 {
		t.Fatalf("a top-level field missing beside a record of one field: %v", d)
	}
}

// TestProjectRefuses lists the columns and schemas a projection cannot
// read exactly: each refusal wraps ErrNotProjectable and says why.
func TestProjectRefuses(t *testing.T) {
	const validatedAt = `{"type": "record", "name": "V", "fields": [
	  {"name": "x", "type": "double"},
	  {"name": "v", "type": %s}]}`
	const validated = `{"type": "string", "logicalType": "validated-string", "pattern": "^a"}`
	const itemsAt = `{"type": "record", "name": "A", "fields": [
	  {"name": "a", "type": {"type": "array", "items": %s}}]}`
	const (
		notScalar = "is not a number, a boolean or text"
		logical   = "has a logical type"
		notArray  = "is not an array of numbers"
		checked   = "a validated-string, which goavro checks against its pattern"
	)
	tests := []struct {
		name   string
		schema string
		cols   []avropath.Column
		why    string // in the message
	}{
		{"a field missing from a nested record of one field", soloSchema, columns("solo.alt"), `record Solo has no field "alt"`},
		{"a key step into a double", projSchema, columns("temperature.x"), "temperature is double, not a record or map"},
		{"a key step into an array", projSchema, columns("window.x"), "window is array<double>, not a record or map"},
		{"an index into a map", projSchema, columns("attributes[0]"), "attributes is map<string>, not an array"},
		{"a step through a multi-branch union", projSchema, columns("wide.x"), "a path passes only through a nullable union"},
		{"a key into a map of records", projSchema, columns("places.dock.depth"), "cannot step into the values of a map of records"},
		{"one bad column among good ones", projSchema, columns("temperature", "temperature.x", "count"), "temperature is double"},
		{"a column on bytes", projSchema, columns("blob"), "blob: bytes " + notScalar},
		{"a column on fixed", projSchema, columns("hash"), "hash: fixed Hash " + notScalar},
		{"a column on a decimal fixed", projSchema, columns("tail_price"), logical},
		{"a column on a record", projSchema, columns("location"), notScalar},
		{"a column on a nullable record", projSchema, columns("home"), notScalar},
		{"a column on a map", projSchema, columns("attributes"), notScalar},
		{"a column on a nullable map", projSchema, columns("limits"), notScalar},
		{"a column on timestamp-micros", projSchema, columns("tail_ts"), logical},
		{"a column on date", projSchema, columns("day"), logical},
		{"a column on time-millis", projSchema, columns("tail_time"), logical},
		{"a column on a bytes decimal", projSchema, columns("amount"), logical},
		{"an array without Array", projSchema, columns("window"), notScalar},
		{"a nullable array without Array", projSchema, columns("counts"), notScalar},
		{"Array on a double", projSchema, columns("temperature[]"), notArray},
		{"Array on a string", projSchema, columns("name[]"), notArray},
		{"Array on a map", projSchema, columns("attributes[]"), notArray},
		{"Array on a multi-branch union with an array branch", projSchema, columns("wide[]"), notArray},
		{"Array on an array of [null, double]", projSchema, columns("maybe[]"), notArray},
		{"Array on an array of [double, null]", fmt.Sprintf(itemsAt, `["double", "null"]`), columns("a[]"), notArray},
		{"Array on an array of strings", projSchema, columns("tags[]"), notArray},
		{"Array on an array of enums", fmt.Sprintf(itemsAt, `{"type": "enum", "name": "E", "symbols": ["A"]}`), columns("a[]"), notArray},
		{"Array on an array of timestamps", projSchema, columns("stamps[]"), notArray},
		{"Array on an array of arrays", projSchema, columns("grid[]"), notArray},
		{"Array on an array of records", projSchema, columns("points[]"), notArray},
		{"a validated-string column", fmt.Sprintf(validatedAt, validated), columns("v"), checked},
		{"a validated-string in a skipped field", fmt.Sprintf(validatedAt, validated), columns("x"), checked},
		{"a validated-string in a nullable union", fmt.Sprintf(validatedAt, `["null", `+validated+`]`), columns("x"), checked},
		{"a validated-string in map values", fmt.Sprintf(validatedAt, `{"type": "map", "values": `+validated+`}`), columns("x"), checked},
		{"a validated-string in a nested record", fmt.Sprintf(validatedAt,
			`{"type": "record", "name": "In", "fields": [{"name": "s", "type": `+validated+`}]}`), columns("x"), checked},
		{"a record holding itself, first met through a union", `{"type": "record", "name": "N", "fields": [
		  {"name": "u", "type": ["null", {"type": "record", "name": "M", "fields": [{"name": "back", "type": "N"}]}]},
		  {"name": "m", "type": "M"}]}`, columns("u.back.u.back.m.back.m"), "holds itself"},
		{"a record holding itself, first met directly", `{"type": "record", "name": "N", "fields": [
		  {"name": "m", "type": {"type": "record", "name": "M", "fields": [{"name": "back", "type": "N"}]}},
		  {"name": "u", "type": ["null", "M"]}]}`, columns("m"), "holds itself"},
		{"two named types of one short name in two namespaces", `{"type": "record", "name": "R", "namespace": "a", "fields": [
		  {"name": "x", "type": {"type": "record", "name": "Loc", "namespace": "b", "fields": [{"name": "v", "type": "double"}]}},
		  {"name": "y", "type": {"type": "enum", "name": "Loc", "namespace": "c", "symbols": ["A"]}}]}`, columns("x.v"),
			"two named types are called Loc"},
		{"a nested record named like the top-level one in another namespace", `{"type": "record", "name": "R", "namespace": "a", "fields": [
		  {"name": "x", "type": "double"},
		  {"name": "y", "type": {"type": "record", "name": "b.R", "fields": [{"name": "v", "type": "double"}]}}]}`, columns("x"),
			"two named types are called R"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := avropath.ParseSchema(tt.schema)
			if err != nil {
				t.Fatalf("ParseSchema: %v", err)
			}
			p, err := s.Project(tt.cols)
			if !errors.Is(err, avropath.ErrNotProjectable) || p != nil {
				t.Fatalf("Project = %v, %v; want ErrNotProjectable", p, err)
			}
			if !strings.Contains(err.Error(), tt.why) {
				t.Errorf("Project: %v; want it to say %q", err, tt.why)
			}
		})
	}
}

// TestProjectAndReadReturnOnRecordsThatContainThemselves projects
// schemas with a record that holds itself on every path, and reads a body
// with the projection if Project accepts it. No body can end such a record
// and the guard's Compile refuses the schema, so no body of it ever passes
// the guard; but ParseSchema takes it, and neither Project nor Read may
// then recurse until the stack runs out, which kills the process. Each
// schema is tried in a child process, with a small stack.
func TestProjectAndReadReturnOnRecordsThatContainThemselves(t *testing.T) {
	schemas := map[string]string{
		"itself": `{"type": "record", "name": "R", "fields": [
		  {"name": "x", "type": "double"}, {"name": "self", "type": "R"}]}`,
		"each other": `{"type": "record", "name": "A", "fields": [
		  {"name": "x", "type": "double"},
		  {"name": "b", "type": {"type": "record", "name": "B", "fields": [{"name": "a", "type": "A"}]}}]}`,
		"itself, in a field nobody reads": `{"type": "record", "name": "Top", "fields": [
		  {"name": "x", "type": "double"},
		  {"name": "loop", "type": ["null", {"type": "record", "name": "L", "fields": [{"name": "again", "type": "L"}]}]}]}`,
		"itself, with no bytes to run out of": `{"type": "record", "name": "N", "fields": [
		  {"name": "x", "type": "null"}, {"name": "self", "type": "N"}]}`,
	}
	if name := os.Getenv("AVROPATH_PROJECT_SELF"); name != "" {
		debug.SetMaxStack(32 << 20)
		s, err := avropath.ParseSchema(schemas[name])
		if err != nil {
			fmt.Println("ParseSchema:", err)
			os.Exit(3)
		}
		p, err := s.Project(columns("x"))
		if err != nil && !errors.Is(err, avropath.ErrNotProjectable) {
			fmt.Println("Project:", err)
			os.Exit(4)
		}
		if p != nil {
			_, _ = p.Read(make([]byte, 64), make([]avropath.Value, 1), nil)
		}
		os.Exit(0)
	}
	for name := range schemas {
		t.Run(name, func(t *testing.T) {
			if _, err := avroguard.Compile(schemas[name]); !errors.Is(err, avroguard.ErrSchema) {
				t.Errorf("the guard's Compile = %v; the case no longer shows a schema it refuses", err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestProjectAndReadReturnOnRecordsThatContainThemselves$")
			cmd.Env = append(os.Environ(), "AVROPATH_PROJECT_SELF="+name)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("Project or Read does not return: %v\n%s", err, crashSummary(out))
			}
		})
	}
}

// crashSummary is the first lines of a child's crash, and the first
// frames of this module's code in its stack.
func crashSummary(out []byte) string {
	lines := strings.Split(string(out), "\n")
	summary := lines[:min(len(lines), 3)]
	for _, l := range lines {
		if strings.Contains(l, "streamscore/internal/avropath.") && len(summary) < 9 {
			summary = append(summary, l)
		}
	}
	return strings.Join(summary, "\n")
}

// TestProjectionLeavesMapsOfManyKeysToGoavro pins where Read stops telling
// repeated map keys apart: a map of up to 32 keys, read or skipped, reads
// as goavro decodes it; one of more makes Read fail, so that the caller
// decodes the record whole, though goavro decodes it fine.
func TestProjectionLeavesMapsOfManyKeysToGoavro(t *testing.T) {
	f := newFixture(t, blocksSchema)
	p := f.project(t, blocksColumns)
	empty := enc{}.long(0)
	gauges := func(n int) enc {
		e := enc{}.long(int64(n))
		for i := range n {
			e = e.str(fmt.Sprintf("g%d", i)).double(float64(i))
		}
		return e.long(0)
	}
	skipped := func(n int) enc {
		e := enc{}.long(int64(n))
		for i := range n {
			e = e.str(fmt.Sprintf("k%d", i)).str("v")
		}
		return e.long(0)
	}
	for _, n := range []int{31, 32, 33, 100} {
		for _, where := range []string{"read", "skipped"} {
			body := blocksBody(empty, empty, gauges(n), empty, empty)
			if where == "skipped" {
				body = blocksBody(empty, empty, empty, empty, skipped(n))
			}
			if _, err := f.guard.Check(body, avroguard.Limits{}); err != nil {
				t.Fatalf("the guard refuses a map of %d keys: %v", n, err)
			}
			if _, err := f.decode(body); err != nil {
				t.Fatalf("goavro refuses a map of %d keys: %v", n, err)
			}
			_, err := p.Read(body, make([]avropath.Value, p.Columns()), nil)
			if n <= 32 && err != nil {
				t.Errorf("a %s map of %d keys: Read fails: %v", where, n, err)
			}
			if n > 32 && err == nil {
				t.Errorf("a %s map of %d keys: Read succeeds; it stops telling repeated keys apart after 32", where, n)
			}
		}
	}
}

// TestProjectAcceptsEachColumn checks that the columns the other tests read
// are projectable one by one, and that a validated-string goavro checks is
// what Project refuses, not any string logical type.
func TestProjectAcceptsEachColumn(t *testing.T) {
	s, err := avropath.ParseSchema(projSchema)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range projColumns {
		if _, err := s.Project([]avropath.Column{c}); err != nil {
			t.Errorf("Project %s: %v", colName(c), err)
		}
	}
	uuid, err := avropath.ParseSchema(`{"type": "record", "name": "U", "fields": [
	  {"name": "id", "type": {"type": "string", "logicalType": "uuid"}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uuid.Project(columns("id")); err != nil {
		t.Errorf("Project a uuid string: %v", err)
	}
	if _, err := s.Project(nil); err != nil {
		t.Errorf("Project no columns: %v", err)
	}
}

// readErrSchema is a small schema for bodies Read must refuse: a skipped
// boolean and enum before and after the read double.
const readErrSchema = `{
  "type": "record", "name": "E", "fields": [
    {"name": "flag", "type": "boolean"},
    {"name": "early", "type": {"type": "enum", "name": "Early", "symbols": ["A", "B"]}},
    {"name": "x", "type": "double"},
    {"name": "flags", "type": {"type": "array", "items": "boolean"}},
    {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["OK", "WARN", "FAIL"]}},
    {"name": "n", "type": "int"},
    {"name": "u", "type": ["null", "string"]},
    {"name": "tail", "type": "boolean"}
  ]
}`

// TestProjectionReadRefusesBodiesGoavroRefuses reads bodies that cannot be
// decoded to their end: Read must fail, as goavro does, and not panic,
// whether or not the guard passed them.
func TestProjectionReadRefusesBodiesGoavroRefuses(t *testing.T) {
	f := newFixture(t, readErrSchema)
	cols := columns("x", "status", "n", "u", "flags[]")
	p := f.project(t, cols)
	good := func() enc { return enc{}.raw(1).long(1).double(2.5) }
	valid := good().long(1).raw(1).long(0).long(2).long(7).long(1).str("s").raw(0)
	if _, err := f.decode(valid); err != nil {
		t.Fatalf("the valid body does not decode: %v", err)
	}
	tests := []struct {
		name string
		body []byte
	}{
		{"a skipped boolean before the read fields is 2", enc{}.raw(2).long(1).double(2.5).long(0).long(2).long(7).long(0).raw(0)},
		{"a skipped boolean after the read fields is 2", good().long(0).long(2).long(7).long(0).raw(2)},
		{"a boolean of a whole array is 2", good().long(2).raw(1, 2).long(0).long(2).long(7).long(0).raw(0)},
		{"an enum index past the symbols", good().long(0).long(3).long(7).long(0).raw(0)},
		{"a negative enum index", good().long(0).long(-1).long(7).long(0).raw(0)},
		{"a skipped enum index past the symbols", enc{}.raw(0).long(2).double(2.5).long(0).long(0).long(7).long(0).raw(0)},
		{"a union index past the branches", good().long(0).long(0).long(7).long(2).raw(0)},
		{"a string longer than the body", good().long(0).long(0).long(7).long(1).long(50).raw('s')},
		{"a negative string length", good().long(0).long(0).long(7).long(1).long(-1).raw(0)},
		{"a varint that never ends", good().long(0).long(0).raw(0xff, 0xff, 0xff)},
		{"trailing bytes", append(append([]byte{}, valid...), 0)},
		{"the empty body", nil},
	}
	for i := range valid {
		tests = append(tests, struct {
			name string
			body []byte
		}{fmt.Sprintf("the body cut to %d of %d bytes", i, len(valid)), valid[:i]})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.decode(tt.body); err == nil {
				t.Fatalf("goavro decodes the body; the case no longer shows a bad body")
			}
			vals := make([]avropath.Value, len(cols))
			if _, err := p.Read(tt.body, vals, nil); err == nil {
				t.Errorf("Read succeeds on a body goavro refuses: %x", tt.body)
			}
		})
	}
}

// TestProjectionReadRefusesTruncatedRichBodies cuts a projSchema body at
// every byte: Read fails on every cut, as goavro does, and never panics.
func TestProjectionReadRefusesTruncatedRichBodies(t *testing.T) {
	f := newFixture(t, projSchema)
	p := f.project(t, projColumns)
	body := f.encode(t, projRecord())
	vals := make([]avropath.Value, len(projColumns))
	for i := range body {
		if _, err := f.decode(body[:i]); err == nil {
			t.Fatalf("goavro decodes %d of %d bytes", i, len(body))
		}
		if _, err := p.Read(body[:i], vals, nil); err == nil {
			t.Errorf("Read succeeds on %d of %d bytes", i, len(body))
		}
	}
}

// TestProjectionReadRefusesWrongValsLength checks that Read wants one
// Value per column.
func TestProjectionReadRefusesWrongValsLength(t *testing.T) {
	f := newFixture(t, projSchema)
	p := f.project(t, projColumns)
	body := f.encode(t, projRecord())
	for _, n := range []int{0, len(projColumns) - 1, len(projColumns) + 1} {
		if _, err := p.Read(body, make([]avropath.Value, n), nil); err == nil {
			t.Errorf("Read with %d values for %d columns succeeds", n, len(projColumns))
		}
	}
}

// TestProjectionReadsArraysOfOneBranchUnions reads an array whose items
// are a union of one branch (["double"]): goavro wraps each item
// ({"double": 1.5}), so a whole-array column must not read the numbers
// as zeros; Project may refuse the column, or Read may say Unread, but an
// item read by index is the number itself.
func TestProjectionReadsArraysOfOneBranchUnions(t *testing.T) {
	const schema = `{"type": "record", "name": "One", "fields": [
	  {"name": "xs", "type": {"type": "array", "items": ["double"]}},
	  {"name": "bs", "type": {"type": "array", "items": ["boolean"]}},
	  {"name": "one", "type": ["long"]}]}`
	f := newFixture(t, schema)
	body := f.encode(t, map[string]any{
		"xs":  []any{goavro.Union("double", 1.5), goavro.Union("double", 2.5)},
		"bs":  []any{goavro.Union("boolean", true)},
		"one": goavro.Union("long", int64(3)),
	})
	for _, path := range []string{"xs[]", "xs[1]", "bs[]", "one", "xs[] xs[0]"} {
		t.Run(path, func(t *testing.T) {
			cols := columns(strings.Fields(path)...)
			p, err := f.schema.Project(cols)
			if errors.Is(err, avropath.ErrNotProjectable) {
				return // refusing is right: the reader decodes the record whole
			}
			if err != nil {
				t.Fatalf("Project: %v", err)
			}
			for _, d := range f.disagreements(p, cols, body) {
				t.Error(d)
			}
		})
	}
}

// TestProjectionOfSensorReadings holds the projection of the sensor
// schemas' model columns to goavro on sample readings.
func TestProjectionOfSensorReadings(t *testing.T) {
	for _, sc := range sensorCases(t, 500) {
		t.Run(sc.name, func(t *testing.T) {
			for i, body := range sc.bodies {
				for _, d := range sc.f.disagreements(sc.p, sc.cols, body) {
					t.Errorf("reading %d: %s", i, d)
				}
			}
		})
	}
}

// TestProjectionReadDoesNotAllocate checks the hot path: Read allocates
// nothing, on a body it reads and on one it refuses.
func TestProjectionReadDoesNotAllocate(t *testing.T) {
	f := newFixture(t, projSchema)
	p := f.project(t, projColumns)
	good := f.encode(t, projRecord())
	bad := append(append([]byte{}, good...), 0)
	vals := make([]avropath.Value, len(projColumns))
	nums := make([]float64, 0, 64)
	for name, body := range map[string][]byte{"read": good, "refused": bad} {
		if n := testing.AllocsPerRun(100, func() { _, _ = p.Read(body, vals, nums[:0]) }); n != 0 {
			t.Errorf("Read of a %s body: %.0f allocations; want 0", name, n)
		}
	}
	for _, sc := range sensorCases(t, 1) {
		vals := make([]avropath.Value, len(sc.cols))
		if n := testing.AllocsPerRun(100, func() { _, _ = sc.p.Read(sc.bodies[0], vals, nil) }); n != 0 {
			t.Errorf("Read of a %s body: %.0f allocations; want 0", sc.name, n)
		}
	}
}

// sensorCase is a sensor schema with its model's columns and n sample
// bodies.
type sensorCase struct {
	name   string
	f      *fixture
	cols   []avropath.Column
	p      *avropath.Projection
	paths  []avropath.Path
	bodies [][]byte
}

func sensorCases(t testing.TB, n int) []sensorCase {
	t.Helper()
	flat := sample.NewSensors(1, 100, 0.05)
	grouped := sample.NewGroupedSensors(1, 100, 0.05)
	cases := []sensorCase{
		{name: "flat", cols: columns(sample.SensorFeatures...)},
		{name: "grouped", cols: columns(
			"env.temperature", "env.humidity", "env.pressure", "env.light", "env.co2",
			"motion.vibration", "motion.sound", "link.rssi", "link.uptime_s", "power.battery_volts",
			"site", "status")},
	}
	for i, text := range []string{schemas.SensorReading, schemas.SensorReadingGrouped} {
		sc := &cases[i]
		sc.f = newFixture(t, text)
		sc.p = sc.f.project(t, sc.cols)
		for _, c := range sc.cols {
			sc.paths = append(sc.paths, c.Path)
		}
		for range n {
			var rec map[string]any
			if i == 0 {
				rec, _ = flat.Next()
			} else {
				rec, _ = grouped.Next()
			}
			sc.bodies = append(sc.bodies, sc.f.encode(t, rec))
		}
	}
	return cases
}

// BenchmarkProjection reads a model's columns from sensor readings, flat
// and grouped in nested records: straight from the body with a
// Projection, and as the scorer did before, decoding with goavro and
// reading each path from the record.
func BenchmarkProjection(b *testing.B) {
	for _, sc := range sensorCases(b, 256) {
		b.Run(sc.name+"/projection", func(b *testing.B) {
			b.ReportAllocs()
			vals := make([]avropath.Value, len(sc.cols))
			nums := make([]float64, 0, 16)
			i := 0
			for b.Loop() {
				var err error
				if nums, err = sc.p.Read(sc.bodies[i%len(sc.bodies)], vals, nums[:0]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(sc.name+"/goavro", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				native, _, err := sc.f.codec.NativeFromBinary(sc.bodies[i%len(sc.bodies)])
				if err != nil {
					b.Fatal(err)
				}
				rec := native.(map[string]any)
				for _, p := range sc.paths {
					if _, _, err := p.Read(rec); err != nil {
						b.Fatal(err)
					}
				}
				i++
			}
		})
	}
}

// fanOutSchema nests records depth deep, each of fanOut fields of the next
// record, in a nullable field beside the one a column reads: a schema of a
// few kilobytes whose records, laid out field by field, would be fanOut^depth
// instructions.
func fanOutSchema(fanOut, depth int) string {
	var def func(k int) string
	def = func(k int) string {
		var b strings.Builder
		fmt.Fprintf(&b, `{"type": "record", "name": "R%d", "fields": [`, k)
		for i := range fanOut {
			if i > 0 {
				b.WriteString(", ")
			}
			typ := fmt.Sprintf(`"R%d"`, k+1)
			switch {
			case k == depth:
				typ = `"string"`
			case i == 0:
				typ = def(k + 1)
			}
			fmt.Fprintf(&b, `{"name": "f%d", "type": %s}`, i, typ)
		}
		b.WriteString("]}")
		return b.String()
	}
	return `{"type": "record", "name": "Root", "fields": [{"name": "location", "type": ["null",
	  {"type": "record", "name": "Location", "fields": [{"name": "lat", "type": "double"}, {"name": "junk", "type": ` + def(1) + `}]}]}]}`
}

// TestProjectLaysOutAFanOutSchemaInBoundedMemory: a producer who can
// register a schema cannot make the scorer's projection of it large: a
// schema of records whose every field is a record again is laid out within
// a budget, its deeper records left to the walker, and its bodies still
// read right.
func TestProjectLaysOutAFanOutSchemaInBoundedMemory(t *testing.T) {
	s, err := avropath.ParseSchema(fanOutSchema(7, 9))
	if err != nil {
		t.Fatal(err)
	}
	cols := columns("location.lat")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	p, err := s.Project(cols)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatalf("Project: %v", err)
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 16<<20 {
		t.Fatalf("Project allocated %d bytes for a schema of %d", allocated, len(fanOutSchema(7, 9)))
	}
	vals := make([]avropath.Value, 1)
	if _, err := p.Read([]byte{0}, vals, nil); err != nil || vals[0].Kind != avropath.Absent {
		t.Fatalf("Read of a null location = %v, %v; want Absent", describe(vals[0], nil), err)
	}
	small := newFixture(t, fanOutSchema(2, 3))
	ps := small.project(t, cols)
	rec := map[string]any{"location": goavro.Union("Location", map[string]any{"lat": 52.5, "junk": fanOutValue(2, 3, 1)})}
	if d := small.disagreements(ps, cols, small.encode(t, rec)); len(d) > 0 {
		t.Fatalf("a small fan-out schema: %v", d)
	}
}

// fanOutValue is a value of record k of fanOutSchema(fanOut, depth).
func fanOutValue(fanOut, depth, k int) map[string]any {
	v := map[string]any{}
	for i := range fanOut {
		if k == depth {
			v[fmt.Sprintf("f%d", i)] = fmt.Sprintf("s%d", i)
		} else {
			v[fmt.Sprintf("f%d", i)] = fanOutValue(fanOut, depth, k+1)
		}
	}
	return v
}
