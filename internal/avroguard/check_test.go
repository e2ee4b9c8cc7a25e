package avroguard

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/linkedin/goavro/v2"

	"github.com/streamscore/streamscore/internal/testkit"
	"github.com/streamscore/streamscore/schemas"
)

func mustCompile(tb testing.TB, schema string) *Schema {
	tb.Helper()
	s, err := Compile(schema)
	if err != nil {
		tb.Fatalf("Compile: %v", err)
	}
	return s
}

// TestHostileRecordsRefused runs the project's catalogue of hostile records
// (internal/testkit) through the guard: each is refused with its class,
// and the reason names the field and the claim.
func TestHostileRecordsRefused(t *testing.T) {
	want := map[string]struct {
		class    error
		contains []string
	}{
		"array block claims 2^31-1 items":           {ErrMalformed, []string{"field arr:", "claims 2147483647 items of long", "1 bytes left"}},
		"map block claims 2^31-1 entries":           {ErrMalformed, []string{"field m:", "claims 2147483647 entries of null"}},
		"array of 20,000,000 nulls":                 {ErrOverBudget, []string{"field nulls:", "claims 20000000 items of null", "over the budget"}},
		"record nested 983500 deep":                 {ErrOverBudget, []string{"field chain.next.next", "nests 65 levels deep, over the limit of 64"}},
		"string claims 2^40 bytes":                  {ErrMalformed, []string{"field junk:", "claims 1099511627776 bytes"}},
		"negative string length":                    {ErrMalformed, []string{"field device_id:", "length is negative: -5"}},
		"int varint over 32 bits":                   {ErrMalformed, []string{"field rssi:", "varint runs past 5 bytes"}},
		"block count of -2^63":                      {ErrMalformed, []string{"field arr:", "cannot be negated"}},
		"union index out of range":                  {ErrMalformed, []string{"field battery_volts:", "union index 7 is out of range"}},
		"body ends inside a field":                  {ErrMalformed, []string{"field pressure: the body ends inside a double: it needs 8 bytes, 7 are left"}},
		"decimal scale 10^9":                        {ErrSchema, []string{"scale 1000000000 is over 1000"}},
		"record that contains itself on every path": {ErrSchema, []string{"record io.streamscore.sensors.Loop contains itself on every path"}},
	}
	for _, h := range testkit.HostileRecords(3, 983_500) {
		t.Run(h.Kind, func(t *testing.T) {
			w, ok := want[h.Kind]
			if !ok {
				t.Fatalf("no expectation for hostile kind %q", h.Kind)
			}
			s, err := Compile(h.Schema)
			if err == nil {
				_, err = s.Check(h.Body, Limits{})
			}
			if !errors.Is(err, w.class) {
				t.Fatalf("got %v, want an error of class %v", err, w.class)
			}
			for _, c := range w.contains {
				if !strings.Contains(err.Error(), c) {
					t.Errorf("error %q does not say %q", err, c)
				}
			}
		})
	}
}

// TestValidBodiesPass: every body goavro itself writes for the project's
// schemas and for generated ones passes, so the guard refuses nothing a
// real producer sends.
func TestValidBodiesPass(t *testing.T) {
	sensor := mustCompile(t, schemas.SensorReading)
	for i := range 200 {
		if _, err := sensor.Check(testkit.SensorBody(i%20), Limits{}); err != nil {
			t.Fatalf("sensor reading %d: %v", i, err)
		}
	}
	passed := 0
	for seed := range 5000 {
		c := testkit.GenerateAvro(testkit.Seed(seed))
		if c.Hostile {
			continue
		}
		s := mustCompile(t, c.Schema)
		codec, err := goavro.NewCodec(c.Schema)
		if err != nil {
			t.Fatalf("goavro refuses generated schema %s: %v", c.Schema, err)
		}
		if _, _, err := codec.NativeFromBinary(c.Body); err != nil {
			t.Fatalf("seed %d: the generator wrote a body goavro cannot read (%v): schema %s body %x", seed, err, c.Schema, c.Body)
		}
		if _, err := s.Check(c.Body, Limits{}); err != nil {
			t.Fatalf("seed %d: valid body refused: %v\nschema %s\nbody %x", seed, err, c.Schema, c.Body)
		}
		passed++
	}
	if passed < 1000 {
		t.Fatalf("only %d generated cases were benign: the generator is skewed", passed)
	}
}

// allocated returns the bytes the heap allocated while f ran.
func allocated(f func()) int64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc - before.TotalAlloc)
}

