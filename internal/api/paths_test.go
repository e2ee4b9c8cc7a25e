package api_test

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riferrei/srclient"

	"github.com/streamscore/streamscore/internal/api"
	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/registry"
	"github.com/streamscore/streamscore/internal/testkit"
	"github.com/streamscore/streamscore/schemas"
)

// nestedNative are nested sensor readings as goavro decodes them, with
// their anomaly label.
var nestedNative = testkit.NestedRows

// asJSON is a decoded record as a client sends it: timestamps in Unix
// milliseconds, a nullable union's value bare, through JSON.
func asJSON(t testing.TB, rows []map[string]any) []map[string]any {
	t.Helper()
	var plain func(v any) any
	plain = func(v any) any {
		switch x := v.(type) {
		case time.Time:
			return x.UnixMilli()
		case map[string]any:
			if len(x) == 1 {
				for k, inner := range x {
					if k == "double" || k == "int" || k == "long" || k == "string" {
						return plain(inner)
					}
				}
			}
			out := make(map[string]any, len(x))
			for k, inner := range x {
				out[k] = plain(inner)
			}
			return out
		case []any:
			out := make([]any, len(x))
			for i, inner := range x {
				out[i] = plain(inner)
			}
			return out
		}
		return v
	}
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		out[i] = plain(r).(map[string]any)
	}
	return jsonRows(t, out)
}

// nestedOptions read the nested readings by path: numbers in nested
// records, enums and strings listed as categorical (no subject says what
// they are), a map's keys, a window of four and the hour of the reading.
func nestedOptions() map[string]any {
	return map[string]any{
		"family": "gbdt", "label": "anomaly",
		"features": []string{"temperature", "humidity", "location.lat", "status", "device.model", "site", "vibration_window",
			"attributes.zone", `attributes["owner"]`, "ts", "device.battery_volts"},
		"defaults":    map[string]float64{"device.battery_volts": 3.6},
		"categorical": map[string]any{"status": map[string]any{}, "device.model": map[string]any{}, "site": map[string]any{"max": 12}, "attributes.zone": map[string]any{}, "attributes.owner": map[string]any{}},
		"arrays":      map[string]any{"vibration_window": map[string]any{"length": 4, "pad": 0}},
		"time_parts":  map[string]any{"ts": []string{"hour_of_day"}},
		"params":      map[string]any{"max_iter": 20, "max_depth": 4},
	}
}

