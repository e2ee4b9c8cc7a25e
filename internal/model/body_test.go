package model_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"

	"github.com/streamscore/streamscore/internal/avroguard"
	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/model"
)

// bodySchema has a field of every kind a feature reads from a body, and
// fields no feature reads, of the kinds a projection skips.
const bodySchema = `{
  "type": "record", "name": "Reading", "namespace": "io.fleet",
  "fields": [
    {"name": "id", "type": "string"},
    {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "day", "type": {"type": "int", "logicalType": "date"}},
    {"name": "temp", "type": "double"},
    {"name": "hum", "type": "float"},
    {"name": "rssi", "type": "int"},
    {"name": "uptime", "type": "long"},
    {"name": "on", "type": "boolean"},
    {"name": "flag", "type": "boolean"},
    {"name": "site", "type": "string"},
    {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["OK", "WARN", "FAIL"]}},
    {"name": "level", "type": "int"},
    {"name": "raw", "type": "bytes"},
    {"name": "loc", "type": {"type": "record", "name": "Location", "fields": [
      {"name": "lat", "type": "double"}, {"name": "lon", "type": "double"}]}},
    {"name": "power", "type": ["null", {"type": "record", "name": "Power", "fields": [
      {"name": "volts", "type": "double"}]}], "default": null},
    {"name": "opt", "type": ["null", "double"], "default": null},
    {"name": "window", "type": {"type": "array", "items": "double"}},
    {"name": "attrs", "type": {"type": "map", "values": "double"}},
    {"name": "note", "type": ["null", "string"], "default": null}
  ]
}`

// bodyFeatures reads every field of bodySchema that a model reads from a
// body: numbers, nested and nullable ones with defaults, a whole array and
// an item, a map value, categories of a string, an enum, an int and a
// boolean, a timestamp and its parts.
func bodyFeatures(unknown string) []model.Feature {
	return []model.Feature{
		{Field: "temp"}, {Field: "hum"}, {Field: "rssi"}, {Field: "uptime"}, {Field: "on"},
		{Field: "loc.lat"}, {Field: "loc.lon"},
		{Field: "power.volts", Default: ptr(-1)},
		{Field: "opt", Default: ptr(-2)},
		{Field: "window", Length: 4, Pad: ptr(0)},
		{Field: "window[1]", Default: ptr(-3)},
		{Field: "attrs.fw", Default: ptr(-4)},
		{Field: "site", Categories: cats("ams", "ber"), Unknown: unknown},
		{Field: "status", Categories: cats("OK", "WARN")},
		{Field: "level", Categories: cats("1", "2")},
		{Field: "flag", Categories: cats("true")},
		{Field: "note", Categories: cats("x")},
		{Field: "ts"}, {Field: "ts", Part: model.HourOfDay}, {Field: "ts", Part: model.DayOfWeek},
	}
}

// bodyModel is the identity model over features: its scores are the very
// row a batch fed it.
func bodyModel(t testing.TB, features []model.Feature) *model.Model {
	t.Helper()
	spec := identitySpec(make([]string, 1)...)
	spec.Inputs[0].Fields = features
	width := spec.Inputs[0].Width()
	spec.Labels = nil
	for i := range width {
		spec.Labels = append(spec.Labels, fmt.Sprintf("c%d", i))
	}
	return load(t, encode(t, identityGraph(int64(width)), &spec), model.Options{MaxBatch: 64})
}

// randomReading is a record of bodySchema: nulls, short and long
// windows, missing map keys, unknown categories, all drawn by rng.
func randomReading(rng *rand.Rand) map[string]any {
	pick := func(vs ...string) string { return vs[rng.IntN(len(vs))] }
	rec := map[string]any{
		"id": fmt.Sprintf("dev-%d", rng.IntN(100)), "ts": time.UnixMilli(rng.Int64N(1<<42) - 1<<41).UTC(),
		"day":  time.Date(1970, 1, 1+rng.IntN(20000), 0, 0, 0, 0, time.UTC),
		"temp": rng.NormFloat64() * 10, "hum": float32(rng.Float64() * 100),
		"rssi": int32(-rng.IntN(120)), "uptime": rng.Int64N(1 << 40), "on": rng.IntN(2) == 0,
		"flag": rng.IntN(2) == 0,
		"site": pick("ams", "ber", "cdg", ""), "status": pick("OK", "WARN", "FAIL"),
		"level": int32(rng.IntN(4)), "raw": []byte(pick("", "\x00\x01", "raw")),
		"loc":   map[string]any{"lat": rng.Float64()*180 - 90, "lon": rng.Float64()*360 - 180},
		"power": nil, "opt": nil, "note": nil,
		"window": []any{}, "attrs": map[string]any{},
	}
	if rng.IntN(2) == 0 {
		rec["power"] = goavro.Union("io.fleet.Power", map[string]any{"volts": 3 + rng.Float64()})
	}
	if rng.IntN(2) == 0 {
		rec["opt"] = goavro.Union("double", rng.NormFloat64())
	}
	if rng.IntN(2) == 0 {
		rec["note"] = goavro.Union("string", pick("x", "y"))
	}
	window := make([]any, rng.IntN(5))
	for i := range window {
		window[i] = rng.NormFloat64()
	}
	rec["window"] = window
	for _, k := range []string{"fw", "hw", "x"} {
		if rng.IntN(2) == 0 {
			rec["attrs"].(map[string]any)[k] = rng.Float64()
		}
	}
	return rec
}

