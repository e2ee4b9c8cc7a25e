package fit_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/streamscore/streamscore/internal/fit"
)

func TestHoldoutZeroIsNotTheDefault(t *testing.T) {
	base := `{"family": "gbdt", "features": ["a"], "label": "y"`
	tests := []struct {
		name string
		opts func(t *testing.T) fit.Options
		want float64
	}{
		{"JSON, unset", func(t *testing.T) fit.Options { return mustParse(t, base+`}`) }, fit.DefaultHoldout},
		{"JSON, 0", func(t *testing.T) fit.Options { return mustParse(t, base+`, "holdout": 0}`) }, 0},
		{"YAML, 0", func(t *testing.T) fit.Options {
			var o fit.Options
			if err := yaml.Unmarshal([]byte("family: gbdt\nfeatures: [a]\nlabel: y\nholdout: 0\n"), &o); err != nil {
				t.Fatal(err)
			}
			return o
		}, 0},
		{"Go, WithHoldout(0)", func(t *testing.T) fit.Options { return mustParse(t, base+`}`).WithHoldout(0) }, 0},
		{"JSON round trip of 0", func(t *testing.T) fit.Options {
			b, err := json.Marshal(mustParse(t, base+`, "holdout": 0}`))
			if err != nil {
				t.Fatal(err)
			}
			var o fit.Options
			if err := json.Unmarshal(b, &o); err != nil {
				t.Fatal(err)
			}
			return o
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.opts(t).WithDefaults().Holdout; got != tt.want {
				t.Errorf("holdout %v, want %v", got, tt.want)
			}
		})
	}
}

func mustParse(t *testing.T, body string) fit.Options {
	t.Helper()
	o, err := fit.ParseOptions([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestHoldoutOptionsAreRefusedNamingTheField(t *testing.T) {
	base := `{"family": "gbdt", "features": ["a"], "label": "y"`
	tests := []struct{ name, body, says string }{
		{"holdout and holdout_from", base + `, "holdout": 0.1, "holdout_from": "2026-01-01T00:00:00Z"}`, "holdout_from: give either"},
		{"holdout 0 and holdout_from", base + `, "holdout": 0, "holdout_from": "2026-01-01T00:00:00Z"}`, "holdout_from: give either"},
		{"negative holdout", base + `, "holdout": -0.1}`, "holdout: -0.1 not in [0, 1)"},
		{"holdout_from of the zero time", base + `, "holdout_from": "0001-01-01T00:00:00Z"}`, "holdout_from: 0001-01-01T00:00:00Z is the zero time, which reads as no holdout_from"},
		{"max_rows of 1", base + `, "sample": {"max_rows": 1}}`, "sample.max_rows: 1"},
		{"keep_classes without max_rows", base + `, "sample": {"keep_classes": ["1"]}}`, "sample.keep_classes: applies only with max_rows"},
		{"keep_classes of a regressor", `{"family": "gbdt", "task": "regression", "features": ["a"], "label": "y", "sample": {"max_rows": 9, "keep_classes": ["1"]}}`, "sample.keep_classes: a regressor"},
		{"unknown sample field", base + `, "sample": {"max_row": 9}}`, "max_row: unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fit.ParseOptions([]byte(tt.body))
			if !errors.Is(err, fit.ErrInvalidOptions) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("error %v, want ErrInvalidOptions saying %q", err, tt.says)
			}
		})
	}
}

func TestValidateForAPIRefusesWhatRowsCannotDo(t *testing.T) {
	base := `{"family": "gbdt", "features": ["a"], "label": "y"`
	tests := []struct{ name, body, says string }{
		{"fraction", base + `, "holdout": 0.3}`, ""},
		{"default", base + `}`, ""},
		{"holdout 0", base + `, "holdout": 0}`, "holdout: 0 trains on every row"},
		{"holdout_from", base + `, "holdout_from": "2026-01-01T00:00:00Z"}`, "holdout_from: applies to a training job"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mustParse(t, tt.body).ValidateForAPI()
			if tt.says == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, fit.ErrInvalidOptions) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("error %v, want ErrInvalidOptions saying %q", err, tt.says)
			}
		})
	}
}

// TestHoldoutZeroTrainsOnEveryRow fails where "holdout": 0 became the
// default fraction.
func TestHoldoutZeroTrainsOnEveryRow(t *testing.T) {
	rows := sensorRows(1, 1000)
	opts := gbdtOptions(t, `{"num_trees": 5}`)
	raw, err := json.Marshal(opts)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["holdout"] = 0
	zero := mustParse(t, mustJSON(t, m))
	res, err := fit.Fit(context.Background(), "all", zero, rows, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.TrainRows != len(rows) || res.Evaluation.Rows != 0 || len(res.Evaluation.Metrics) != 0 {
		t.Errorf("trained on %d of %d rows and evaluated %d (metrics %v), want all trained and none evaluated", res.TrainRows, len(rows), res.Evaluation.Rows, res.Evaluation.Metrics)
	}
	if res.Divergence > fit.ParityTolerance {
		t.Errorf("divergence %g", res.Divergence)
	}
}
