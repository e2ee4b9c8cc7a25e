package serde

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

func TestPredictionSchemaEqualsProjectFile(t *testing.T) {
	var got, want any
	if err := json.Unmarshal([]byte(PredictionSchema), &got); err != nil {
		t.Fatalf("PredictionSchema is not JSON: %v", err)
	}
	if err := json.Unmarshal([]byte(projectSchema(t, "prediction")), &want); err != nil {
		t.Fatalf("schemas/prediction.avsc is not JSON: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("PredictionSchema differs from schemas/prediction.avsc: update the constant")
	}
}

// TestPredictionSchemaNoMarginIsTheOldOne: the Prediction that output
// subjects registered before the margin field hold is today's without its
// last field, margin.
func TestPredictionSchemaNoMarginIsTheOldOne(t *testing.T) {
	var today, old map[string]any
	mustUnmarshal(t, PredictionSchema, &today)
	mustUnmarshal(t, predictionSchemaNoMargin, &old)
	fields := today["fields"].([]any)
	if last := fields[len(fields)-1].(map[string]any); last["name"] != "margin" || last["default"] != nil {
		t.Fatalf("Prediction's last field is %v, want margin with default null", last)
	}
	today["fields"] = fields[:len(fields)-1]
	if !reflect.DeepEqual(today, old) {
		t.Fatalf("predictionSchemaNoMargin is not PredictionSchema without margin:\n%s", predictionSchemaNoMargin)
	}
}

func TestOutputSchemaAppendsPrediction(t *testing.T) {
	tests := []struct {
		name          string
		input         string
		wantName      string // name attribute of the output
		wantNamespace any    // namespace attribute of the output, nil if absent
	}{
		{"sensor", projectSchema(t, "sensor_reading"), "SensorReadingScored", "io.streamscore.sensors"},
		{"text", projectSchema(t, "text_message"), "TextMessageScored", "io.streamscore.text"},
		{"no namespace", `{"type":"record","name":"R","fields":[{"name":"a","type":"long"}]}`, "RScored", nil},
		{"dotted name", `{"type":"record","name":"x.y.R","fields":[{"name":"a","type":"long"}]}`, "x.y.RScored", nil},
		{"aliases and extra attributes", `{"type":"record","name":"R","namespace":"n","aliases":["Old"],"doc":"a <b> & c","x-owner":"team",
			"fields":[{"name":"a","type":{"type":"enum","name":"E","symbols":["A"]}},{"name":"b","type":"E"}]}`, "RScored", "n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := OutputSchema(tt.input)
			if err != nil {
				t.Fatalf("OutputSchema: %v", err)
			}
			if _, err := goavro.NewCodec(out); err != nil {
				t.Fatalf("output schema does not compile: %v\n%s", err, out)
			}
			var in, got map[string]any
			mustUnmarshal(t, tt.input, &in)
			mustUnmarshal(t, out, &got)
			if got["name"] != tt.wantName || got["namespace"] != tt.wantNamespace {
				t.Errorf("name %v namespace %v, want %v %v", got["name"], got["namespace"], tt.wantName, tt.wantNamespace)
			}
			if _, ok := got["aliases"]; ok {
				t.Errorf("aliases kept: %v", got["aliases"])
			}
			for k, v := range in {
				if k == "name" || k == "fields" || k == "aliases" {
					continue
				}
				if !reflect.DeepEqual(got[k], v) {
					t.Errorf("attribute %s = %v, want %v kept", k, got[k], v)
				}
			}
			inFields, gotFields := in["fields"].([]any), got["fields"].([]any)
			if len(gotFields) != len(inFields)+1 || !reflect.DeepEqual(gotFields[:len(inFields)], inFields) {
				t.Fatalf("fields are not the input fields plus one:\n%v", gotFields)
			}
			var wantPrediction any
			mustUnmarshal(t, `{"name":"prediction","type":`+PredictionSchema+`}`, &wantPrediction)
			if !reflect.DeepEqual(gotFields[len(inFields)], wantPrediction) {
				t.Fatalf("last field = %v, want the prediction field", gotFields[len(inFields)])
			}
			again, err := OutputSchema(tt.input)
			if err != nil || again != out {
				t.Fatalf("second derivation differs: %v\n%s\n%s", err, out, again)
			}
		})
	}
}

