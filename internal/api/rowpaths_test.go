package api

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/fit"
)

// pathsSchema is the row schema of a gbdt reading features under the
// options' extra JSON (arrays, categorical).
func pathsSchema(t testing.TB, features, extra string) rowSchema {
	t.Helper()
	opts, err := fit.ParseOptions([]byte(`{"family": "gbdt", "label": "y", "features": ` + features + extra + `}`))
	if err != nil {
		t.Fatal(err)
	}
	return newRowSchema(opts)
}

// decodeOne decodes a body of one record by schema's paths, returning a
// copy of what was kept.
func decodeOne(t *testing.T, s rowSchema, body string) (map[string]any, error) {
	t.Helper()
	var got map[string]any
	err := decodeRecords(strings.NewReader(body), "rows", s.paths, func(_ int, rec map[string]any) error {
		got = map[string]any{}
		for k, v := range rec {
			got[k] = v
		}
		return nil
	})
	return got, err
}

// TestDecodeKeepsWhatPathsReach: a record keeps of a field only what a
// path reaches: the keys paths name, the items up to the last index a path
// reads or an array feature's length (and one more, which the feature
// refuses), a value at a path as it is, an object or array where a path
// ends as an empty one of its kind.
func TestDecodeKeepsWhatPathsReach(t *testing.T) {
	tests := []struct {
		name     string
		features string
		extra    string
		body     string
		want     map[string]any
	}{
		{"a map's key", `["attributes.firmware"]`, `, "categorical": {"attributes.firmware": {}}`,
			`[{"attributes": {"zone": "a", "firmware": "v2", "x": {"firmware": 1}}, "y": 1, "other": [1, 2]}]`,
			map[string]any{"attributes": map[string]any{"firmware": "v2"}, "y": "1"}},
		{"an item", `["window[1]"]`, ``,
			`[{"window": [{"a": 1}, 2.5, 3, 4, 5], "y": true}]`,
			map[string]any{"window": []any{nil, "2.5"}, "y": true}},
		{"a short array, items before the index not read", `["window[3]"]`, ``,
			`[{"window": [1], "y": 1}]`,
			map[string]any{"window": []any{nil}, "y": "1"}},
		{"an array feature", `["window"]`, `, "arrays": {"window": {"length": 3}}`,
			`[{"window": [1, [2], {"a": 3}], "y": 1}]`,
			map[string]any{"window": []any{"1", []any{}, map[string]any{}}, "y": "1"}},
		{"an array feature too long", `["window"]`, `, "arrays": {"window": {"length": 2}}`,
			`[{"window": [1, 2, 3, 4, 5], "y": 1}]`,
			map[string]any{"window": []any{"1", "2", nil}, "y": "1"}},
		{"an object where a number is read", `["temp"]`, ``,
			`[{"temp": {"celsius": 21.5}, "y": 1}]`,
			map[string]any{"temp": map[string]any{}, "y": "1"}},
		{"a string where a record is", `["location.lat", "location.lon"]`, ``,
			`[{"location": "Paris", "y": 1}]`,
			map[string]any{"location": "Paris", "y": "1"}},
		{"a key given twice", `["location.lat"]`, ``,
			`[{"location": {"lat": 1, "lat": 2}, "y": 1, "location": {"lat": 3}}]`,
			map[string]any{"location": map[string]any{"lat": "3"}, "y": "1"}},
		{"escaped keys and strings", `["m[\"k.é\"]"]`, `, "categorical": {"m[\"k.é\"]": {}}`,
			`[{"m": {"k.\u00e9": "a\"b\\u00e9\n", "k.e": "no"}, "y": null}]`,
			map[string]any{"m": map[string]any{"k.é": "a\"b\\u00e9\n"}, "y": nil}},
		{"space everywhere", `["a.b[1].c"]`, ``,
			"[ {\n \"a\" : { \"b\" : [ 0 , { \"c\" : -1.5e3 , \"d\" : [ ] } , 2 ] } , \"y\" : false } ]",
			map[string]any{"a": map[string]any{"b": []any{nil, map[string]any{"c": "-1.5e3"}}}, "y": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeOne(t, pathsSchema(t, tt.features, tt.extra), tt.body)
			if err != nil {
				t.Fatal(err)
			}
			// Numbers are json.Number; compare them as their text.
			if !reflect.DeepEqual(asText(got), tt.want) {
				t.Fatalf("kept %#v, want %#v", got, tt.want)
			}
		})
	}
}

