package fit_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/model"
)

func TestParseOptionsNamesTheField(t *testing.T) {
	tests := []struct {
		name, body, field string
	}{
		{"empty body", ``, "the body is empty"},
		{"malformed", `{"family": "gbdt",`, "malformed JSON"},
		{"unknown field", `{"family": "gbdt", "featurez": ["a"], "label": "y"}`, "featurez: unknown field"},
		{"wrong type", `{"family": "gbdt", "features": "a", "label": "y"}`, "features: is a JSON string"},
		{"no family", `{"features": ["a"], "label": "y"}`, "family: is required"},
		{"unknown family", `{"family": "forest", "features": ["a"], "label": "y"}`, `family: "forest" is not one of`},
		{"no label", `{"family": "gbdt", "features": ["a"]}`, "label: is required"},
		{"no features", `{"family": "gbdt", "label": "y"}`, "features: at least one"},
		{"label as a feature", `{"family": "gbdt", "features": ["y"], "label": "y"}`, "features[0]: \"y\" is the label"},
		{"repeated feature", `{"family": "gbdt", "features": ["a", "a"], "label": "y"}`, "features[1]: \"a\" is repeated"},
		{"default of no feature", `{"family": "gbdt", "features": ["a"], "defaults": {"b": 1}, "label": "y"}`, `defaults["b"]: is not one of the features`},
		{"text without a text field", `{"family": "text", "label": "y"}`, "text: a text model needs"},
		{"text regressor", `{"family": "text", "task": "regression", "text": "t", "label": "y"}`, "task: a text model is a classifier"},
		{"unknown task", `{"family": "gbdt", "task": "ranking", "features": ["a"], "label": "y"}`, `task: "ranking"`},
		{"holdout out of range", `{"family": "gbdt", "features": ["a"], "label": "y", "holdout": 1.5}`, "holdout: 1.5 not in [0, 1)"},
		{"metric of another task", `{"family": "gbdt", "features": ["a"], "label": "y", "metric": "rmse"}`, "metric: \"rmse\" is not a classification metric"},
		{"unknown parameter", `{"family": "gbdt", "features": ["a"], "label": "y", "params": {"trees": 3}}`, "params.trees: unknown field"},
		{"parameter of a wrong type", `{"family": "gbdt", "features": ["a"], "label": "y", "params": {"num_trees": "many"}}`, "params.num_trees: is a JSON string, want int"},
		{"parameter out of range", `{"family": "gbdt", "features": ["a"], "label": "y", "params": {"max_depth": 99}}`, "params.max_depth: 99 is not in [1, 64]"},
		{"trailing data", `{"family": "gbdt", "features": ["a"], "label": "y"} {}`, "unexpected data after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fit.ParseOptions([]byte(tt.body))
			if !errors.Is(err, fit.ErrInvalidOptions) {
				t.Fatalf("error %v, want ErrInvalidOptions", err)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not contain %q", err, tt.field)
			}
		})
	}
}

func TestOptionsDefaultsAndSpec(t *testing.T) {
	opts, err := fit.ParseOptions([]byte(`{"family": "gbdt", "task": "regression", "features": ["a", "b"], "defaults": {"b": 2}, "label": "y"}`))
	if err != nil {
		t.Fatal(err)
	}
	if opts.Holdout != fit.DefaultHoldout || opts.Metric != fit.MetricRMSE {
		t.Errorf("defaults: holdout %v metric %q", opts.Holdout, opts.Metric)
	}
	spec := opts.Spec("m", nil)
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	cols := spec.Inputs[0].Fields
	if spec.Task != model.Regression || len(cols) != 2 || cols[0].Default != nil || *cols[1].Default != 2 {
		t.Errorf("spec %+v", spec)
	}
}

