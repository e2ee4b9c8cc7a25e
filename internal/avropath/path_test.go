package avropath_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/avropath"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in, canonical string
	}{
		{"temperature", "temperature"},
		{"_x9", "_x9"},
		{"location.lat", "location.lat"},
		{"a.b.c.d", "a.b.c.d"},
		{"attributes.firmware", "attributes.firmware"},
		{`attributes["firmware"]`, "attributes.firmware"},
		{`attributes["fw.version"]`, `attributes["fw.version"]`},
		{`attributes["a[0]"]`, `attributes["a[0]"]`},
		{`attributes["say \"hi\""]`, `attributes["say \"hi\""]`},
		{`attributes["\u00e9t\u00e9"]`, `attributes["été"]`},
		{`attributes["tab\there"]`, `attributes["tab\there"]`},
		{`attributes["\u0001"]`, `attributes["\u0001"]`},
		{`attributes["back\\slash"]`, `attributes["back\\slash"]`},
		{`attributes[""]`, `attributes[""]`},
		{`attributes["9lives"]`, `attributes["9lives"]`},
		{"window[0]", "window[0]"},
		{"window[3]", "window[3]"},
		{"grid[1][2]", "grid[1][2]"},
		{"device.sensors[10].value", "device.sensors[10].value"},
		{`m["k"][2]["j"].x`, "m.k[2].j.x"},
		{"window[65536]", "window[65536]"},
		{`m["\ud83d\ude00"]`, `m["😀"]`},
		{`m["\\ud800"]`, `m["\\ud800"]`},
		{"a" + strings.Repeat(".a", avropath.MaxSteps-1), "a" + strings.Repeat(".a", avropath.MaxSteps-1)},
		{"a" + strings.Repeat("b", avropath.MaxPathBytes-1), "a" + strings.Repeat("b", avropath.MaxPathBytes-1)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := avropath.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := p.String(); got != tt.canonical {
				t.Errorf("String() = %s; want %s", got, tt.canonical)
			}
			again, err := avropath.Parse(p.String())
			if err != nil {
				t.Fatalf("Parse(String()): %v", err)
			}
			if !reflect.DeepEqual(again, p) {
				t.Errorf("Parse(String()) = %#v; want %#v", again, p)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		in   string
		want string // fragment of the message, beside the offset
	}{
		{"", "offset 0: empty path"},
		{"9a", "offset 0: a path starts with a field name"},
		{".a", "offset 0: a path starts with a field name"},
		{"[0]", "offset 0: a path starts with a field name"},
		{`["a"]`, "offset 0: a path starts with a field name"},
		{"a.", "offset 2: want a field name"},
		{"a..b", "offset 2: want a field name"},
		{"a.9", "offset 2: want a field name"},
		{"a.b-c", "offset 3: unexpected '-'"},
		{"a b", "offset 1: unexpected ' '"},
		{"é", "offset 0"},
		{"a.é", "offset 2"},
		{"a[", "offset 2: want an index or a quoted key"},
		{"a[]", "offset 2: want an index or a quoted key"},
		{"a[-1]", "offset 2: want an index or a quoted key"},
		{"a[1", "offset 3: want ']'"},
		{"a[1x]", "offset 3: want ']'"},
		{"a[01]", "offset 2: an index has no leading zero"},
		{"a[65537]", "offset 2: an index is at most 65536"},
		// An index a record holds nothing at: a smoke record once grew an
		// array this long for it (review M1).
		{"w[2147483647]", "offset 2: an index is at most 65536"},
		{"w[10000000]", "offset 2: an index is at most 65536"},
		// Paths long or deep enough to exhaust memory or the stack in Put
		// (review M2).
		{"a" + strings.Repeat(".a", avropath.MaxSteps), "offset 127: a path has at most 64 steps"},
		{"a" + strings.Repeat("[0]", avropath.MaxSteps), "offset 190: a path has at most 64 steps"},
		{"a" + strings.Repeat("b", avropath.MaxPathBytes), "a path is at most 1024 bytes, and this one (\"abbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"...) is 1025"},
		{"a" + strings.Repeat(".a", 8_000_000), "a path is at most 1024 bytes"},
		// Lone surrogates, which json.Unmarshal would read as U+FFFD
		// (review S3).
		{`a["\ud800"]`, `offset 3: a \u escape of half a surrogate pair`},
		{`a["x\udc00"]`, `offset 4: a \u escape of half a surrogate pair`},
		{`a["\ud800\u0041"]`, `offset 3: a \u escape of half a surrogate pair`},
		{`a["\ud83d\ude00\ude00"]`, `offset 15: a \u escape of half a surrogate pair`},
		{"a[99999999999999999999]", "offset 2: an index is at most"},
		{`a["x`, "offset 2: unterminated quoted key"},
		{`a["x\"]`, "offset 2: unterminated quoted key"},
		{`a["x"`, "offset 5: want ']'"},
		{`a["\q"]`, "offset 2: a quoted key is a JSON string"},
		{"a[\"\x01\"]", "offset 2: a quoted key is a JSON string"},
		{"a[\"\xff\"]", "offset 2: a quoted key must be valid UTF-8"},
		{`a['x']`, "offset 2: want an index or a quoted key"},
		{"a]", "offset 1: unexpected ']'"},
		{"a.b.", "offset 4: want a field name"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := avropath.Parse(tt.in)
			if !errors.Is(err, avropath.ErrSyntax) {
				t.Fatalf("Parse(%q) = %v; want ErrSyntax", tt.in, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) = %q; want it to say %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestRoot(t *testing.T) {
	for in, want := range map[string]string{"a": "a", "a.b": "a", "w[3]": "w", `m["x.y"].z`: "m"} {
		p := mustParse(t, in)
		if got := p.Root(); got != want {
			t.Errorf("%s: Root() = %q; want %q", in, got, want)
		}
		if got := p.Flat(); got != (in == want) {
			t.Errorf("%s: Flat() = %v", in, got)
		}
	}
	if (avropath.Path{}).Root() != "" || !(avropath.Path{}).IsZero() {
		t.Error("the zero Path has a root")
	}
}

// record is a decoded record in goavro's native form, with every shape a
// path passes through.
func record() map[string]any {
	return map[string]any{
		"temperature": 21.5,
		"count":       int64(7),
		"ok":          true,
		"ts":          time.UnixMilli(1_700_000_000_000).UTC(),
		"site":        "ams-03",
		"location":    map[string]any{"lat": 52.37, "lon": 4.9, "floor": map[string]any{"int": int32(3)}},
		"device": map[string]any{
			"model":    "X100",
			"battery":  nil,
			"firmware": map[string]any{"string": "2.4.1"},
		},
		// A nullable record: ["null", io.x.Place].
		"place":      map[string]any{"io.x.Place": map[string]any{"name": "dock", "depth": map[string]any{"double": 4.5}}},
		"no_place":   nil,
		"attributes": map[string]any{"zone": "A", "fw.version": "1.2", "owner": "ops"},
		"one_attr":   map[string]any{"zone": "B"},
		"window":     []any{0.5, 0.25, 0.125},
		"opt_window": map[string]any{"array": []any{1.5, map[string]any{"double": 2.5}, nil}},
		"grid":       []any{[]any{1.0, 2.0}, []any{3.0}},
		"points":     []any{map[string]any{"x": 1.0}, map[string]any{"x": 2.0}},
		"ts_opt":     map[string]any{"long.timestamp-millis": time.UnixMilli(5).UTC()},
		"nothing":    map[string]any{"null": nil},
		"weird":      map[string]any{"a key": 1.0},
	}
}

func TestRead(t *testing.T) {
	tests := []struct {
		path    string
		want    any
		present bool
		missing string // Missing's words, when absent
	}{
		{path: "temperature", want: 21.5, present: true},
		{path: "count", want: int64(7), present: true},
		{path: "ok", want: true, present: true},
		{path: "ts", want: time.UnixMilli(1_700_000_000_000).UTC(), present: true},
		{path: "site", want: "ams-03", present: true},
		{path: "location.lat", want: 52.37, present: true},
		{path: "location.floor", want: int32(3), present: true},
		{path: "device.model", want: "X100", present: true},
		{path: "device.firmware", want: "2.4.1", present: true},
		{path: "device.battery", missing: "null"},
		{path: "device.absent", missing: "absent"},
		{path: "place.name", want: "dock", present: true},
		{path: "place.depth", want: 4.5, present: true},
		{path: "no_place.name", missing: "null at no_place"},
		{path: "no_place.depth", missing: "null at no_place"},
		{path: "attributes.zone", want: "A", present: true},
		{path: `attributes["fw.version"]`, want: "1.2", present: true},
		{path: "attributes.missing", missing: "absent"},
		{path: "one_attr.zone", want: "B", present: true},
		// A one-entry map lacking the key is not taken for a union.
		{path: "one_attr.owner", missing: "absent"},
		{path: "window[0]", want: 0.5, present: true},
		{path: "window[2]", want: 0.125, present: true},
		{path: "window[3]", missing: "absent: window has 3 items"},
		{path: "window", want: []any{0.5, 0.25, 0.125}, present: true},
		{path: "opt_window[0]", want: 1.5, present: true},
		{path: "opt_window[1]", want: 2.5, present: true},
		{path: "opt_window[2]", missing: "null"},
		{path: "grid[1][0]", want: 3.0, present: true},
		{path: "grid[1][1]", missing: "absent: grid[1] has 1 items"},
		{path: "points[1].x", want: 2.0, present: true},
		{path: "points[2].x", missing: "absent at points[2]: points has 2 items"},
		{path: "ts_opt", want: time.UnixMilli(5).UTC(), present: true},
		{path: "nothing", missing: "null"},
		{path: "absent", missing: "absent"},
		{path: "absent.deeper", missing: "absent at absent"},
		{path: `weird["a key"]`, want: 1.0, present: true},
		// Without the schema, a union of a scalar is a map of one entry:
		// a step into it finds no such key (Resolve refuses the path).
		{path: "ts_opt.x", missing: "absent"},
	}
	rec := record()
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p := mustParse(t, tt.path)
			got, present, err := p.Read(rec)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if present != tt.present || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Read = %#v, %v; want %#v, %v", got, present, tt.want, tt.present)
			}
			if !present {
				if m := p.Missing(rec); m != tt.missing {
					t.Errorf("Missing = %q; want %q", m, tt.missing)
				}
			}
		})
	}
}

func TestReadRefusesShape(t *testing.T) {
	tests := []struct {
		path, want string
	}{
		{"temperature.x", "temperature.x: temperature is a double, not a record or map"},
		{"site.x", "site.x: site is a string or enum, not a record or map"},
		{"temperature[0]", "temperature[0]: temperature is a double, not an array"},
		{"location[0]", "location[0]: location is a record or map, not an array"},
		{"window.x", "window.x: window is an array, not a record or map"},
		{"window[0].x", "window[0].x: window[0] is a double, not a record or map"},
		{"grid[0][0][0]", "grid[0][0][0]: grid[0][0] is a double, not an array"},
		{"place[0]", "place[0]: place is a record or map, not an array"},
	}
	rec := record()
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			_, present, err := mustParse(t, tt.path).Read(rec)
			if !errors.Is(err, avropath.ErrShape) || present {
				t.Fatalf("Read = %v, %v; want ErrShape", present, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Read: %q; want it to say %q", err, tt.want)
			}
		})
	}
}