func TestOutputSchemaRefuses(t *testing.T) {
	tests := []struct {
		name, input, wantText string
	}{
		{"already has prediction", `{"type":"record","name":"R","fields":[{"name":"prediction","type":"long"}]}`, `already has a field named "prediction"`},
		{"primitive", `"string"`, "not a JSON object"},
		{"array", `{"type":"array","items":"long"}`, "not a record"},
		{"no name", `{"type":"record","fields":[]}`, "no name"},
		{"fields not a list", `{"type":"record","name":"R","fields":{}}`, "not a list"},
		{"not JSON", `{"type":`, "not a JSON object"},
		{"defines its own Prediction", `{"type":"record","name":"R","fields":[{"name":"p","type":{"type":"record","name":"Prediction","namespace":"io.streamscore","fields":[]}}]}`, "already defines the type io.streamscore.Prediction"},
		{"defines the output name", `{"type":"record","name":"R","namespace":"n","fields":[{"name":"p","type":{"type":"fixed","name":"RScored","size":1}}]}`, "already defines the type n.RScored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OutputSchema(tt.input)
			if !errors.Is(err, ErrOutputSchema) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("err = %v, want ErrOutputSchema saying %q", err, tt.wantText)
			}
		})
	}
}

func mustUnmarshal(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("unmarshal %s: %v", s, err)
	}
}

// inputSchema decodes one record of id through reg to get its cached Schema.
func inputSchema(t *testing.T, reg *testRegistry, id uint32) *Schema {
	t.Helper()
	s, err := reg.newDecoder(t, DecoderConfig{}).Lookup(id)
	if err != nil {
		t.Fatalf("Lookup(%d): %v", id, err)
	}
	return s
}

func newOutputEncoder(t *testing.T, reg *testRegistry, cfg OutputEncoderConfig) *OutputEncoder {
	t.Helper()
	e, err := NewOutputEncoder(reg.client, cfg)
	if err != nil {
		t.Fatalf("NewOutputEncoder: %v", err)
	}
	return e
}

func TestOutputEncoderRegistersOncePerTopicAndSchema(t *testing.T) {
	reg := newTestRegistry(t)
	enc := newOutputEncoder(t, reg, OutputEncoderConfig{})
	sensor := inputSchema(t, reg, sensorID)

	var wg sync.WaitGroup
	ids := make([]uint32, 8)
	errs := make([]error, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i], errs[i] = outputID(t, enc, "sensors", "sensors-scored", sensor)
		}()
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("OutputID call %d = %d, %v; want %d", i, ids[i], errs[i], ids[0])
		}
	}
	if n := reg.requestsTo(http.MethodPost, "/subjects/sensors-scored-value/versions"); n != 1 {
		t.Fatalf("registered %d times, want 1", n)
	}
	registered, err := reg.client.GetSchema(int(ids[0]))
	if err != nil {
		t.Fatalf("GetSchema(%d): %v", ids[0], err)
	}
	want, err := OutputSchema(sensor.Text)
	if err != nil {
		t.Fatal(err)
	}
	var got, wantJSON any
	mustUnmarshal(t, registered.Schema(), &got)
	mustUnmarshal(t, want, &wantJSON)
	if !reflect.DeepEqual(got, wantJSON) {
		t.Fatalf("registered schema %s, want %s", registered.Schema(), want)
	}
	latest, ok := reg.fake.GetSchema("sensors-scored-value", 1)
	if !ok || latest.ID != int(ids[0]) {
		t.Fatalf("subject sensors-scored-value version 1 = %+v, %v; want id %d", latest, ok, ids[0])
	}

	// Another topic is another subject.
	other, err := outputID(t, enc, "sensors", "other-scored", sensor)
	if err != nil {
		t.Fatalf("OutputID(other-scored): %v", err)
	}
	if n := reg.requestsTo(http.MethodPost, "/subjects/other-scored-value/versions"); n != 1 {
		t.Fatalf("other topic registered %d times, want 1", n)
	}
	if _, ok := reg.fake.GetSchema("other-scored-value", 1); !ok || other == 0 {
		t.Fatalf("other-scored-value not registered (id %d)", other)
	}
}

