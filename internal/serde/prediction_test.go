package serde

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

func ptr[T any](v T) *T { return &v }

// predictionCases covers the shapes of Prediction that the encoder must get
// right.
var predictionCases = []struct {
	name string
	p    Prediction
}{
	{"regressor", Prediction{ModelName: "temp-reg", ModelVersion: "3", Value: ptr(22.125), ScoredAt: time.UnixMilli(1767225601000)}},
	{"binary classifier", Prediction{
		ModelName: "spam", ModelVersion: "2026-01-01", Label: ptr("spam"), Value: ptr(0.875),
		Scores:   []ClassScore{{"ham", 0.125}, {"spam", 0.875}},
		ScoredAt: time.UnixMilli(1767225601234),
	}},
	{"classifier with empty scores", Prediction{ModelName: "m", ModelVersion: "1", Label: ptr("a"), ScoredAt: time.UnixMilli(5)}},
	{"everything absent", Prediction{}},
	{"unicode strings", Prediction{
		ModelName: "modèle ☃", ModelVersion: "v1.0-β", Label: ptr("日本語 🎉"),
		Scores:   []ClassScore{{"日本語 🎉", 0.5}, {"English", 0.25}, {"émoji 🎉", 0.25}},
		ScoredAt: time.Date(2026, 3, 4, 5, 6, 7, 890_123_456, time.FixedZone("CET", 3600)),
	}},
	{"empty strings", Prediction{Label: ptr(""), Value: ptr(0.0), Scores: []ClassScore{{"", 1}}, ScoredAt: time.UnixMilli(0)}},
	{"special doubles", Prediction{
		ModelName: "x", ModelVersion: "y", Value: ptr(math.Inf(-1)),
		Scores:   []ClassScore{{"nan", math.NaN()}, {"inf", math.Inf(1)}, {"negzero", math.Copysign(0, -1)}, {"tiny", math.SmallestNonzeroFloat64}, {"max", math.MaxFloat64}},
		ScoredAt: time.UnixMilli(-86400001),
	}},
	{"binary classifier with its logit", Prediction{
		ModelName: "fraud", ModelVersion: "7", Label: ptr("fraud"), Value: ptr(0.9999999999999982),
		Scores:   []ClassScore{{"ok", 1.8e-15}, {"fraud", 0.9999999999999982}},
		ScoredAt: time.UnixMilli(1767225601234), Margin: []ClassScore{{"fraud", float64(float32(33.95))}},
	}},
	{"multiclass with margin", Prediction{
		ModelName: "digits", ModelVersion: "1", Label: ptr("b"),
		Scores:   []ClassScore{{"a", 0.25}, {"b", 0.5}, {"c", 0.25}},
		ScoredAt: time.UnixMilli(7), Margin: []ClassScore{{"a", -1.25}, {"b", float64(float32(-0.3))}, {"c", math.Copysign(0, -1)}},
	}},
	{"empty margin map", Prediction{ModelName: "m", ModelVersion: "1", Label: ptr("a"), Margin: []ClassScore{}, ScoredAt: time.UnixMilli(5)}},
	{"special margins", Prediction{
		ModelName: "x", ModelVersion: "y", Label: ptr("inf"),
		Margin:   []ClassScore{{"nan", math.NaN()}, {"inf", math.Inf(1)}, {"-inf", math.Inf(-1)}, {"max", math.MaxFloat32}},
		ScoredAt: time.UnixMilli(-1),
	}},
	{"many classes", Prediction{ModelName: "big", ModelVersion: "1", Label: ptr("c199"), Scores: manyScores(200), ScoredAt: time.UnixMilli(math.MaxInt64 / 4), Margin: manyScores(200)}},
	{"long strings", Prediction{ModelName: strings.Repeat("n", 300), ModelVersion: strings.Repeat("v", 70000), ScoredAt: time.UnixMilli(-1)}},
}

func manyScores(n int) []ClassScore {
	s := make([]ClassScore, n)
	for i := range s {
		s[i] = ClassScore{Label: "c" + strconv.Itoa(i), Score: float64(i) / float64(n)}
	}
	return s
}

// TestAppendOutputDecodesWithGoavro encodes outputs with AppendOutput and
// decodes them with goavro and the derived output schema: the input fields
// must come back unchanged and the prediction as given.
func TestAppendOutputDecodesWithGoavro(t *testing.T) {
	inputs := []struct {
		schema string
		native map[string]any
	}{
		{"sensor_reading", sensorRecord(2)},
		{"sensor_reading", sensorRecord(3)},
		{"text_message", textRecord(1)},
	}
	for _, in := range inputs {
		inSchema := projectSchema(t, in.schema)
		outSchema, err := OutputSchema(inSchema)
		if err != nil {
			t.Fatalf("OutputSchema(%s): %v", in.schema, err)
		}
		codec, err := goavro.NewCodec(outSchema)
		if err != nil {
			t.Fatalf("compile output schema: %v", err)
		}
		body := encodeFrame(t, inSchema, 1, in.native)[headerLen:]
		for _, tc := range predictionCases {
			t.Run(in.schema+"/"+tc.name, func(t *testing.T) {
				out := AppendOutput(nil, Output{ID: 77}, body, &tc.p)
				id, outBody, err := ParseFrame(out)
				if err != nil || id != 77 {
					t.Fatalf("ParseFrame = %d, %v; want id 77", id, err)
				}
				native, rest, err := codec.NativeFromBinary(outBody)
				if err != nil || len(rest) != 0 {
					t.Fatalf("goavro decode: %v (%d bytes left)", err, len(rest))
				}
				rec := native.(map[string]any)
				for k, v := range in.native {
					if !reflect.DeepEqual(rec[k], v) {
						t.Errorf("input field %s = %v, want %v", k, rec[k], v)
					}
				}
				checkPrediction(t, rec[PredictionField].(map[string]any), &tc.p)
			})
		}
	}
}

