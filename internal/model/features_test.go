package model_test

import (
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/model"
)

// TestNumericFeatures feeds one value of every shape goavro decodes to a
// model that echoes its features, and checks what reaches the model.
func TestNumericFeatures(t *testing.T) {
	ts := time.UnixMilli(1_700_000_000_123).UTC()
	tests := []struct {
		name     string
		value    any  // the field "x"; absent when absent is set
		absent   bool //
		def      *float64
		allowNaN bool // Spec.AllowNonFinite
		want     float32
		wantErr  error
		fragment string // what the error must say besides naming "x"
	}{
		{name: "int32", value: int32(-7), want: -7},
		{name: "int64", value: int64(1) << 40, want: 1 << 40},
		{name: "float32", value: float32(2.5), want: 2.5},
		{name: "float64", value: -0.125, want: -0.125},
		{name: "boolean true", value: true, want: 1},
		{name: "boolean false", value: false, want: 0},
		{name: "timestamp-millis", value: ts, want: float32(1_700_000_000_123)},
		{name: "time-millis duration", value: 1500 * time.Millisecond, want: 1500},
		{name: "time-micros duration", value: 2500 * time.Microsecond, want: 2.5},
		{name: "nullable double", value: map[string]any{"double": 3.25}, want: 3.25},
		{name: "nullable long", value: map[string]any{"long": int64(9)}, want: 9},
		{name: "nullable int", value: map[string]any{"int": int32(4)}, want: 4},
		{name: "nullable timestamp", value: map[string]any{"long.timestamp-millis": ts}, want: float32(1_700_000_000_123)},
		{name: "null with default", value: nil, def: ptr(42), want: 42},
		{name: "null with zero default", value: nil, def: ptr(0), want: 0},
		{name: "null branch with default", value: map[string]any{"null": nil}, def: ptr(-1), want: -1},
		{name: "null without default", value: nil, wantErr: model.ErrMissingFeature, fragment: "null and has no default"},
		{name: "absent", absent: true, wantErr: model.ErrMissingFeature, fragment: "absent"},
		{name: "absent with default", absent: true, def: ptr(1), want: 1},
		{name: "string for a number", value: "3.5", wantErr: model.ErrWrongType, fragment: "an Avro string or enum is not a number"},
		{name: "nullable string for a number", value: map[string]any{"string": "3.5"}, wantErr: model.ErrWrongType, fragment: "string"},
		{name: "bytes for a number", value: []byte{1}, wantErr: model.ErrWrongType, fragment: "an Avro bytes or fixed is not a number"},
		{name: "decimal for a number", value: big.NewRat(1, 3), wantErr: model.ErrWrongType, fragment: "an Avro decimal is not a number"},
		{name: "array for a number", value: []any{1.5}, wantErr: model.ErrWrongType, fragment: "an Avro array is not a number"},
		{name: "map for a number", value: map[string]any{"a": 1.5, "b": 2.5}, wantErr: model.ErrWrongType, fragment: "an Avro record or map is not a number"},
		{name: "NaN", value: math.NaN(), wantErr: model.ErrNonFinite, fragment: "NaN"},
		{name: "float32 NaN", value: float32(math.NaN()), wantErr: model.ErrNonFinite},
		{name: "+Inf", value: math.Inf(1), wantErr: model.ErrNonFinite, fragment: "+Inf"},
		{name: "-Inf", value: math.Inf(-1), wantErr: model.ErrNonFinite},
		{name: "nullable NaN", value: map[string]any{"double": math.NaN()}, wantErr: model.ErrNonFinite},
		{name: "NaN default", value: nil, def: ptr(math.NaN()), wantErr: model.ErrNonFinite},
		{name: "overflows float32", value: 1e39, wantErr: model.ErrNonFinite, fragment: "as float32"},
		{name: "overflows float32 negative", value: -1e39, wantErr: model.ErrNonFinite},
		{name: "largest float32", value: float64(math.MaxFloat32), want: math.MaxFloat32},
		{name: "NaN allowed", value: math.NaN(), allowNaN: true, want: float32(math.NaN())},
		{name: "+Inf allowed", value: math.Inf(1), allowNaN: true, want: float32(math.Inf(1))},
		{name: "overflow allowed becomes +Inf", value: 1e39, allowNaN: true, want: float32(math.Inf(1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := identitySpec("x", "pad")
			spec.Inputs[0].Fields[0].Default = tt.def
			spec.AllowNonFinite = tt.allowNaN
			// The spec goes in the options: JSON metadata cannot hold a
			// NaN default.
			m := load(t, encode(t, identityGraph(2), nil), model.Options{Spec: &spec})
			b := newBatch(t, m)
			rec := map[string]any{"pad": 0.0}
			if !tt.absent {
				rec["x"] = tt.value
			}
			err := b.Add(rec)
			if tt.wantErr != nil {
				requireErr(t, err, tt.wantErr, `"x"`, tt.fragment)
				if b.Len() != 0 {
					t.Errorf("Len after a failed Add = %d", b.Len())
				}
				return
			}
			if err != nil {
				t.Fatalf("Add: %v", err)
			}
			if got := run(t, m, b)[0].Scores[0]; !same(got, tt.want) {
				t.Errorf("the model saw %v; want %v", got, tt.want)
			}
		})
	}
}

func ptr(v float64) *float64 { return &v }

// TestFeaturesFromGoavro maps records that goavro itself decoded, so the
// shapes above are the ones the scorer really meets.
func TestFeaturesFromGoavro(t *testing.T) {
	const schema = `{"type": "record", "name": "Reading", "fields": [
		{"name": "temperature", "type": "double"},
		{"name": "ratio", "type": "float"},
		{"name": "rssi", "type": "int"},
		{"name": "uptime_s", "type": "long"},
		{"name": "online", "type": "boolean"},
		{"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
		{"name": "interval", "type": {"type": "int", "logicalType": "time-millis"}},
		{"name": "battery", "type": ["null", "double"], "default": null},
		{"name": "taken_at", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}], "default": null},
		{"name": "note", "type": ["null", "string"], "default": null}
	]}`
	codec, err := goavro.NewCodec(schema)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.UnixMilli(1_700_000_000_000).UTC()
	native := map[string]any{
		"temperature": 21.5,
		"ratio":       float32(0.25),
		"rssi":        int32(-70),
		"uptime_s":    int64(86_400),
		"online":      true,
		"ts":          ts,
		"interval":    250 * time.Millisecond,
		"battery":     goavro.Union("double", 3.5),
		"taken_at":    goavro.Union("long.timestamp-millis", ts.Add(time.Second)),
		"note":        goavro.Union("string", "spam"),
	}
	body, err := codec.BinaryFromNative(nil, native)
	if err != nil {
		t.Fatal(err)
	}
	decoded, _, err := codec.NativeFromBinary(body)
	if err != nil {
		t.Fatal(err)
	}
	rec := decoded.(map[string]any)

	numeric := []string{"temperature", "ratio", "rssi", "uptime_s", "online", "ts", "interval", "battery", "taken_at"}
	spec := identitySpec(numeric...)
	m := load(t, encode(t, identityGraph(int64(len(numeric))), &spec), model.Options{})
	b := newBatch(t, m)
	addAll(t, b, rec)
	want := []float32{21.5, 0.25, -70, 86_400, 1, 1_700_000_000_000, 250, 3.5, 1_700_000_001_000}
	checkScores(t, run(t, m, b), [][]float32{want})

	t.Run("null union", func(t *testing.T) {
		native["battery"] = nil
		body, err := codec.BinaryFromNative(nil, native)
		if err != nil {
			t.Fatal(err)
		}
		decoded, _, err := codec.NativeFromBinary(body)
		if err != nil {
			t.Fatal(err)
		}
		b.Reset()
		requireErr(t, b.Add(decoded.(map[string]any)), model.ErrMissingFeature, `"battery"`)
	})

	t.Run("text", func(t *testing.T) {
		spec := textSpec()
		spec.Inputs[0].Fields[0].Field = "note"
		m := load(t, encode(t, textGraph(2), &spec), model.Options{})
		b := newBatch(t, m)
		addAll(t, b, rec)
		if got := run(t, m, b)[0].Label; got != "spam" {
			t.Errorf("label %q; want spam", got)
		}
	})
}

func TestTextFeatures(t *testing.T) {
	tests := []struct {
		name     string
		value    any
		absent   bool
		maxBytes int // Spec.MaxTextBytes
		want     float32
		wantErr  error
		fragment string
	}{
		{name: "spam", value: "spam", want: 1},
		{name: "ham", value: "ham", want: 0},
		{name: "unknown word", value: "hello", want: 0.5},
		{name: "empty", value: "", want: 0.5},
		{name: "nullable string", value: map[string]any{"string": "spam"}, want: 1},
		{name: "at the limit", value: "spamspam", maxBytes: 8, want: 0.5},
		{name: "over the limit", value: "spamspam!", maxBytes: 8, wantErr: model.ErrOversize, fragment: "9 bytes, over the 8-byte limit"},
		{name: "limit counts bytes, not runes", value: "ééééé", maxBytes: 8, wantErr: model.ErrOversize, fragment: "10 bytes"},
		{name: "nullable over the limit", value: map[string]any{"string": "spamspam!"}, maxBytes: 8, wantErr: model.ErrOversize},
		{name: "at the default limit", value: strings.Repeat("a", model.DefaultMaxTextBytes), want: 0.5},
		{name: "over the default limit", value: strings.Repeat("a", model.DefaultMaxTextBytes+1), wantErr: model.ErrOversize, fragment: "65536-byte limit"},
		{name: "null", value: nil, wantErr: model.ErrMissingFeature, fragment: "null"},
		{name: "null branch", value: map[string]any{"null": nil}, wantErr: model.ErrMissingFeature, fragment: "null"},
		{name: "absent", absent: true, wantErr: model.ErrMissingFeature, fragment: "absent"},
		{name: "NUL byte", value: "ham\x00spam", wantErr: model.ErrWrongType, fragment: "NUL byte"},
		{name: "invalid UTF-8", value: "sp\xffam", wantErr: model.ErrWrongType, fragment: "not valid UTF-8"},
		{name: "non-ASCII UTF-8", value: "späm", want: 0.5},
		{name: "number for text", value: 1.5, wantErr: model.ErrWrongType, fragment: "an Avro double is not text"},
		{name: "bytes for text", value: []byte("spam"), wantErr: model.ErrWrongType, fragment: "an Avro bytes or fixed is not text"},
	}
	for _, rank := range []int{2, 1} {
		spec := textSpec()
		data := encode(t, textGraph(rank), &spec)
		for _, tt := range tests {
			t.Run(map[int]string{1: "[N]/", 2: "[N,1]/"}[rank]+tt.name, func(t *testing.T) {
				spec := textSpec()
				spec.MaxTextBytes = tt.maxBytes
				m := load(t, data, model.Options{Spec: &spec})
				b := newBatch(t, m)
				rec := map[string]any{}
				if !tt.absent {
					rec["body"] = tt.value
				}
				err := b.Add(rec)
				if tt.wantErr != nil {
					requireErr(t, err, tt.wantErr, `"body"`, tt.fragment)
					if b.Len() != 0 {
						t.Errorf("Len after a failed Add = %d", b.Len())
					}
					return
				}
				if err != nil {
					t.Fatalf("Add: %v", err)
				}
				if got := run(t, m, b)[0].Scores; got[1] != tt.want || got[0] != 1-tt.want {
					t.Errorf("scores %v; want [%v %v]", got, 1-tt.want, tt.want)
				}
			})
		}
	}
}

// A text batch reused with fewer rows must not score stale strings.
func TestTextBatchReuse(t *testing.T) {
	spec := textSpec()
	m := load(t, encode(t, textGraph(2), &spec), model.Options{})
	b := newBatch(t, m)
	for _, texts := range [][]string{{"spam", "ham", "x"}, {"ham"}, {"x", "spam", "ham"}, {"spam", "spam", "ham"}} {
		b.Reset()
		want := make([][]float32, len(texts))
		for i, s := range texts {
			addAll(t, b, map[string]any{"body": s})
			want[i] = []float32{1 - spamScore[s], spamScore[s]}
			if s == "x" {
				want[i] = []float32{0.5, 0.5}
			}
		}
		checkScores(t, run(t, m, b), want)
	}
}

// recordSchema is a record schema of the given fields, each a name and
// its Avro type as JSON.
func recordSchema(t testing.TB, fields ...[2]string) *avropath.Schema {
	t.Helper()
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = fmt.Sprintf(`{"name": %q, "type": %s}`, f[0], f[1])
	}
	text := `{"type": "record", "name": "Reading", "namespace": "io.test", "fields": [` + strings.Join(parts, ",") + `]}`
	s, err := avropath.ParseSchema(text)
	if err != nil {
		t.Fatalf("ParseSchema: %v\n%s", err, text)
	}
	return s
}