// TestNestedRowsTrainAndPredict sends nested readings as JSON rows, in
// slices that are merged into blocks, and trains: the model is the one
// the trainer fits on the decoded records themselves (the same tables, the
// same metrics), so the rows held as columns read back as the records they
// were, categories, short windows, map keys and parts included. It then
// scores nested records, an unknown site among them, and names the path
// of each record that cannot be scored.
func TestNestedRowsTrainAndPredict(t *testing.T) {
	c := newServer(t, api.Config{}, api.Deps{})
	native := nestedNative(1, 3000)
	rows := asJSON(t, native)
	c.must(http.StatusCreated, "PUT", "/models/fleet", nestedOptions(), nil)
	c.upload("fleet", rows, 700)
	var res api.TrainResult
	c.must(http.StatusOK, "PUT", "/models/fleet/train", nil, &res)
	if res.TrainRows != 2400 || res.HoldoutRows != 600 || len(res.Skipped) != 0 {
		t.Errorf("trained on %d rows, evaluated %d, skipped %v", res.TrainRows, res.HoldoutRows, res.Skipped)
	}

	opts, err := fit.ParseOptions(mustMarshal(t, nestedOptions()))
	if err != nil {
		t.Fatal(err)
	}
	direct, err := fit.FitRows(context.Background(), "fleet", opts, fit.Records(native), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(res.Metrics, direct.Evaluation.Metrics) {
		t.Errorf("the API's model scores %v, the trainer's on the records themselves %v", res.Metrics, direct.Evaluation.Metrics)
	}
	served := c.do("GET", "/models/fleet/onnx", nil)
	m, err := model.Load(served.body, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	spec := m.Spec()
	spec.Version = direct.Spec.Version
	if !reflect.DeepEqual(spec.Inputs, direct.Spec.Inputs) {
		t.Errorf("the API's spec %+v, the trainer's %+v", spec.Inputs, direct.Spec.Inputs)
	}
	site := spec.Inputs[0].Fields[5]
	if want := table(native[:2400], "site", 12); site.Field != "site" || !slices.Equal(site.Categories, want) {
		t.Errorf("site categories %q, want the training rows' %q", site.Categories, want)
	}

	records := asJSON(t, native[:4])
	records[1]["site"] = "nowhere"                        // unknown: other
	records[2]["temperature"] = "warm"                    // not a number
	records[3]["vibration_window"] = []any{1, 2, 3, 4, 5} // too long
	var preds api.PredictResult
	c.must(http.StatusOK, "POST", "/models/fleet/predict", records, &preds)
	for i, want := range []struct{ field, says string }{
		{}, {},
		{"temperature", "temperature: is a string, want a number"},
		{"vibration_window", "vibration_window: has more items than its length 4"},
	} {
		p := preds.Predictions[i]
		if p.Field != want.field || !strings.Contains(p.Error, want.says) || (want.field == "" && len(p.Scores) != 2) {
			t.Errorf("record %d: %+v, want field %q saying %q", i, p, want.field, want.says)
		}
	}
}

// table is the trainer's rule on rows: the values at path, most frequent
// first, ties by value, at most max.
func table(rows []map[string]any, path string, max int) []string {
	p := avropath.MustParse(path)
	counts := map[string]int{}
	for _, r := range rows {
		if v, ok, _ := p.Read(r); ok {
			counts[v.(string)]++
		}
	}
	out := slices.SortedFunc(maps.Keys(counts), func(a, b string) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b))
	})
	return out[:min(len(out), max)]
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRowErrorsNamePaths refuses a slice for a row whose value at a path
// no feature can take, naming rows[i] and the path.
func TestRowErrorsNamePaths(t *testing.T) {
	c := newServer(t, api.Config{}, api.Deps{})
	c.must(http.StatusCreated, "PUT", "/models/fleet", nestedOptions(), nil)
	good := asJSON(t, nestedNative(2, 1))[0]
	tests := []struct {
		name  string
		alter func(r map[string]any)
		field string
		says  string
	}{
		{"a string for a number", func(r map[string]any) { r["humidity"] = "50%" },
			"rows[1].humidity", `is a string, want a number (the feature is read as numbers: list "humidity" in the options' categorical`},
		{"a record that is a string", func(r map[string]any) { r["location"] = "Paris" },
			"rows[1].location.lat", "cannot be read: location is a string"},
		{"a number with a fraction for a category", func(r map[string]any) { r["site"] = 2.5 },
			"rows[1].site", "is 2.5, not a category"},
		{"an object for a category", func(r map[string]any) { r["attributes"] = map[string]any{"zone": map[string]any{"a": 1, "b": 2}} },
			"rows[1].attributes.zone", "is an object, not a category"},
		{"a long array", func(r map[string]any) { r["vibration_window"] = []any{1, 2, 3, 4, 5} },
			"rows[1].vibration_window", "has more items than its length 4"},
		{"a null item", func(r map[string]any) { r["vibration_window"] = []any{1, nil} },
			"rows[1].vibration_window[1]", "is null"},
		{"a string item", func(r map[string]any) { r["vibration_window"] = []any{"1"} },
			"rows[1].vibration_window[0]", "is a string, want a number"},
		{"a timestamp as text", func(r map[string]any) { r["ts"] = "2026-01-05T10:00:00Z" },
			"rows[1].ts", "is a string, want a timestamp in Unix milliseconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := jsonRows(t, []map[string]any{good})[0]
			tt.alter(bad)
			r := c.do("PUT", "/models/fleet/data/train", []map[string]any{good, bad})
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d %s, want 400", r.status, r.body)
			}
			if e := r.err(t); e.Field != tt.field || !strings.Contains(e.Error, tt.says) {
				t.Errorf("error %+v, want field %q saying %q", e, tt.field, tt.says)
			}
		})
	}
	// Nulls, absent keys and short arrays are the trainer's to read as the
	// default, the null category, padding or a skipped row.
	fine := jsonRows(t, []map[string]any{good})[0]
	fine["site"], fine["vibration_window"], fine["attributes"] = nil, []any{1.5}, map[string]any{}
	delete(fine["device"].(map[string]any), "battery_volts")
	c.must(http.StatusOK, "PUT", "/models/fleet/data/train", []map[string]any{good, fine}, nil)
}