func TestPut(t *testing.T) {
	rec := map[string]any{}
	puts := map[string]any{
		"a":             1.0,
		"b.c":           2.0,
		"b.d":           "x",
		`m["k.j"]`:      "v",
		"w[2]":          3.0,
		"pts[1].x":      4.0,
		"grid[1][1]":    5.0,
		"deep.er.est.x": true,
	}
	for path, v := range puts {
		if err := mustParse(t, path).Put(rec, v); err != nil {
			t.Fatalf("Put %s: %v", path, err)
		}
	}
	for path, v := range puts {
		got, present, err := mustParse(t, path).Read(rec)
		if err != nil || !present || !reflect.DeepEqual(got, v) {
			t.Errorf("Read %s after Put = %v, %v, %v; want %v", path, got, present, err, v)
		}
	}
	if got, _, _ := mustParse(t, "w").Read(rec); !reflect.DeepEqual(got, []any{nil, nil, 3.0}) {
		t.Errorf("w = %#v; want two nulls before 3", got)
	}
	if err := mustParse(t, "a.x").Put(rec, 1.0); !errors.Is(err, avropath.ErrShape) {
		t.Errorf("Put through a number = %v; want ErrShape", err)
	}
	if err := mustParse(t, "b[0]").Put(rec, 1.0); !errors.Is(err, avropath.ErrShape) {
		t.Errorf("Put an index into a record = %v; want ErrShape", err)
	}
	if err := (avropath.Path{}).Put(rec, 1.0); !errors.Is(err, avropath.ErrShape) {
		t.Errorf("Put at the zero path = %v; want ErrShape", err)
	}
}