func TestOutputEncoderRefusalIsRememberedForTTL(t *testing.T) {
	reg := newTestRegistry(t)
	clock := newFakeClock()
	enc := newOutputEncoder(t, reg, OutputEncoderConfig{RefusalTTL: time.Minute, Now: clock.Now})
	sensor := inputSchema(t, reg, sensorID)
	reg.fake.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost {
			return false
		}
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		w.WriteHeader(http.StatusConflict)
		fmt.Fprint(w, `{"error_code":409,"message":"Schema being registered is incompatible with an earlier schema"}`)
		return true
	})
	// Each try posts today's output schema, then, refused, the one
	// without a margin.
	const path, postsPerTry = "/subjects/sensors-scored-value/versions", 2
	for range 2 {
		_, err := outputID(t, enc, "sensors", "sensors-scored", sensor)
		if !errors.Is(err, ErrOutputSchema) || !strings.Contains(err.Error(), "incompatible") {
			t.Fatalf("err = %v, want ErrOutputSchema saying incompatible", err)
		}
	}
	if n := reg.requestsTo(http.MethodPost, path); n != postsPerTry {
		t.Fatalf("within the TTL posted %d schemas, want %d: one try", n, postsPerTry)
	}
	clock.Advance(time.Minute)
	if _, err := outputID(t, enc, "sensors", "sensors-scored", sensor); !errors.Is(err, ErrOutputSchema) {
		t.Fatalf("after the TTL err = %v, want ErrOutputSchema", err)
	}
	if n := reg.requestsTo(http.MethodPost, path); n != 2*postsPerTry {
		t.Fatalf("after the TTL posted %d schemas in all, want %d: two tries", n, 2*postsPerTry)
	}
}