// checkPrediction compares goavro's native Prediction record with p.
func checkPrediction(t *testing.T, got map[string]any, p *Prediction) {
	t.Helper()
	if got["model_name"] != p.ModelName || got["model_version"] != p.ModelVersion {
		t.Errorf("model = %q %q, want %q %q", got["model_name"], got["model_version"], p.ModelName, p.ModelVersion)
	}
	var wantLabel any
	if p.Label != nil {
		wantLabel = map[string]any{"string": *p.Label}
	}
	if !reflect.DeepEqual(got["label"], wantLabel) {
		t.Errorf("label = %v, want %v", got["label"], wantLabel)
	}
	if p.Value == nil {
		if got["value"] != nil {
			t.Errorf("value = %v, want null", got["value"])
		}
	} else if v, ok := got["value"].(map[string]any)["double"].(float64); !ok || !sameFloat(v, *p.Value) {
		t.Errorf("value = %v, want %v", got["value"], *p.Value)
	}
	scores, _ := got["scores"].(map[string]any)
	checkScores(t, "scores", scores, p.Scores)
	if p.Margin == nil {
		if got["margin"] != nil {
			t.Errorf("margin = %v, want null", got["margin"])
		}
	} else if margin, ok := got["margin"].(map[string]any)["map"].(map[string]any); !ok {
		t.Errorf("margin = %v, want a map", got["margin"])
	} else {
		checkScores(t, "margin", margin, p.Margin)
	}
	at, ok := got["scored_at"].(time.Time)
	if !ok || at.UnixMilli() != p.ScoredAt.UnixMilli() || at.Location() != time.UTC {
		t.Errorf("scored_at = %v, want %v in UTC at millisecond precision", got["scored_at"], p.ScoredAt)
	}
}

// checkScores compares a map of doubles goavro decoded with the scores
// given, bit for bit.
func checkScores(t *testing.T, field string, got map[string]any, scores []ClassScore) {
	t.Helper()
	want := make(map[string]float64)
	for _, s := range scores {
		want[s.Label] = s.Score
	}
	if len(got) != len(want) {
		t.Errorf("%s has %d entries, want %d", field, len(got), len(want))
	}
	for k, w := range want {
		if v, ok := got[k].(float64); !ok || !sameFloat(v, w) {
			t.Errorf("%s[%q] = %v, want %v", field, k, got[k], w)
		}
	}
}

// sameFloat compares bit for bit, so NaN equals NaN and -0 differs from 0.
func sameFloat(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

func TestAppendOutputAllocatesNothing(t *testing.T) {
	body := encodeFrame(t, projectSchema(t, "sensor_reading"), sensorID, sensorRecord(1))[headerLen:]
	dst := make([]byte, 0, 4096)
	for _, tc := range predictionCases {
		if len(tc.p.ModelVersion) > 1000 {
			continue // does not fit dst
		}
		t.Run(tc.name, func(t *testing.T) {
			allocs := testing.AllocsPerRun(100, func() {
				dst = AppendOutput(dst[:0], Output{ID: 9}, body, &tc.p)
			})
			if allocs != 0 {
				t.Fatalf("AppendOutput allocated %v times per call, want 0", allocs)
			}
		})
	}
}

// TestAppendOutputMatchesPythonAvro compares AppendOutput byte for byte with
// output records written by the Python reference implementation
// (testdata/gen_python_fixtures.py).
func TestAppendOutputMatchesPythonAvro(t *testing.T) {
	for _, c := range loadPythonFixtures(t) {
		t.Run(c.Name, func(t *testing.T) {
			p := Prediction{
				ModelName:    c.Prediction.ModelName,
				ModelVersion: c.Prediction.ModelVersion,
				Label:        c.Prediction.Label,
				Value:        c.Prediction.Value,
				ScoredAt:     time.UnixMilli(c.Prediction.ScoredAtMs),
			}
			for _, s := range c.Prediction.Scores {
				p.Scores = append(p.Scores, ClassScore{Label: s[0].(string), Score: s[1].(float64)})
			}
			if c.Prediction.Margin != nil {
				p.Margin = []ClassScore{}
				for _, s := range *c.Prediction.Margin {
					p.Margin = append(p.Margin, ClassScore{Label: s[0].(string), Score: s[1].(float64)})
				}
			}
			got := AppendOutput(nil, Output{ID: c.OutputID}, c.InputFrame[headerLen:], &p)
			if !bytes.Equal(got, c.OutputFrame) {
				t.Fatalf("AppendOutput =\n%x\nPython wrote\n%x", got, []byte(c.OutputFrame))
			}
		})
	}
}

// hexBytes is a []byte written in JSON as a hex string.
type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := hex.DecodeString(s)
	*h = v
	return err
}

func loadPythonFixtures(t *testing.T) []pythonFixture {
	t.Helper()
	path := filepath.Join("testdata", "python_fixtures.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v (regenerate with /usr/bin/python3 testdata/gen_python_fixtures.py after make setup)", path, err)
	}
	var cases []pythonFixture
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if len(cases) == 0 {
		t.Fatalf("%s holds no cases", path)
	}
	return cases
}