// bodyFixture is bodySchema compiled every way the scorer uses it.
type bodyFixture struct {
	codec *goavro.Codec
	guard *avroguard.Schema
	tree  *avropath.Schema
}

func newBodyFixture(t testing.TB) bodyFixture {
	t.Helper()
	codec, err := goavro.NewCodec(bodySchema)
	if err != nil {
		t.Fatal(err)
	}
	guard, err := avroguard.Compile(bodySchema)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := avropath.ParseSchema(bodySchema)
	if err != nil {
		t.Fatal(err)
	}
	return bodyFixture{codec, guard, tree}
}

// decode is goavro's decoding of a body the test made.
func (fx bodyFixture) decode(t testing.TB, body []byte) map[string]any {
	t.Helper()
	native, _, err := fx.codec.NativeFromBinary(body)
	if err != nil {
		t.Fatal(err)
	}
	return native.(map[string]any)
}

// scores runs b and returns a copy of every row's scores: the rows it was
// fed, through the identity model.
func scores(t testing.TB, m *model.Model, b *model.Batch) [][]float32 {
	t.Helper()
	res, err := m.Run(b)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	out := make([][]float32, len(res))
	for i, r := range res {
		out[i] = slices.Clone(r.Scores)
	}
	return out
}

// sameBits compares rows bit for bit, so NaN equals NaN and 0 is not -0.
func sameBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// TestAddBodyTakesEveryCleanRecordAsAddDoes: on records with nulls,
// defaults, short arrays, missing keys and unknown categories, all of
// which map, AddBody takes every record straight from its body (the
// scorer's fast path is never skipped for a record that maps) and feeds
// the model the very row Add feeds it from goavro's decoding.
func TestAddBodyTakesEveryCleanRecordAsAddDoes(t *testing.T) {
	fx := newBodyFixture(t)
	m := bodyModel(t, bodyFeatures(model.UnknownOther))
	fromBody, fromRecord := newBatch(t, m), newBatch(t, m)
	rng := rand.New(rand.NewPCG(7, 13))
	for round := range 8 {
		fromBody.Reset()
		fromRecord.Reset()
		for range 64 {
			rec := randomReading(rng)
			body, err := fx.codec.BinaryFromNative(nil, rec)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fx.guard.Check(body, avroguard.Limits{}); err != nil {
				t.Fatal(err)
			}
			if !fromBody.AddBody(fx.tree, body) {
				t.Fatalf("round %d: AddBody declined a record Add maps: %v", round, rec)
			}
			native := fx.decode(t, body)
			if err := fromRecord.Add(native); err != nil {
				t.Fatalf("round %d: Add: %v", round, err)
			}
		}
		got, want := scores(t, m, fromBody), scores(t, m, fromRecord)
		for i := range want {
			if !sameBits(got[i], want[i]) {
				t.Fatalf("round %d row %d: AddBody fed %v, Add %v", round, i, got[i], want[i])
			}
		}
	}
}

// TestAddBodyLeavesToAddWhatAddRefuses: a record that cannot be scored is
// never refused by AddBody: it declines, leaving the batch as it was, and
// Add gives the reason.
func TestAddBodyLeavesToAddWhatAddRefuses(t *testing.T) {
	fx := newBodyFixture(t)
	tests := []struct {
		name    string
		unknown string
		change  func(map[string]any)
		want    error
	}{
		{"a NaN", model.UnknownOther, func(r map[string]any) { r["temp"] = math.NaN() }, model.ErrNonFinite},
		{"an infinite float", model.UnknownOther, func(r map[string]any) { r["hum"] = float32(math.Inf(1)) }, model.ErrNonFinite},
		{"a NaN in an array", model.UnknownOther, func(r map[string]any) { r["window"] = []any{1.0, math.NaN()} }, model.ErrNonFinite},
		{"an array past its length", model.UnknownOther, func(r map[string]any) { r["window"] = []any{1.0, 2.0, 3.0, 4.0, 5.0} }, model.ErrWrongType},
		{"an unknown category to dead-letter", model.UnknownDeadLetter, func(r map[string]any) { r["site"] = "cdg" }, model.ErrUnknownCategory},
		{"a category that is not UTF-8", model.UnknownOther, func(r map[string]any) { r["site"] = "\xff" }, model.ErrWrongType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := bodyModel(t, bodyFeatures(tt.unknown))
			b := newBatch(t, m)
			rec := randomReading(rand.New(rand.NewPCG(1, 2)))
			rec["site"] = "ams"
			if !b.AddBody(fx.tree, mustEncode(t, fx.codec, rec)) {
				t.Fatal("AddBody declined the record before the change")
			}
			tt.change(rec)
			body := mustEncode(t, fx.codec, rec)
			if b.AddBody(fx.tree, body) {
				t.Fatal("AddBody took a record Add refuses")
			}
			if b.Len() != 1 {
				t.Fatalf("the batch holds %d rows after AddBody declined; want the 1 it held", b.Len())
			}
			native := fx.decode(t, body)
			if err := b.Add(native); !errors.Is(err, tt.want) {
				t.Fatalf("Add: %v; want %v", err, tt.want)
			}
		})
	}
}