func TestOptionsFromYAMLCarryParams(t *testing.T) {
	var fromYAML fit.Options
	err := yaml.Unmarshal([]byte("family: gbdt\nfeatures: [a]\nlabel: y\nparams:\n  num_trees: 7\n  learning_rate: 0.5\n"), &fromYAML)
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := fit.ParseOptions([]byte(`{"family": "gbdt", "features": ["a"], "label": "y", "params": {"learning_rate": 0.5, "num_trees": 7}}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(fromYAML.Params) != `{"learning_rate":0.5,"num_trees":7}` {
		t.Errorf("params from YAML %s, want them as JSON", fromYAML.Params)
	}
	fromYAML.Params, fromJSON.Params = nil, nil
	if !reflect.DeepEqual(fromYAML.WithDefaults().Spec("m", nil).Inputs[0].Fields, fromJSON.Spec("m", nil).Inputs[0].Fields) {
		t.Errorf("YAML and JSON options map features differently")
	}
	if err := fromYAML.WithDefaults().Validate(); err != nil {
		t.Errorf("options from YAML do not validate: %v", err)
	}
}

// TestFeatureOptionsNameTheOption refuses each malformed feature option,
// naming it as `option["path"].setting`.
func TestFeatureOptionsNameTheOption(t *testing.T) {
	const head = `{"family": "gbdt", "label": "y", "features": ["temperature", "location.lat", "site", "window", "ts", "code"]`
	tests := []struct {
		name, extra, want string
	}{
		{"path syntax", `, "features": ["a..b"]`, `features[0]: bad path syntax: "a..b" at offset 2`},
		{"label path syntax", `, "label": "y["`, `label: bad path syntax`},
		{"same path spelt twice", `, "features": ["location.lat", "location[\"lat\"]"]`, `features[1]: "location[\"lat\"]" is repeated`},
		{"feature is the label by another spelling", `, "features": ["y", "a"], "label": "y"`, `features[0]: "y" is the label`},
		{"categorical unknown field", `, "categorical": {"site": {"maxx": 3}}`, `categorical["site"].maxx: unknown field`},
		{"categorical wrong type", `, "categorical": {"site": {"max": "many"}}`, `categorical["site"].max: is a JSON string, want int`},
		{"categorical not a feature", `, "categorical": {"city": {}}`, `categorical["city"]: "city" is not one of the features`},
		{"categorical bad unknown", `, "categorical": {"site": {"unknown": "drop"}}`, `categorical["site"].unknown: "drop" is not one of other, dead_letter, category`},
		{"unknown category missing", `, "categorical": {"site": {"unknown": "category"}}`, `categorical["site"].unknown_category: is required with unknown: category`},
		{"unknown category without the policy", `, "categorical": {"site": {"unknown_category": "a"}}`, `categorical["site"].unknown_category: applies only with unknown: category`},
		{"categorical max zero", `, "categorical": {"site": {"max": 0}}`, `categorical["site"].max: 0 is not in [1, 253]`},
		{"categorical max over the bins", `, "categorical": {"site": {"max": 60}}, "params": {"max_bins": 50}`, `categorical["site"].max: 60 is not in [1, 48] (a gbdt's categories, with the other and null codes, fit its max_bins of 50)`},
		{"max_categories zero", `, "max_categories": 0`, `max_categories: 0 is not in [1, 253]`},
		{"max_categories over the bins", `, "max_categories": 254`, `max_categories: 254 is not in [1, 253]`},
		{"categorical with a default", `, "categorical": {"site": {}}, "defaults": {"site": 1}`, `defaults["site"]: a categorical feature reads null as a category of its own`},
		{"array without a length", `, "arrays": {"window": {"pad": 0}}`, `arrays["window"].length: 0 is not in [1, 4096]`},
		{"array unknown field", `, "arrays": {"window": {"length": 4, "padding": 0}}`, `arrays["window"].padding: unknown field`},
		{"array not a feature", `, "arrays": {"window2": {"length": 4}}`, `arrays["window2"]: "window2" is not one of the features`},
		{"array and categorical", `, "arrays": {"site": {"length": 4}}, "categorical": {"site": {}}`, `arrays["site"]: the feature is in categorical already`},
		{"time parts unknown part", `, "time_parts": {"ts": ["minute"]}`, `time_parts["ts"][0]: "minute" is not hour_of_day or day_of_week`},
		{"time parts repeated", `, "time_parts": {"ts": ["hour_of_day", "hour_of_day"]}`, `time_parts["ts"][1]: "hour_of_day" is repeated`},
		{"time parts empty", `, "time_parts": {"ts": []}`, `time_parts["ts"]: is empty`},
		{"time parts not a feature", `, "time_parts": {"when": ["hour_of_day"]}`, `time_parts["when"]: "when" is not one of the features`},
		{"key path syntax", `, "categorical": {"site.": {}}`, `categorical["site."]: bad path syntax`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fit.ParseOptions([]byte(head + tt.extra + "}"))
			if !errors.Is(err, fit.ErrInvalidOptions) {
				t.Fatalf("error %v, want ErrInvalidOptions", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
	t.Run("text model", func(t *testing.T) {
		_, err := fit.ParseOptions([]byte(`{"family": "text", "text": "t", "label": "y", "categorical": {"t": {}}, "max_categories": 3}`))
		for _, want := range []string{"categorical: a text model reads one text field", "max_categories: a text model"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v does not contain %q", err, want)
			}
		}
	})
}

// TestFeatureOptionsAccepted reads the feature options of issue 13's
// example, in JSON and in YAML alike, with keys in any spelling of a path.
func TestFeatureOptionsAccepted(t *testing.T) {
	fromJSON, err := fit.ParseOptions([]byte(`{
		"family": "gbdt", "label": "anomaly",
		"features": ["temperature", "location.lat", "status", "device.model", "site", "window", "attributes.firmware", "ts", "code"],
		"categorical": {"site": {"max": 50, "unknown": "dead_letter"}, "device[\"model\"]": {"unknown": "category", "unknown_category": "X100"}, "code": {}},
		"max_categories": 100,
		"arrays": {"window": {"length": 8, "pad": 0}},
		"time_parts": {"ts": ["hour_of_day", "day_of_week"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	var fromYAML fit.Options
	err = yaml.Unmarshal([]byte(`family: gbdt
label: anomaly
features: [temperature, location.lat, status, device.model, site, window, attributes.firmware, ts, code]
categorical:
  site: {max: 50, unknown: dead_letter}
  device["model"]: {unknown: category, unknown_category: X100}
  code: {}
max_categories: 100
arrays: {window: {length: 8, pad: 0}}
time_parts: {ts: [hour_of_day, day_of_week]}
`), &fromYAML)
	if err != nil {
		t.Fatal(err)
	}
	if err := fromYAML.WithDefaults().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, o := range []fit.Options{fromJSON, fromYAML} {
		site := o.Categorical["site"]
		if site.Max == nil || *site.Max != 50 || site.Unknown != fit.UnknownDeadLetter || *o.MaxCategories != 100 ||
			o.Arrays["window"].Length != 8 || o.Arrays["window"].Pad == nil || len(o.TimeParts["ts"]) != 2 {
			t.Errorf("options read as %+v", o)
		}
	}
}

// TestFeatureOptionsYAMLIsStrict refuses misspelt keys in a job's options,
// which yaml.v3 would otherwise ignore below the top of the document.
func TestFeatureOptionsYAMLIsStrict(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"options key", "family: gbdt\nfeaturez: [a]\nlabel: y\n", "featurez: unknown field (line 2)"},
		{"categorical setting", "family: gbdt\nfeatures: [site]\nlabel: y\ncategorical:\n  site: {unkown: dead_letter}\n", `categorical["site"].unkown: unknown field (line 5)`},
		{"array setting", "family: gbdt\nfeatures: [w]\nlabel: y\narrays:\n  w: {len: 3}\n", `arrays["w"].len: unknown field`},
		{"sample setting", "family: gbdt\nfeatures: [a]\nlabel: y\nsample: {max_row: 3}\n", `sample.max_row: unknown field`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o fit.Options
			err := yaml.Unmarshal([]byte(tt.doc), &o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one naming %q", err, tt.want)
			}
		})
	}
}
