package avropath_test

import (
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"

	"github.com/streamscore/streamscore/internal/avroguard"
	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/testkit"
)

// FuzzProject reads projColumns from arbitrary bodies of projSchema. For
// every body the guard passes: Read succeeds exactly when goavro decodes
// the body to its end, and then reads every column as Path.Read finds it
// in goavro's record.
func FuzzProject(f *testing.F) {
	fx := newFixture(f, projSchema)
	p := fx.project(f, projColumns)
	for _, rec := range projSeeds() {
		body := fx.encode(f, rec)
		f.Add(body)
		// A few mutations: a byte more, a byte less, a byte changed
		// where the read fields begin.
		f.Add(append(body[:len(body):len(body)], 0))
		f.Add(body[:len(body)-1])
		bent := append([]byte{}, body...)
		bent[len(bent)/2] ^= 0x41
		f.Add(bent)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, err := fx.guard.Check(body, avroguard.Limits{}); err != nil {
			return
		}
		if ds := fx.disagreements(p, projColumns, body); len(ds) > 0 {
			t.Fatalf("%s\nbody %x", strings.Join(ds, "\n"), body)
		}
	})
}

// projSeeds are records of projSchema of several shapes: every value
// present, every nullable one null, each kind of branch of the wide union,
// empty and long arrays and maps.
func projSeeds() []map[string]any {
	u := goavro.Union
	return []map[string]any{
		projRecord(),
		with(map[string]any{
			"prev": nil, "home": nil, "work": nil, "mixed": nil, "wide": nil, "limits": nil,
			"counts": nil, "chain": nil, "tail_choice": nil,
			"location": map[string]any{"lat": 0.0, "floor": nil, "zone": nil, "inner": nil},
		}),
		with(map[string]any{"mixed": u("string", "m"), "wide": u("io.proj.Place", map[string]any{"depth": 1.0, "label": "w"})}),
		with(map[string]any{"wide": u("array", []any{1.0}), "tail_choice": u("string", "s")}),
		with(map[string]any{"wide": u("map", map[string]any{"k": int32(1)})}),
		with(map[string]any{"wide": u("bytes.decimal", big.NewRat(3, 2))}),
		with(map[string]any{"wide": u("int.date", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))}),
		with(map[string]any{"wide": u("boolean", true), "mixed": u("int", int32(-1))}),
		with(map[string]any{
			"attributes": map[string]any{}, "gauges": map[string]any{}, "series": map[string]any{},
			"window": []any{}, "flags": []any{}, "floats": []any{}, "longs": []any{}, "grid": []any{},
			"maybe": []any{}, "coords": []any{}, "places": map[string]any{}, "points": []any{},
		}),
		with(map[string]any{
			"window": []any{1.0, 2.0, 3.0, 4.0, 5.0, 6.0},
			"grid":   []any{[]any{}, []any{1.0, 2.0}, []any{3.0}},
			"series": map[string]any{"s": []any{1.0, 2.0, 3.0}, "x": []any{4.0}},
			"gauges": map[string]any{"g": nil, "h": u("double", 2.0), "i": u("double", 3.0)},
		}),
	}
}