// TestCostCoversGoavro holds the guard's estimate of a decoded value above
// what goavro really allocates to decode it, for the shapes that cost the
// most per body byte and for thousands of generated ones: the budget is
// only a bound if the estimate is.
func TestCostCoversGoavro(t *testing.T) {
	rec := func(field string) string { return `{"type":"record","name":"R","fields":[` + field + `]}` }
	shapes := []struct {
		name, schema string
		value        map[string]any
	}{
		{"100 doubles", rec(fields(100, `"double"`)), values(100, 1.5)},
		{"100 nullable doubles", rec(fields(100, `["null","double"]`)), values(100, goavro.Union("double", 1.5))},
		{"100 nullable booleans", rec(fields(100, `["null","boolean"]`)), values(100, goavro.Union("boolean", true))},
		{"450 nullable ints", rec(fields(450, `["null","int"]`)), values(450, goavro.Union("int", int32(1000)))},
		{"1000 nullable ints", rec(fields(1000, `["null","int"]`)), values(1000, goavro.Union("int", int32(1000)))},
		{"1000 nullable strings", rec(fields(1000, `["null","string"]`)), values(1000, goavro.Union("string", "ab"))},
		{"10000 nulls", rec(`{"name":"a","type":{"type":"array","items":"null"}}`), map[string]any{"a": make([]any, 10000)}},
		{"10000 empty records", rec(`{"name":"a","type":{"type":"array","items":{"type":"record","name":"E","fields":[]}}}`), map[string]any{"a": repeat(10000, map[string]any{})}},
		{"10000 empty records in unions", rec(`{"name":"a","type":{"type":"array","items":["null",{"type":"record","name":"E","fields":[]}]}}`), map[string]any{"a": repeat(10000, goavro.Union("E", map[string]any{}))}},
		{"10000 empty strings", rec(`{"name":"a","type":{"type":"array","items":"string"}}`), map[string]any{"a": repeat(10000, "")}},
		{"10000 empty maps", rec(`{"name":"a","type":{"type":"array","items":{"type":"map","values":"long"}}}`), map[string]any{"a": repeat(10000, map[string]any{})}},
		{"10000 map entries", rec(`{"name":"a","type":{"type":"map","values":"null"}}`), map[string]any{"a": keys(10000)}},
		{"10000 longs", rec(`{"name":"a","type":{"type":"array","items":"long"}}`), map[string]any{"a": repeat(10000, int64(1<<40))}},
	}
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			codec, err := goavro.NewCodec(sh.schema)
			if err != nil {
				t.Fatal(err)
			}
			body, err := codec.BinaryFromNative(nil, sh.value)
			if err != nil {
				t.Fatal(err)
			}
			checkCost(t, mustCompile(t, sh.schema), codec, body)
		})
	}
	t.Run("generated", func(t *testing.T) {
		var ratios []float64
		for seed := range 2000 {
			c := testkit.GenerateAvro(testkit.Seed(seed))
			if c.Hostile {
				continue
			}
			codec, err := goavro.NewCodec(c.Schema)
			if err != nil {
				t.Fatal(err)
			}
			ratios = append(ratios, checkCost(t, mustCompile(t, c.Schema), codec, c.Body))
		}
		// Tight enough that a budget refuses only what is near it: an
		// estimate twice the truth would refuse records at half the limit.
		slices.Sort(ratios)
		if median := ratios[len(ratios)/2]; median > 1.4 {
			t.Errorf("the median estimate is %.2f times what goavro allocates", median)
		}
		if most := ratios[len(ratios)-1]; most > 2.5 {
			t.Errorf("an estimate is %.2f times what goavro allocates", most)
		}
	})
}

// checkCost decodes body with goavro, fails if it allocated more than the
// guard estimated (plus the few hundred bytes of goavro's own bookkeeping
// per call, which no body changes), and returns estimate/allocated.
func checkCost(t *testing.T, s *Schema, codec *goavro.Codec, body []byte) float64 {
	t.Helper()
	estimate, err := s.Check(body, Limits{BaseBytes: 1 << 40, MaxBytes: 1 << 40})
	if err != nil {
		t.Fatalf("guard refused a valid body: %v", err)
	}
	const rounds = 20
	got := allocated(func() {
		for range rounds {
			if _, _, err := codec.NativeFromBinary(body); err != nil {
				t.Fatal(err)
			}
		}
	}) / rounds
	if got > estimate+512 {
		t.Errorf("goavro allocated %d bytes for a %d-byte body; the guard estimated %d", got, len(body), estimate)
	}
	return float64(estimate) / float64(max(got, 1))
}

func fields(n int, typ string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`{"name":"f%d","type":%s}`, i, typ)
	}
	return strings.Join(parts, ",")
}

func values(n int, v any) map[string]any {
	m := make(map[string]any, n)
	for i := range n {
		m[fmt.Sprintf("f%d", i)] = v
	}
	return m
}

