package trainer_test

import (
	"errors"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/trainer"
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
		{"default of no feature", `{"family": "gbdt", "features": ["a"], "defaults": {"b": 1}, "label": "y"}`, "defaults.b: is not one of the features"},
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
			_, err := trainer.ParseOptions([]byte(tt.body))
			if !errors.Is(err, trainer.ErrInvalidOptions) {
				t.Fatalf("error %v, want ErrInvalidOptions", err)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not contain %q", err, tt.field)
			}
		})
	}
}

func TestOptionsDefaultsAndSpec(t *testing.T) {
	opts, err := trainer.ParseOptions([]byte(`{"family": "gbdt", "task": "regression", "features": ["a", "b"], "defaults": {"b": 2}, "label": "y"}`))
	if err != nil {
		t.Fatal(err)
	}
	if opts.Holdout != trainer.DefaultHoldout || opts.Metric != trainer.MetricRMSE {
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
	var fromYAML trainer.Options
	err := yaml.Unmarshal([]byte("family: gbdt\nfeatures: [a]\nlabel: y\nparams:\n  num_trees: 7\n  learning_rate: 0.5\n"), &fromYAML)
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := trainer.ParseOptions([]byte(`{"family": "gbdt", "features": ["a"], "label": "y", "params": {"learning_rate": 0.5, "num_trees": 7}}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(fromYAML.Params) != `{"learning_rate":0.5,"num_trees":7}` {
		t.Errorf("params from YAML %s, want them as JSON", fromYAML.Params)
	}
	fromYAML.Params, fromJSON.Params = nil, nil
	if fromYAML.WithDefaults().Spec("m", nil).Inputs[0].Fields[0] != fromJSON.Spec("m", nil).Inputs[0].Fields[0] {
		t.Errorf("YAML and JSON options map features differently")
	}
	if err := fromYAML.WithDefaults().Validate(); err != nil {
		t.Errorf("options from YAML do not validate: %v", err)
	}
}