// TestPutBounds puts at the deepest path and the largest index Parse
// takes: Put walks without recursion, and grows an array only as far as
// the index (review M1, M2).
func TestPutBounds(t *testing.T) {
	deep := "a" + strings.Repeat(".a", avropath.MaxSteps-2) + "[3]"
	rec := map[string]any{}
	if err := mustParse(t, deep).Put(rec, 1.0); err != nil {
		t.Fatalf("Put %s: %v", deep, err)
	}
	if got, present, err := mustParse(t, deep).Read(rec); err != nil || !present || got != 1.0 {
		t.Errorf("Read after Put = %v, %v, %v", got, present, err)
	}
	wide := fmt.Sprintf("w[%d]", avropath.MaxIndex)
	if err := mustParse(t, wide).Put(rec, 2.0); err != nil {
		t.Fatalf("Put %s: %v", wide, err)
	}
	if n := len(rec["w"].([]any)); n != avropath.MaxIndex+1 {
		t.Errorf("w has %d items; want %d", n, avropath.MaxIndex+1)
	}
	// Growth counts the items Put adds, and Put adds them.
	rec = map[string]any{"w": []any{1.0, 2.0}}
	for _, tt := range []struct {
		path string
		want int
	}{
		{"w[1]", 0}, {"w[4]", 3}, {"v[4]", 5}, {"v[1][2]", 2 + 3}, {"m.x[0].y[1]", 1 + 2}, {"w.x", 0}, {"w[0][1]", 0},
	} {
		p := mustParse(t, tt.path)
		if got := p.Growth(rec); got != tt.want {
			t.Errorf("Growth %s = %d; want %d", tt.path, got, tt.want)
		}
	}
	p := mustParse(t, "w[4]")
	_ = p.Put(rec, 5.0)
	if n := len(rec["w"].([]any)); n != 5 || p.Growth(rec) != 0 {
		t.Errorf("after Put w[4], w has %d items and Growth is %d", n, p.Growth(rec))
	}

	// A failure halfway leaves the record as it was.
	rec = map[string]any{"b": map[string]any{"c": 1.0}}
	if err := mustParse(t, "b.x[2].c.d").Put(rec, 1.0); err != nil {
		t.Fatal(err)
	}
	if err := mustParse(t, "b.x[1].y.z").Put(rec, 1.0); err != nil {
		t.Fatal(err)
	}
	before := fmt.Sprint(rec)
	for _, path := range []string{"b.c.z", "b.x[2].c.d.e", "b.x.y", "b[0]"} {
		if err := mustParse(t, path).Put(rec, 1.0); !errors.Is(err, avropath.ErrShape) {
			t.Errorf("Put %s = %v; want ErrShape", path, err)
		}
		if after := fmt.Sprint(rec); after != before {
			t.Errorf("Put %s changed the record:\n%s\nto\n%s", path, before, after)
		}
	}
}