func repeat(n int, v any) []any {
	s := make([]any, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func keys(n int) map[string]any {
	m := make(map[string]any, n)
	for i := range n {
		m[fmt.Sprintf("key%d", i)] = nil
	}
	return m
}

// TestCompileRefuses: schemas no body can end, or whose decoding is
// unbounded, are refused at compile time, naming the type.
func TestCompileRefuses(t *testing.T) {
	for _, tc := range []struct{ name, schema, want string }{
		{"not a schema", `{"type":"record","name":"R","fields":[{"name":"a","type":"nope"}]}`, "nope"},
		{"self without end", `{"type":"record","name":"R","fields":[{"name":"me","type":"R"}]}`, "record R contains itself on every path"},
		{"mutual without end", `{"type":"record","name":"A","fields":[{"name":"b","type":{"type":"record","name":"B","fields":[{"name":"a","type":"A"}]}}]}`, "contains itself on every path"},
		{"union of selves", `{"type":"record","name":"R","fields":[{"name":"x","type":["R",{"type":"record","name":"S","fields":[{"name":"r","type":"R"}]}]}]}`, "contains itself on every path"},
		{"decimal scale", `{"type":"record","name":"R","fields":[{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":5000,"scale":2000}}]}`, "scale 2000 is over 1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.schema)
			if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrSchema saying %q", err, tc.want)
			}
		})
	}
	for _, ok := range []string{
		`{"type":"record","name":"List","fields":[{"name":"next","type":["null","List"]}]}`,
		`{"type":"record","name":"Tree","fields":[{"name":"kids","type":{"type":"array","items":"Tree"}}]}`,
		`{"type":"record","name":"M","fields":[{"name":"m","type":{"type":"map","values":"M"}}]}`,
		schemas.SensorReading, schemas.TextMessage,
	} {
		if _, err := Compile(ok); err != nil {
			t.Errorf("Compile refused a schema real bodies can satisfy: %v\n%s", err, ok)
		}
	}
}

// TestLimits: each limit is what refuses a body just over it and passes one
// at it.
func TestLimits(t *testing.T) {
	list := mustCompile(t, `{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]}]}`)
	chain := func(levels int) []byte {
		b := make([]byte, levels+1)
		for i := range levels {
			b[i] = 2
		}
		return b // the last byte is 0: null
	}
	if _, err := list.Check(chain(9), Limits{MaxDepth: 10}); err != nil {
		t.Errorf("10 levels with MaxDepth 10: %v", err)
	}
	if _, err := list.Check(chain(10), Limits{MaxDepth: 10}); !errors.Is(err, ErrOverBudget) {
		t.Errorf("11 levels with MaxDepth 10: got %v, want ErrOverBudget", err)
	}

	nulls := mustCompile(t, `{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"array","items":"null"}}]}`)
	body := func(n int64) []byte { return append(appendVarint(nil, n), 0) }
	// The record and its empty array are the schema's fixed cost, on top
	// of the budget; each null costs an item's slot. A byte for each of
	// the body's three bytes, so 1000 nulls are just within the budget
	// and one more is over.
	if got, want := nulls.FixedCost(), recordCost(1)+arrayCost; got != want {
		t.Fatalf("fixed cost %d, want %d", got, want)
	}
	l := Limits{BaseBytes: 1000 * itemCost, BytesPerByte: 1}
	if _, err := nulls.Check(body(1000), l); err != nil {
		t.Errorf("1000 nulls within the budget: %v", err)
	}
	if _, err := nulls.Check(body(1001), l); !errors.Is(err, ErrOverBudget) {
		t.Errorf("1001 nulls over the budget: got %v, want ErrOverBudget", err)
	}
}

func appendVarint(b []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}

// TestWideRecordsWithinBudget: a record's own width is the schema's doing,
// not the body's, so a record of a thousand nullable fields, 170 decoded
// bytes to each of its bytes, is within the default budget; a body that
// repeats a small record a thousand times in an array is not.
func TestWideRecordsWithinBudget(t *testing.T) {
	const n = 1000
	wide := `{"type":"record","name":"R","fields":[` + fields(n, `["null","int"]`) + `]}`
	codec, err := goavro.NewCodec(wide)
	if err != nil {
		t.Fatal(err)
	}
	body, err := codec.BinaryFromNative(nil, values(n, goavro.Union("int", int32(1000))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mustCompile(t, wide).Check(body, Limits{}); err != nil {
		t.Fatalf("a record of %d nullable ints (%d bytes): %v", n, len(body), err)
	}
	repeated := `{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"array","items":{"type":"record","name":"E","fields":[{"name":"x","type":["null",{"type":"record","name":"Z","fields":[]}]}]}}}]}`
	many := append(appendVarint(nil, 20_000), make([]byte, 0, 20_001)...)
	for range 20_000 {
		many = append(many, 2) // branch Z, an empty record: 1 byte, ~800 decoded
	}
	many = append(many, 0)
	if _, err := mustCompile(t, repeated).Check(many, Limits{}); !errors.Is(err, ErrOverBudget) {
		t.Fatalf("20,000 repeated records in 20 KB: got %v, want ErrOverBudget", err)
	}
}

// TestCheckAllocatesNothing: the walk is on every record's path, so a body
// that passes costs no allocation.
func TestCheckAllocatesNothing(t *testing.T) {
	s := mustCompile(t, schemas.SensorReading)
	body := testkit.SensorBody(1)
	if n := testing.AllocsPerRun(100, func() {
		if _, err := s.Check(body, Limits{}); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("Check allocated %v times per body", n)
	}
}

// BenchmarkCheck is the guard's cost on the hot path: one sensor reading,
// a flat record of 12 fields, walked per record.
func BenchmarkCheck(b *testing.B) {
	s := mustCompile(b, schemas.SensorReading)
	body := testkit.SensorBody(1)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := s.Check(body, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