func TestOutputEncoderInputWithPredictionField(t *testing.T) {
	reg := newTestRegistry(t)
	enc := newOutputEncoder(t, reg, OutputEncoderConfig{})
	in, err := newSchema(60, `{"type":"record","name":"R","fields":[{"name":"prediction","type":"long"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = outputID(t, enc, "in", "out", in)
	if !errors.Is(err, ErrOutputSchema) || !strings.Contains(err.Error(), "input schema id 60") {
		t.Fatalf("err = %v, want ErrOutputSchema naming input schema id 60", err)
	}
	if n := reg.requestsTo(http.MethodPost, "/subjects/out-value/versions"); n != 0 {
		t.Fatalf("registered %d times, want 0", n)
	}
}

func TestOutputEncoderRegistryDownIsRetriable(t *testing.T) {
	reg := newTestRegistry(t)
	enc := newOutputEncoder(t, reg, OutputEncoderConfig{})
	sensor := inputSchema(t, reg, sensorID)
	cached, err := outputID(t, enc, "sensors", "cached", sensor)
	if err != nil {
		t.Fatalf("OutputID before the registry went down: %v", err)
	}
	reg.fake.Close()
	if id, err := outputID(t, enc, "sensors", "cached", sensor); err != nil || id != cached {
		t.Fatalf("cached OutputID with the registry down = %d, %v; want %d", id, err, cached)
	}
	for range 2 {
		_, err := outputID(t, enc, "sensors", "uncached", sensor)
		if !errors.Is(err, ErrRegistryUnavailable) || errors.Is(err, ErrOutputSchema) {
			t.Fatalf("err = %v, want ErrRegistryUnavailable only", err)
		}
	}
}

func TestOutputEncoderConfig(t *testing.T) {
	reg := newTestRegistry(t)
	tests := []struct {
		name        string
		creator     OutputRegistry
		cfg         OutputEncoderConfig
		errContains string
	}{
		{name: "zero config", creator: reg.client},
		{name: "negative TTL", creator: reg.client, cfg: OutputEncoderConfig{RefusalTTL: -1}, errContains: "must not be negative"},
		{name: "no registry", errContains: "nil schema registry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewOutputEncoder(tt.creator, tt.cfg)
			if tt.errContains == "" {
				if err != nil {
					t.Fatalf("NewOutputEncoder: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("err = %v, want one containing %q", err, tt.errContains)
			}
		})
	}
}

// TestOutputSchemaOfRecursiveInput: an input record that refers to itself
// (a list, a tree, with named types defined before and after the
// reference) gets an output schema that compiles, defines each name once,
// and reads the input's bytes followed by a prediction, the nested values
// as input records. Before, the renamed output no longer defined the
// input's name and every such record was dead-lettered
// output_schema_rejected (found by FuzzHostileRecord).
func TestOutputSchemaOfRecursiveInput(t *testing.T) {
	for _, tc := range []struct {
		name, schema string
		value        map[string]any
	}{
		{"list", `{"type":"record","name":"Node","namespace":"n","fields":[{"name":"v","type":"long"},{"name":"next","type":["null","Node"]}]}`,
			map[string]any{"v": int64(1), "next": goavro.Union("n.Node", map[string]any{"v": int64(2), "next": nil})}},
		{"tree", `{"type":"record","name":"Tree","fields":[{"name":"kids","type":{"type":"array","items":"Tree"}}]}`,
			map[string]any{"kids": []any{map[string]any{"kids": []any{}}, map[string]any{"kids": []any{map[string]any{"kids": []any{}}}}}}},
		{"named types around the reference", `{"type":"record","name":"R","namespace":"a.b","fields":[
			{"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y"]}},
			{"name":"self","type":["null","R"]},
			{"name":"f","type":{"type":"fixed","name":"F","size":2}},
			{"name":"e2","type":"E"},
			{"name":"inner","type":{"type":"record","name":"I","namespace":"other","fields":[{"name":"f","type":"a.b.F"}]}}]}`,
			map[string]any{"e": "Y", "self": goavro.Union("a.b.R", map[string]any{"e": "X", "self": nil, "f": []byte{1, 2}, "e2": "X", "inner": map[string]any{"f": []byte{3, 4}}}),
				"f": []byte{5, 6}, "e2": "Y", "inner": map[string]any{"f": []byte{7, 8}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := OutputSchema(tc.schema)
			if err != nil {
				t.Fatalf("OutputSchema: %v", err)
			}
			in, err := goavro.NewCodec(tc.schema)
			if err != nil {
				t.Fatal(err)
			}
			codec, err := goavro.NewCodec(out)
			if err != nil {
				t.Fatalf("output schema does not compile: %v\n%s", err, out)
			}
			body, err := in.BinaryFromNative(nil, tc.value)
			if err != nil {
				t.Fatal(err)
			}
			value := AppendOutput(nil, Output{ID: 9}, body, &Prediction{ModelName: "m", ModelVersion: "1", ScoredAt: time.UnixMilli(0)})
			got, rest, err := codec.NativeFromBinary(value[5:])
			if err != nil || len(rest) != 0 {
				t.Fatalf("output does not read back: %v (%d bytes left)\n%s", err, len(rest), out)
			}
			rec := got.(map[string]any)
			if rec["prediction"].(map[string]any)["model_name"] != "m" {
				t.Fatalf("prediction = %v", rec["prediction"])
			}
			delete(rec, "prediction")
			inNative, _, _ := in.NativeFromBinary(body)
			if !reflect.DeepEqual(rec, inNative) {
				t.Fatalf("the input's fields read back as %v, want %v", rec, inNative)
			}
		})
	}
}