func TestKind(t *testing.T) {
	tests := map[string]any{
		"null": nil, "a boolean": true, "an int": int32(1), "a long": int64(1), "an integer": 1,
		"a float": float32(1), "a double": 1.0, "a string or enum": "s", "bytes or fixed": []byte{1},
		"an array": []any{}, "a record or map": map[string]any{}, "a timestamp or date": time.Time{},
		"a time": time.Second, "a value of type uint8": uint8(1),
	}
	for want, v := range tests {
		if got := avropath.Kind(v); got != want {
			t.Errorf("Kind(%#v) = %q; want %q", v, got, want)
		}
	}
}

// TestReadRootIsNoUnion reads a field a record of one field lacks: the
// record is never taken for a union wrapper around its one field.
func TestReadRootIsNoUnion(t *testing.T) {
	rec := map[string]any{"location": map[string]any{"lat": 1.5, "x": map[string]any{"y": 2.0}}}
	for _, path := range []string{"lat", "lat.x", "x.y", "lat[0]"} {
		p := mustParse(t, path)
		v, present, err := p.Read(rec)
		if err != nil || present {
			t.Errorf("Read %s = %v, %v, %v; want absent", path, v, present, err)
		}
		if m := p.Missing(rec); !strings.HasPrefix(m, "absent") {
			t.Errorf("Missing %s = %q; want absent", path, m)
		}
	}
}