// TestCheckSchemaFlat checks a spec of top-level fields, as specs were
// before paths, against schemas of top-level fields.
func TestCheckSchemaFlat(t *testing.T) {
	spec := model.Spec{
		Name: "m", Task: model.Classification, Labels: []string{"a", "b"},
		Inputs: []model.Input{
			{Name: "features", Fields: columns("temperature", "battery")},
			{Name: "text", Type: model.StringInput, Fields: columns("body")},
		},
		Outputs: model.Outputs{Scores: "scores"},
	}
	good := func() [][2]string {
		return [][2]string{
			{"device_id", `"string"`},
			{"temperature", `"double"`},
			{"battery", `["null", "double"]`},
			{"body", `"string"`},
		}
	}
	tests := []struct {
		name      string
		edit      func([][2]string) [][2]string
		fragments []string // nil when the fields fit
	}{
		{"fits", func(f [][2]string) [][2]string { return f }, nil},
		{"timestamp", func(f [][2]string) [][2]string {
			f[1][1] = `{"type": "long", "logicalType": "timestamp-millis"}`
			return f
		}, nil},
		{"date", func(f [][2]string) [][2]string {
			f[1][1] = `{"type": "int", "logicalType": "date"}`
			return f
		}, nil},
		{"time", func(f [][2]string) [][2]string {
			f[1][1] = `{"type": "long", "logicalType": "time-micros"}`
			return f
		}, nil},
		{"nullable text", func(f [][2]string) [][2]string {
			f[3][1] = `["null", "string"]`
			return f
		}, nil},
		{"enum text", func(f [][2]string) [][2]string {
			f[3][1] = `{"type": "enum", "name": "Body", "symbols": ["A"]}`
			return f
		}, nil},
		{"missing field", func(f [][2]string) [][2]string { return f[:3] },
			[]string{`input "text" needs field "body", which the schema lacks`}},
		{"text into number", func(f [][2]string) [][2]string {
			f[1][1] = `"string"`
			return f
		}, []string{`input "features" takes numbers but field "temperature" is string (give it categories to read it as a category)`}},
		{"bytes into number", func(f [][2]string) [][2]string {
			f[2][1] = `"bytes"`
			return f
		}, []string{`input "features" takes numbers but field "battery" is bytes`}},
		{"decimal into number", func(f [][2]string) [][2]string {
			f[2][1] = `{"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2}`
			return f
		}, []string{`field "battery" is bytes (decimal)`}},
		{"record into number", func(f [][2]string) [][2]string {
			f[1][1] = `{"type": "record", "name": "T", "fields": []}`
			return f
		}, []string{`field "temperature" is record T`}},
		{"union into number", func(f [][2]string) [][2]string {
			f[1][1] = `["int", "double"]`
			return f
		}, []string{`field "temperature" is ["int","double"]`}},
		{"number into text", func(f [][2]string) [][2]string {
			f[3][1] = `"long"`
			return f
		}, []string{`input "text" takes text but field "body" is long`}},
		{"all problems at once", func(f [][2]string) [][2]string {
			f[1][1] = `"string"` // text into number
			f[3][1] = `"double"` // number into text
			return f[1:2:2]      // and battery missing
		}, []string{
			`field "temperature" is string`,
			`input "features" needs field "battery"`,
			`input "text" needs field "body"`,
		}},
		{"all problems at once, none missing", func(f [][2]string) [][2]string {
			f[1][1], f[2][1], f[3][1] = `"string"`, `{"type": "map", "values": "double"}`, `"int"`
			return f
		}, []string{`field "temperature" is string`, `field "battery" is map<double>`, `field "body" is int`}},
	}
	for _, typ := range []string{"int", "long", "float", "boolean"} {
		tests = append(tests, struct {
			name      string
			edit      func([][2]string) [][2]string
			fragments []string
		}{typ + " into number", func(f [][2]string) [][2]string {
			f[1][1] = `"` + typ + `"`
			return f
		}, nil})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := spec.CheckSchema(recordSchema(t, tt.edit(good())...))
			if tt.fragments == nil {
				if err != nil {
					t.Fatalf("CheckSchema: %v", err)
				}
				return
			}
			requireErr(t, err, model.ErrSchemaMismatch, tt.fragments...)
		})
	}
}

// TestAppendNumbers covers the trainer's entry point: rows append in column
// order and a failed row leaves dst as it was.
func TestAppendNumbers(t *testing.T) {
	in := model.Input{Name: "features", Fields: columns("a", "b", "c")}
	r, err := in.Reader()
	if err != nil {
		t.Fatal(err)
	}
	dst, err := r.AppendNumbers(nil, map[string]any{"a": 1.0, "b": int32(2), "c": int64(3)}, false)
	if err != nil {
		t.Fatal(err)
	}
	dst, err = r.AppendNumbers(dst, map[string]any{"a": 4.0, "b": 5.0}, false)
	requireErr(t, err, model.ErrMissingFeature, `"c"`)
	if want := []float32{1, 2, 3}; len(dst) != 3 || dst[0] != want[0] || dst[1] != want[1] || dst[2] != want[2] {
		t.Errorf("dst after a failed row = %v; want %v", dst, want)
	}
}