// asText is v with every json.Number as its text.
func asText(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, inner := range x {
			out[k] = asText(inner)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, inner := range x {
			out[i] = asText(inner)
		}
		return out
	case interface{ String() string }:
		return x.String()
	}
	return v
}

// FuzzDecodeByPaths: what the decoder keeps of a record reads, at every
// path the model reads, as the record decoded whole does; where a path
// ends at an object or array, it reads as an empty one; an array feature's
// array is cut one item past its length.
func FuzzDecodeByPaths(f *testing.F) {
	for _, body := range []string{
		`{"a": {"b": 1, "c": [1, 2, 3, 4]}, "w": [1, 2], "w2": [], "m": {"x y": 2, "z": 3}, "y": 1}`,
		`{"a": null, "w": null, "w2": {"0": 1}, "m": [], "y": 1}`,
		`{"a": {"b": [1], "c": {"2": 1}}, "w": "x", "w2": [[1]], "m": {"x y": null}, "y": 1}`,
		`{"a": {"c": [1]}, "w": [1, 2, 3, 4], "w2": [null, 1], "y": 1}`,
		`{"a": 5, "w": {}, "w2": [{}], "m": 1, "y": 1, "a": {"b": "\u00e9\"", "b": 2}}`,
		`{"m": {"x\u0020y": "\ud800", "x y": {"k": "v"}}, "y": [1, {"y": 2}]}`,
	} {
		f.Add("[" + body + "]")
	}
	s := pathsSchema(f, `["a.b", "a.c[2]", "w", "w2[0]", "m[\"x y\"]"]`, `, "arrays": {"w": {"length": 3}}`)
	var paths []avropath.Path
	for _, ps := range []string{"a.b", "a.c[2]", "w", "w[1]", "w[3]", "w2[0]", `m["x y"]`, "y"} {
		p, err := avropath.Parse(ps)
		if err != nil {
			f.Fatal(err)
		}
		paths = append(paths, p)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var kept []map[string]any
		err := decodeRecords(strings.NewReader(body), "rows", s.paths, func(_ int, rec map[string]any) error {
			kept = append(kept, maps.Clone(rec))
			return nil
		})
		if err != nil {
			return
		}
		var whole []map[string]any
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&whole); err != nil {
			var wrapped struct{ Records []map[string]any }
			dec := json.NewDecoder(strings.NewReader(body))
			dec.UseNumber()
			if err := dec.Decode(&wrapped); err != nil {
				t.Fatalf("the decoder kept %v of a body encoding/json refuses: %v", kept, err)
			}
			whole = wrapped.Records
		}
		if len(whole) != len(kept) {
			t.Fatalf("kept %d records of %d", len(kept), len(whole))
		}
		for r := range whole {
			for _, p := range paths {
				v1, ok1, err1 := p.ReadJSON(kept[r])
				v2, ok2, err2 := p.ReadJSON(whole[r])
				switch x := v2.(type) {
				case map[string]any:
					v2 = map[string]any{}
				case []any:
					if p.String() != "w" {
						v2 = []any{}
					} else if len(x) > 3 {
						v2 = append(x[:3:3], nil)
					}
				}
				if p.String() == "w[3]" && ok2 {
					v2, ok2 = nil, false // cut
				}
				if ok1 != ok2 || (err1 == nil) != (err2 == nil) || !reflect.DeepEqual(v1, v2) {
					t.Fatalf("%s of %s: kept reads %v %v %v, whole %v %v %v", p, body, v1, ok1, err1, v2, ok2, err2)
				}
				if !ok1 && err1 == nil && p.String() != "w[3]" && p.MissingJSON(kept[r]) != p.MissingJSON(whole[r]) {
					t.Fatalf("%s of %s: kept is %s, whole %s", p, body, p.MissingJSON(kept[r]), p.MissingJSON(whole[r]))
				}
			}
		}
	})
}