// TestReadJSON reads plain JSON objects, in which a one-entry object is an
// object and never a union wrapper.
func TestReadJSON(t *testing.T) {
	obj := map[string]any{
		"temp":     map[string]any{"celsius": 21.5},
		"location": map[string]any{"foo": map[string]any{"lat": 5.0}},
		"one":      map[string]any{"double": 1.5},
		"window":   []any{0.5, map[string]any{"double": 2.5}},
		"wrapped":  map[string]any{"array": []any{1.0}},
		"nested":   map[string]any{"a": map[string]any{"b": 3.0}},
		"nothing":  nil,
	}
	tests := []struct {
		path    string
		want    any
		present bool
		missing string
	}{
		{path: "temp", want: map[string]any{"celsius": 21.5}, present: true},
		{path: "temp.celsius", want: 21.5, present: true},
		{path: "location.lat", missing: "absent"},
		{path: "location.foo.lat", want: 5.0, present: true},
		{path: "one", want: map[string]any{"double": 1.5}, present: true},
		{path: "one.x", missing: "absent"},
		{path: "window[0]", want: 0.5, present: true},
		{path: "window[1]", want: map[string]any{"double": 2.5}, present: true},
		{path: "window[2]", missing: "absent: window has 2 items"},
		{path: "nested.a.b", want: 3.0, present: true},
		{path: "nested.a.c", missing: "absent"},
		{path: "nothing.x", missing: "null at nothing"},
		{path: "absent.x", missing: "absent at absent"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p := mustParse(t, tt.path)
			got, present, err := p.ReadJSON(obj)
			if err != nil {
				t.Fatalf("ReadJSON: %v", err)
			}
			if present != tt.present || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ReadJSON = %#v, %v; want %#v, %v", got, present, tt.want, tt.present)
			}
			if !present {
				if m := p.MissingJSON(obj); m != tt.missing {
					t.Errorf("MissingJSON = %q; want %q", m, tt.missing)
				}
			}
		})
	}
	// A union wrapper around an array is an object where the path wants an
	// array.
	if _, _, err := mustParse(t, "wrapped[0]").ReadJSON(obj); !errors.Is(err, avropath.ErrShape) {
		t.Errorf("ReadJSON wrapped[0] = %v; want ErrShape", err)
	}
}

// mustParse parses a path a test knows to be valid.
func mustParse(t testing.TB, s string) avropath.Path {
	t.Helper()
	p, err := avropath.Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return p
}
