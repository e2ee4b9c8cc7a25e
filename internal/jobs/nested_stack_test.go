package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/internal/testkit"
	"github.com/streamscore/streamscore/schemas"
)

// labelledNestedSchema is the nested sensor reading's schema with the
// anomaly label: nested records (device, location), enums (status,
// device.model), a categorical string (site), an array (vibration_window),
// a map (attributes) and nullable unions (device.battery_volts,
// location.floor).
func labelledNestedSchema(t testing.TB) string {
	t.Helper()
	var s map[string]any
	if err := json.Unmarshal([]byte(schemas.SensorReadingNested), &s); err != nil {
		t.Fatal(err)
	}
	s["name"] = "LabelledNestedSensorReading"
	s["fields"] = append(s["fields"].([]any), map[string]any{"name": "anomaly", "type": "boolean", "default": false})
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// nestedRows generates labelled nested readings, oldest first.
var nestedRows = testkit.NestedRows

// nestedJob is a job on the nested topic naming features by path: a
// categorical string capped by max_categories, enums, an int listed as
// categorical, a whole window of four, a map's keys (one every device has,
// one some lack), the timestamp's parts and nullable unions with defaults.
const nestedJob = `
name: nested
source: {topic: nested}
options:
  family: %s
  label: anomaly
  features: [temperature, humidity, vibration, location.lat, status, device.model, site, vibration_window,
    attributes.zone, attributes.owner, ts, device.battery_volts, location.floor, rssi]
  defaults: {device.battery_volts: 3.6, location.floor: 0}
  max_categories: 20
  categorical: {rssi: {max: 8}}
  arrays: {vibration_window: {length: 4, pad: 0}}
  time_parts: {ts: [hour_of_day, day_of_week]}
  params: %s
`

func parseJob(t *testing.T, text string) jobs.Job {
	t.Helper()
	var job jobs.Job
	dec := yaml.NewDecoder(strings.NewReader(text))
	dec.KnownFields(true)
	if err := dec.Decode(&job); err != nil {
		t.Fatalf("job %s: %v", text, err)
	}
	if err := job.Validate(); err != nil {
		t.Fatalf("job %s: %v", text, err)
	}
	return job
}

// TestNestedSchemaJobTrainsAndPublishes trains jobs (gbdt and linear) on a
// topic of nested readings over kfake and the registry, features named by
// path, and checks what is published: the columns in the job's order, the
// strings and enums categorical without being listed, each table learnt
// from the training rows alone (the oldest 80%), most frequent first, ties
// by value, capped (max_categories, categorical.max), the window as four
// columns, the timestamp as two parts; every row usable (the nulls have
// defaults or a code of their own, short windows padded); ONNX Runtime
// equal to the Go model on the holdout; the catalog's artifact carrying
// the same spec.
func TestNestedSchemaJobTrainsAndPublishes(t *testing.T) {
	const n = 3000
	s := newStack(t)
	rows := nestedRows(1, n)
	s.produceTo(s.topic("nested", labelledNestedSchema(t)), rows)
	cat := s.catalog()
	runner := s.runner(cat)
	trainRows := rows[:n-n/5]

	for _, family := range []struct{ name, params string }{
		{"gbdt", "{max_iter: 30, max_depth: 4}"},
		{"linear", "{max_iter: 300}"},
	} {
		t.Run(family.name, func(t *testing.T) {
			job := parseJob(t, strings.ReplaceAll(strings.ReplaceAll(nestedJob, "family: %s", "family: "+family.name), "params: %s", "params: "+family.params))
			job.Name = "nested-" + family.name
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			out, err := runner.Run(ctx, job, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !out.Promoted || out.Version.Version != 1 {
				t.Fatalf("version %d promoted %v (%s)", out.Version.Version, out.Promoted, out.Reason)
			}
			if len(nonZeroCounts(out.Result.Skipped)) != 0 || out.Result.TrainRows != len(trainRows) || out.Result.Evaluation.Rows != n/5 {
				t.Errorf("trained on %d rows, evaluated %d, skipped %v: want every row usable", out.Result.TrainRows, out.Result.Evaluation.Rows, out.Result.Skipped)
			}
			if d := out.Result.Divergence; d > fit.ParityTolerance {
				t.Errorf("ONNX Runtime differs from the Go model by %g", d)
			}
			if auc := out.Result.Evaluation.Metrics["auc"]; auc < 0.8 {
				t.Errorf("holdout AUC %.3f", auc)
			}

			spec := out.Version.Spec
			cols := spec.Inputs[0].Fields
			var names []string
			for _, f := range cols {
				names = append(names, f.Field+map[bool]string{true: ":" + f.Part}[f.Part != ""])
			}
			want := []string{"temperature", "humidity", "vibration", "location.lat", "status", "device.model", "site", "vibration_window",
				"attributes.zone", "attributes.owner", "ts:hour_of_day", "ts:day_of_week", "device.battery_volts", "location.floor", "rssi"}
			if !slices.Equal(names, want) {
				t.Fatalf("columns %v, want %v", names, want)
			}
			byField := map[string]model.Feature{}
			for _, f := range cols {
				byField[f.Field] = f
			}
			for _, c := range []struct {
				path string
				max  int
			}{{"status", 20}, {"device.model", 20}, {"site", 20}, {"attributes.zone", 20}, {"attributes.owner", 20}, {"rssi", 8}} {
				if got, want := byField[c.path].Categories, learntTable(t, trainRows, c.path, c.max); !slices.Equal(got, want) {
					t.Errorf("%s: categories %q, want %q (the training rows' most frequent first)", c.path, got, want)
				}
			}
			if len(byField["site"].Categories) != 20 {
				t.Errorf("site: %d categories, want max_categories' 20 of the 48 sites", len(byField["site"].Categories))
			}
			for _, path := range []string{"temperature", "location.lat", "location.floor"} {
				if byField[path].Categorical() {
					t.Errorf("%s is categorical", path)
				}
			}
			if w := byField["vibration_window"]; w.Length != 4 || w.Pad == nil || *w.Pad != 0 {
				t.Errorf("vibration_window: %+v", w)
			}

			// The artifact carries the very spec, tables included.
			artifact, err := cat.Artifact(ctx, job.Name, 1)
			if err != nil {
				t.Fatal(err)
			}
			m, err := model.Load(artifact, model.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			embedded := m.Spec()
			embedded.Version = spec.Version
			if !reflect.DeepEqual(embedded, spec) {
				t.Errorf("the artifact's spec differs from the catalog's:\n%+v\n%+v", embedded, spec)
			}
			// Scored as the scorer would, on the records themselves, the
			// model agrees with the trainer's own evaluation.
			ev, err := fit.EvaluateRows(m, fit.Records(rows[n-n/5:]), "anomaly")
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(ev.Metrics, out.Result.Evaluation.Metrics) {
				t.Errorf("the holdout records score %v, the trainer's evaluation %v", ev.Metrics, out.Result.Evaluation.Metrics)
			}
		})
	}
}

// nonZeroCounts is counts without its zero entries.
var nonZeroCounts = testkit.NonZero

// TestIssueExampleTrains is issue 13's failing example: features
// [temperature, location.lat, status, device.model, site] on nested
// records read 3,000 records and then found no usable row. Now every row
// is usable, the enums and the string are categorical, and the model
// trains and publishes.
func TestIssueExampleTrains(t *testing.T) {
	s := newStack(t)
	s.produceTo(s.topic("fleet", labelledNestedSchema(t)), nestedRows(2, 3000))
	runner := s.runner(s.catalog())
	opts, err := fit.ParseOptions([]byte(`{"family": "gbdt", "label": "anomaly",
		"features": ["temperature", "location.lat", "status", "device.model", "site"], "params": {"max_iter": 20}}`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := runner.Run(context.Background(), jobs.Job{Name: "issue-13", Source: catalog.Source{Topic: "fleet"}, Options: opts}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.Records != 3000 || out.Result.TrainRows != 2400 || len(nonZeroCounts(out.Result.Skipped)) != 0 {
		t.Errorf("read %d records, trained on %d rows, skipped %v", out.Records, out.Result.TrainRows, out.Result.Skipped)
	}
	for _, f := range out.Version.Spec.Inputs[0].Fields {
		if categorical := slices.Contains([]string{"status", "device.model", "site"}, f.Field); f.Categorical() != categorical {
			t.Errorf("%s: categories %q", f.Field, f.Categories)
		}
	}
}

// countingDecoder counts the records decoded.
type countingDecoder struct {
	jobs.Decoder
	n atomic.Int64
}

func (d *countingDecoder) Decode(value []byte) (serde.Decoded, error) {
	d.n.Add(1)
	return d.Decoder.Decode(value)
}

// TestJobWithBadPathsRefusedBeforeReading gives a job paths the topic's
// latest schema cannot feed: a field a nested record lacks, a step into a
// string, an index into a map, a whole array without arrays, a double as a
// category, a time part of a number, and a label that is a record. The job
// is refused before a single record is decoded, with one error naming
// every path and its Avro type; a path the schema lacks with a default is
// accepted (an older schema's records read as the default).
func TestJobWithBadPathsRefusedBeforeReading(t *testing.T) {
	s := newStack(t)
	s.produceTo(s.topic("fleet", labelledNestedSchema(t)), nestedRows(3, 500))
	dec := &countingDecoder{Decoder: s.decoder}
	runner := s.runner(s.catalog())
	runner.Decoder = dec
	opts, err := fit.ParseOptions([]byte(`{"family": "gbdt", "label": "location",
		"features": ["temperature", "location.alt", "site.code", "attributes[2]", "vibration_window", "location.lon", "humidity", "device.serial"],
		"defaults": {"device.serial": 0},
		"categorical": {"location.lon": {}}, "time_parts": {"humidity": ["hour_of_day"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = runner.Run(context.Background(), jobs.Job{Name: "refused", Source: catalog.Source{Topic: "fleet"}, Options: opts}, false, nil)
	if !errors.Is(err, fit.ErrInvalidOptions) || !errors.Is(err, model.ErrSchemaMismatch) {
		t.Fatalf("error %v, want invalid options and a schema mismatch", err)
	}
	for _, want := range []string{
		"fleet-value version 1: 7 paths do not fit",
		`location.alt: record Location has no field "alt"`,
		"site.code: site is string",
		"attributes[2]: attributes is map<string>",
		`vibration_window: is array<double>: a whole array needs arrays["vibration_window"].length`,
		"location.lon: is double: a category is a string, an enum, an int, a long or a boolean",
		`humidity: is double: time_parts["humidity"] takes a timestamp`,
		"location: is record Location; a class label is a string, an enum, a number or a boolean (the label)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "device.serial") {
		t.Errorf("error %q names device.serial, which has a default", err)
	}
	if got := dec.n.Load(); got != 0 {
		t.Errorf("%d records decoded before the job was refused", got)
	}

	// A runner without a registry client checks against the writer schema
	// of the topic's newest record: refused all the same.
	runner.Schemas = nil
	if _, err := runner.Run(context.Background(), jobs.Job{Name: "refused", Source: catalog.Source{Topic: "fleet"}, Options: opts}, false, nil); !errors.Is(err, model.ErrSchemaMismatch) ||
		!strings.Contains(err.Error(), `location.alt: record Location has no field "alt"`) {
		t.Errorf("without a registry client: %v", err)
	}
}

// TestNestedChampionJudgedOnTheCandidatesRows retrains nested models whose
// champion reads categories the candidate reads otherwise or not at all:
// the champion must be evaluated on the candidate's holdout rows exactly
// as it reads them, the same as evaluating it directly on those records,
// with a fraction holdout and with a test source on another topic.
func TestNestedChampionJudgedOnTheCandidatesRows(t *testing.T) {
	const n = 2000
	s := newStack(t)
	history, later := nestedRows(4, n), nestedRows(5, 600)
	s.produceTo(s.topic("nested", labelledNestedSchema(t)), history)
	s.produceTo(s.topic("nested.later", labelledNestedSchema(t)), later)
	cat := s.catalog()
	runner := s.runner(cat)
	options := func(extra string) fit.Options {
		t.Helper()
		opts, err := fit.ParseOptions([]byte(`{"family": "gbdt", "label": "anomaly", "params": {"max_iter": 15, "max_depth": 3}` + extra + `}`))
		if err != nil {
			t.Fatal(err)
		}
		return opts
	}
	// The champion: sites (capped), a window, the hour, a map key. The
	// candidates read the site with another cap (the same reading: raw
	// values), the window as one element, and no map key.
	champion := options(`, "features": ["temperature", "site", "vibration_window", "ts", "attributes.zone"],
		"categorical": {"site": {"max": 5}}, "arrays": {"vibration_window": {"length": 4, "pad": 0}}, "time_parts": {"ts": ["hour_of_day"]}`)
	candidate := options(`, "features": ["humidity", "site", "vibration_window[0]", "status"], "categorical": {"site": {"max": 30}}, "defaults": {"vibration_window[0]": 0}`)
	for i, tt := range []struct {
		name string
		test *catalog.Source
		rows []map[string]any
	}{
		{"fraction holdout", nil, history[n-n/5:]},
		{"test source", &catalog.Source{Topic: "nested.later"}, later},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("nested-judged-%d", i)
			first, err := runner.Run(context.Background(), jobs.Job{Name: name, Source: catalog.Source{Topic: "nested"}, Options: champion}, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			out, err := runner.Run(context.Background(), jobs.Job{Name: name, Source: catalog.Source{Topic: "nested"}, TestSource: tt.test, Options: candidate}, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			if out.Champion == nil {
				t.Fatalf("the champion was not evaluated: %s", out.Reason)
			}
			want := evaluateVersion(t, cat, name, first.Version.Version, tt.rows)
			if got := *out.Champion; got.Rows != len(tt.rows) || !maps.Equal(got.Metrics, want.Metrics) {
				t.Errorf("champion evaluated on %d rows: %v; directly on the %d holdout records: %v", got.Rows, got.Metrics, len(tt.rows), want.Metrics)
			}
			if out.Result.Divergence > fit.ParityTolerance || out.Result.Evaluation.Rows != len(tt.rows) {
				t.Errorf("candidate: %d rows evaluated, divergence %g", out.Result.Evaluation.Rows, out.Result.Divergence)
			}
		})
	}
}