// TestFeatureOptionsOverREST refuses malformed feature options with a 400
// naming the option and its path.
func TestFeatureOptionsOverREST(t *testing.T) {
	c := newServer(t, api.Config{}, api.Deps{})
	for _, tt := range []struct {
		name  string
		edit  func(o map[string]any)
		field string
		says  string
	}{
		{"unknown policy", func(o map[string]any) {
			o["categorical"] = map[string]any{"site": map[string]any{"unknown": "drop"}}
		}, `categorical["site"].unknown`, `"drop" is not one of other, dead_letter, category`},
		{"unknown setting", func(o map[string]any) {
			o["arrays"] = map[string]any{"vibration_window": map[string]any{"length": 4, "padding": 0}}
		}, `arrays["vibration_window"].padding`, "unknown field"},
		{"over the bins", func(o map[string]any) { o["max_categories"] = 300 }, "max_categories", "300 is not in [1, 253]"},
		{"bad path", func(o map[string]any) { o["features"] = []string{"location..lat"} }, "features[0]", "bad path syntax"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := nestedOptions()
			tt.edit(o)
			r := c.do("PUT", "/models/bad", o)
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d %s", r.status, r.body)
			}
			if e := r.err(t); e.Field != tt.field || !strings.Contains(e.Error, tt.says) {
				t.Errorf("error %+v, want field %q saying %q", e, tt.field, tt.says)
			}
		})
	}
	// The options read back as they were given.
	var info api.ModelInfo
	c.must(http.StatusCreated, "PUT", "/models/fleet", nestedOptions(), &info)
	if info.Options.Categorical["site"].Max == nil || *info.Options.Categorical["site"].Max != 12 || info.Options.Arrays["vibration_window"].Length != 4 {
		t.Errorf("options read back as %+v", info.Options)
	}
}

// labelledNestedSchema is the nested reading's schema with its label.
func labelledNestedSchema(t testing.TB) string {
	t.Helper()
	var s map[string]any
	if err := json.Unmarshal([]byte(schemas.SensorReadingNested), &s); err != nil {
		t.Fatal(err)
	}
	s["fields"] = append(s["fields"].([]any), map[string]any{"name": "anomaly", "type": "boolean", "default": false})
	return string(mustMarshal(t, s))
}

// TestSubjectCheckedAtPut creates models that name a registry subject: one
// whose paths the subject's latest schema cannot feed is refused at PUT
// with a 400 naming each path and its Avro type; one whose paths fit takes
// the schema's strings and enums as categories without listing them, and
// trains on rows that carry them. Without a subject, the same rows'
// strings are refused; a subject with no schema, or a trainer without a
// registry, refuses the model.
func TestSubjectCheckedAtPut(t *testing.T) {
	reg, err := registry.New(registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	server := httptest.NewServer(reg.Handler())
	t.Cleanup(server.Close)
	sr := srclient.NewSchemaRegistryClient(server.URL)
	if _, err := sr.CreateSchema("fleet-value", labelledNestedSchema(t), srclient.Avro); err != nil {
		t.Fatal(err)
	}
	c := newServer(t, api.Config{}, api.Deps{Schemas: jobs.RegistrySchemas{Registry: sr}})
	options := func(subject string, features ...string) map[string]any {
		o := map[string]any{"family": "gbdt", "label": "anomaly", "features": features, "params": map[string]any{"max_iter": 10}}
		if subject != "" {
			o["subject"] = subject
		}
		return o
	}

	r := c.do("PUT", "/models/refused", options("fleet-value", "temperature", "status", "location.alt", "vibration_window", "site.code"))
	if r.status != http.StatusBadRequest {
		t.Fatalf("status %d %s, want 400", r.status, r.body)
	}
	e := r.err(t)
	for _, want := range []string{"fleet-value version 1: 3 paths do not fit", `location.alt: record Location has no field "alt"`,
		`vibration_window: is array<double>: a whole array needs arrays["vibration_window"].length`, "site.code: site is string"} {
		if !strings.Contains(e.Error, want) || e.Field != "features" {
			t.Errorf("error %+v does not say %q", e, want)
		}
	}

	rows := asJSON(t, nestedNative(3, 600))
	c.must(http.StatusCreated, "PUT", "/models/checked", options("fleet-value", "temperature", "status", "site", "device.model"), nil)
	c.upload("checked", rows, 600)
	var res api.TrainResult
	c.must(http.StatusOK, "PUT", "/models/checked/train", nil, &res)
	m, err := model.Load(c.do("GET", "/models/checked/onnx", nil).body, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, f := range m.Spec().Inputs[0].Fields {
		if f.Categorical() != (f.Field != "temperature") {
			t.Errorf("%s: categories %q", f.Field, f.Categories)
		}
	}

	c.must(http.StatusCreated, "PUT", "/models/unchecked", options("", "temperature", "status"), nil)
	if r := c.do("PUT", "/models/unchecked/data/train", rows[:3]); r.status != http.StatusBadRequest || r.err(t).Field != "rows[0].status" {
		t.Errorf("a string without a subject: %d %s", r.status, r.body)
	}
	if r := c.do("PUT", "/models/nowhere", options("nowhere-value", "temperature")); r.status != http.StatusBadRequest || r.err(t).Field != "subject" {
		t.Errorf("a subject with no schema: %d %s", r.status, r.body)
	}
	bare := newServer(t, api.Config{}, api.Deps{})
	if r := bare.do("PUT", "/models/m", options("fleet-value", "temperature")); r.status != http.StatusBadRequest || r.err(t).Field != "subject" {
		t.Errorf("a subject without a registry: %d %s", r.status, r.body)
	}
}