// FuzzProjectGenerated is FuzzProject over schemas of every Avro type:
// each input drives testkit.GenerateAvro to a schema and a body; the
// columns are every path into the schema (a few levels deep, a few indexes
// and keys) that Project accepts alone. Project must accept them together,
// and on every body the guard passes, Read must agree with goavro as in
// FuzzProject.
func FuzzProjectGenerated(f *testing.F) {
	for seed := range 64 {
		f.Add(testkit.Seed(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := testkit.GenerateAvro(data)
		codec, err := goavro.NewCodec(c.Schema)
		if err != nil {
			return // the guard's fuzz target holds the generator to goavro
		}
		guard, err := avroguard.Compile(c.Schema)
		if err != nil {
			return
		}
		schema, err := avropath.ParseSchema(c.Schema)
		if err != nil {
			t.Fatalf("ParseSchema refuses a schema goavro takes: %v\n%s", err, c.Schema)
		}
		cols := projectableColumns(schema, c.Schema)
		p, err := schema.Project(cols)
		if err != nil {
			t.Fatalf("Project refuses columns it takes one by one: %v\n%s", err, c.Schema)
		}
		if _, err := guard.Check(c.Body, avroguard.Limits{}); err != nil {
			return
		}
		fx := &fixture{codec: codec, guard: guard, schema: schema}
		if ds := fx.disagreements(p, cols, c.Body); len(ds) > 0 {
			t.Fatalf("%s\nschema %s\nbody %x", strings.Join(ds, "\n"), c.Schema, c.Body)
		}
	})
}

// projectableColumns lists the columns, whole-array or not, on paths into
// a schema's JSON text that Project accepts one at a time; it checks that
// every one it refuses is refused as ErrNotProjectable.
func projectableColumns(s *avropath.Schema, text string) []avropath.Column {
	var cols []avropath.Column
	for _, path := range schemaPaths(text) {
		p, err := avropath.Parse(path)
		if err != nil {
			continue // a key or name that needs quoting: not generated
		}
		for _, array := range []bool{false, true} {
			col := avropath.Column{Path: p, Array: array}
			if _, err := s.Project([]avropath.Column{col}); err == nil {
				cols = append(cols, col)
			} else if !errors.Is(err, avropath.ErrNotProjectable) {
				panic("Project fails without ErrNotProjectable: " + err.Error())
			}
		}
	}
	return cols
}

// schemaPaths walks a schema's JSON text and returns paths into it: every
// field, indexes 0, 1 and 3 of arrays, keys k0, k1 (which GenerateAvro
// writes) and zz (which it does not) of maps, through unions and named
// references, at most a few steps deep.
func schemaPaths(text string) []string {
	var root any
	if err := json.Unmarshal([]byte(text), &root); err != nil {
		return nil
	}
	named := map[string]any{}
	var define func(t any)
	define = func(t any) {
		switch x := t.(type) {
		case []any:
			for _, b := range x {
				define(b)
			}
		case map[string]any:
			if name, ok := x["name"].(string); ok && x["type"] != nil {
				named[name] = x
			}
			for _, k := range []string{"type", "items", "values"} {
				define(x[k])
			}
			if fields, ok := x["fields"].([]any); ok {
				for _, fl := range fields {
					define(fl)
				}
			}
		}
	}
	define(root)

	const maxSteps, maxPaths = 5, 160
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if !seen[p] && len(out) < maxPaths {
			seen[p] = true
			out = append(out, p)
		}
	}
	var walk func(t any, prefix string, steps int)
	walk = func(t any, prefix string, steps int) {
		if steps >= maxSteps || len(out) >= maxPaths {
			return
		}
		switch x := t.(type) {
		case string:
			if def, ok := named[x]; ok {
				walk(def, prefix, steps)
			}
		case []any:
			for _, b := range x {
				walk(b, prefix, steps)
			}
		case map[string]any:
			switch x["type"] {
			case "record":
				fields, _ := x["fields"].([]any)
				for _, fl := range fields {
					fm, _ := fl.(map[string]any)
					name, _ := fm["name"].(string)
					p := name
					if prefix != "" {
						p = prefix + "." + name
					}
					add(p)
					walk(fm["type"], p, steps+1)
				}
			case "array":
				for _, i := range []string{"[0]", "[1]", "[3]"} {
					add(prefix + i)
				}
				walk(x["items"], prefix+"[0]", steps+1)
				walk(x["items"], prefix+"[1]", steps+1)
			case "map":
				for _, k := range []string{".k0", ".k1", ".zz"} {
					add(prefix + k)
				}
				walk(x["values"], prefix+".k0", steps+1)
				walk(x["values"], prefix+".k1", steps+1)
			default: // a primitive, enum or fixed, or {"type": T}
				walk(x["type"], prefix, steps)
			}
		}
	}
	walk(root, "", 0)
	return out
}