func mustEncode(t testing.TB, codec *goavro.Codec, rec map[string]any) []byte {
	t.Helper()
	body, err := codec.BinaryFromNative(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// TestAddBodyDeclinesAModelItCannotReadFromBodies: a date is read from
// the decoded record only, so a model with one takes every record through
// Add.
func TestAddBodyDeclinesAModelItCannotReadFromBodies(t *testing.T) {
	fx := newBodyFixture(t)
	m := bodyModel(t, []model.Feature{{Field: "temp"}, {Field: "day"}})
	b := newBatch(t, m)
	body := mustEncode(t, fx.codec, randomReading(rand.New(rand.NewPCG(3, 4))))
	if b.AddBody(fx.tree, body) {
		t.Fatal("AddBody took a record whose date it cannot read")
	}
	if b.Len() != 0 {
		t.Fatalf("the batch holds %d rows", b.Len())
	}
	native := fx.decode(t, body)
	if err := b.Add(native); err != nil {
		t.Fatalf("Add: %v", err)
	}
}

// FuzzAddBody: whatever body a producer sends that passes the guard,
// AddBody either declines it or takes exactly the row Add takes from
// goavro's decoding, which must then succeed.
func FuzzAddBody(f *testing.F) {
	fx := newBodyFixture(f)
	rng := rand.New(rand.NewPCG(5, 6))
	for range 16 {
		f.Add(mustEncode(f, fx.codec, randomReading(rng)))
	}
	m := bodyModel(f, bodyFeatures(model.UnknownDeadLetter))
	fromBody, fromRecord := newBatch(f, m), newBatch(f, m)
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, err := fx.guard.Check(body, avroguard.Limits{}); err != nil {
			return
		}
		fromBody.Reset()
		fromRecord.Reset()
		if !fromBody.AddBody(fx.tree, body) {
			if fromBody.Len() != 0 {
				t.Fatalf("AddBody declined but left %d rows", fromBody.Len())
			}
			return
		}
		native, rest, err := fx.codec.NativeFromBinary(body)
		if err != nil || len(rest) != 0 {
			t.Fatalf("AddBody took a body goavro refuses: %v (%d trailing bytes)", err, len(rest))
		}
		if err := fromRecord.Add(native.(map[string]any)); err != nil {
			t.Fatalf("AddBody took a record Add refuses: %v", err)
		}
		got, want := scores(t, m, fromBody), scores(t, m, fromRecord)
		if !sameBits(got[0], want[0]) {
			t.Fatalf("AddBody fed %v, Add %v", got[0], want[0])
		}
	})
}

// TestAddBodyReadsTextAsAddDoes: a string input is read from the body as
// Add reads it from goavro's record, and a text Add refuses (a NUL, not
// UTF-8, over the size limit) is declined with the batch unchanged.
func TestAddBodyReadsTextAsAddDoes(t *testing.T) {
	const schema = `{"type": "record", "name": "Mail", "fields": [
	  {"name": "id", "type": "long"}, {"name": "body", "type": "string"}]}`
	codec, err := goavro.NewCodec(schema)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := avropath.ParseSchema(schema)
	if err != nil {
		t.Fatal(err)
	}
	spec := textSpec()
	spec.MaxTextBytes = 16
	m := load(t, encode(t, textGraph(2), &spec), model.Options{MaxBatch: 8})
	fx := bodyFixture{codec: codec, tree: tree}
	fromBody, fromRecord := newBatch(t, m), newBatch(t, m)
	for i, text := range []string{"ham", "spam", "", "héllo"} {
		body := mustEncode(t, codec, map[string]any{"id": int64(i), "body": text})
		if !fromBody.AddBody(tree, body) {
			t.Fatalf("AddBody declined %q", text)
		}
		if err := fromRecord.Add(fx.decode(t, body)); err != nil {
			t.Fatal(err)
		}
	}
	got, want := scores(t, m, fromBody), scores(t, m, fromRecord)
	for i := range want {
		if !sameBits(got[i], want[i]) {
			t.Fatalf("row %d: AddBody fed %v, Add %v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"a\x00b", "\xff", strings.Repeat("x", 17)} {
		body := mustEncode(t, codec, map[string]any{"id": int64(9), "body": bad})
		if fromBody.AddBody(tree, body) || fromBody.Len() != 4 {
			t.Fatalf("%q: AddBody took it, or left %d rows of 4", bad, fromBody.Len())
		}
		if err := fromRecord.Add(fx.decode(t, body)); err == nil {
			t.Fatalf("%q: Add took it", bad)
		}
	}
}