// heapHeld is the heap still reachable after collecting the rest.
func heapHeld() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestNestedFieldsDecodedByPath is review 13's M6: a model reading
// window[0] or attributes.firmware decoded the whole field its path goes
// into, so a 30 MB array or map in one request took 965 MB or 399 MB of
// heap. Now the record held keeps what the paths reach, and reading the
// body allocates a few times its size at most.
//
// The bounds are ratios to the body's size, so a 7 MiB body proves what
// a 30 MiB one did, in a quarter of the time. Both sit just under a power
// of two: the JSON decoder's buffer grows to twice its capacity and a
// little more, so a body just over 8 MiB is held in a 16 MiB buffer.
func TestNestedFieldsDecodedByPath(t *testing.T) {
	const size = 7 << 20
	long := func(open, item func(b *bytes.Buffer, i int), close string) string {
		var b bytes.Buffer
		open(&b, 0)
		for i := 0; b.Len() < size; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			item(&b, i)
		}
		b.WriteString(close)
		return b.String()
	}
	window := long(func(b *bytes.Buffer, _ int) { b.WriteString(`[{"y": 1, "window": [`) },
		func(b *bytes.Buffer, _ int) { b.WriteByte('1') }, `]}]`)
	attributes := long(func(b *bytes.Buffer, _ int) { b.WriteString(`[{"y": 1, "attributes": {"firmware": "v2", `) },
		func(b *bytes.Buffer, i int) {
			b.WriteString(`"k`)
			b.WriteString(strconv.Itoa(i))
			b.WriteString(`": 1`)
		}, `}}]`)
	opts := `["window[0]", "attributes.firmware"]`
	cat := `, "categorical": {"attributes.firmware": {}}`
	tests := []struct {
		name     string
		features string
		extra    string
		body     string
		path     string
		want     any
	}{
		{"an array an index reads", opts, cat, window, "window[0]", "1"},
		{"a map a key reads", opts, cat, attributes, "attributes.firmware", "v2"},
		{"an array feature's array", `["window"]`, `, "arrays": {"window": {"length": 8}}`, window, "window[8]", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := pathsSchema(t, tt.features, tt.extra)
			p, err := avropath.Parse(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			body := []byte(tt.body)
			var before, after runtime.MemStats
			base := heapHeld()
			runtime.ReadMemStats(&before)
			var held uint64
			err = decodeRecords(bytes.NewReader(body), "rows", s.paths, func(_ int, rec map[string]any) error {
				held = heapHeld() - min(base, heapHeld())
				v, _, err := p.ReadJSON(rec)
				if err != nil || !reflect.DeepEqual(asText(v), tt.want) {
					t.Errorf("%s reads %v, %v; want %v", tt.path, v, err, tt.want)
				}
				return nil
			})
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("body %d MiB: %d MiB held with the record, %d MiB allocated", len(body)>>20, held>>20, allocated>>20)
			// The decoder buffers the field it reads (once the body's
			// size); decoded whole it held 30 times that.
			if held > uint64(len(body))*3/2 {
				t.Errorf("the record held %d MiB of heap for a %d MiB body", held>>20, len(body)>>20)
			}
			if allocated > uint64(len(body))*4 {
				t.Errorf("reading the record allocated %d MiB for a %d MiB body", allocated>>20, len(body)>>20)
			}
		})
	}
}
