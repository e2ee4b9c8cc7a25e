package trainer_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/streamscore/streamscore/internal/trainer"
)

func TestHoldoutZeroIsNotTheDefault(t *testing.T) {
	base := `{"family": "gbdt", "features": ["a"], "label": "y"`
	tests := []struct {
		name string
		opts func(t *testing.T) trainer.Options
		want float64
	}{
		{"JSON, unset", func(t *testing.T) trainer.Options { return mustParse(t, base+`}`) }, trainer.DefaultHoldout},
		{"JSON, 0", func(t *testing.T) trainer.Options { return mustParse(t, base+`, "holdout": 0}`) }, 0},
		{"YAML, 0", func(t *testing.T) trainer.Options {
			var o trainer.Options
			if err := yaml.Unmarshal([]byte("family: gbdt\nfeatures: [a]\nlabel: y\nholdout: 0\n"), &o); err != nil {
				t.Fatal(err)
			}
			return o
		}, 0},
		{"Go, WithHoldout(0)", func(t *testing.T) trainer.Options { return mustParse(t, base+`}`).WithHoldout(0) }, 0},
		{"JSON round trip of 0", func(t *testing.T) trainer.Options {
			b, err := json.Marshal(mustParse(t, base+`, "holdout": 0}`))
			if err != nil {
				t.Fatal(err)
			}
			var o trainer.Options
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

func mustParse(t *testing.T, body string) trainer.Options {
	t.Helper()
	o, err := trainer.ParseOptions([]byte(body))
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
			_, err := trainer.ParseOptions([]byte(tt.body))
			if !errors.Is(err, trainer.ErrInvalidOptions) || !strings.Contains(err.Error(), tt.says) {
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
			if !errors.Is(err, trainer.ErrInvalidOptions) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("error %v, want ErrInvalidOptions saying %q", err, tt.says)
			}
		})
	}
}

func TestJobValidateHoldouts(t *testing.T) {
	opts := func(extra string) trainer.Options {
		var o trainer.Options
		if err := yaml.Unmarshal([]byte("family: gbdt\nfeatures: [a]\nlabel: y\n"+extra), &o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	src := trainer.Source{Topic: "h", Ranges: []trainer.OffsetRange{{Partition: 0, Start: 0, End: 100}}}
	tests := []struct {
		name string
		job  trainer.Job
		says string // "" is valid
	}{
		{"holdout 0, if_better by default", trainer.Job{Source: src, Options: opts("holdout: 0\n")}, "options.holdout: 0 trains on every row"},
		{"holdout 0, if_better", trainer.Job{Source: src, Options: opts("holdout: 0\n"), Promote: "if_better"}, "options.holdout: 0"},
		{"holdout 0, always", trainer.Job{Source: src, Options: opts("holdout: 0\n"), Promote: "always"}, ""},
		{"holdout 0, never", trainer.Job{Source: src, Options: opts("holdout: 0\n"), Promote: "never"}, ""},
		{"test source without topic", trainer.Job{Source: src, TestSource: &trainer.Source{}, Options: opts("")}, "test_source.topic: is required"},
		{"test source and holdout", trainer.Job{Source: src, TestSource: &trainer.Source{Topic: "t"}, Options: opts("holdout: 0.1\n")}, "test_source: give one of"},
		{"test source and holdout_from", trainer.Job{Source: src, TestSource: &trainer.Source{Topic: "t"}, Options: opts("holdout_from: 2026-01-01T00:00:00Z\n")}, "test_source: give one of"},
		{"test source overlapping", trainer.Job{Source: src, TestSource: &trainer.Source{Topic: "h", Ranges: []trainer.OffsetRange{{Partition: 0, Start: 50, End: 150}}}, Options: opts("")}, "test_source: overlaps source"},
		{"test source of the whole topic", trainer.Job{Source: src, TestSource: &trainer.Source{Topic: "h"}, Options: opts("")}, "test_source: overlaps source"},
		{"test source after the source", trainer.Job{Source: src, TestSource: &trainer.Source{Topic: "h", Ranges: []trainer.OffsetRange{{Partition: 0, Start: 100, End: 150}}}, Options: opts("")}, ""},
		{"test source after the source's window", trainer.Job{Source: trainer.Source{Topic: "h", To: time.Unix(100, 0)}, TestSource: &trainer.Source{Topic: "h", From: time.Unix(100, 0)}, Options: opts("")}, ""},
		{"test source of another topic", trainer.Job{Source: src, TestSource: &trainer.Source{Topic: "t"}, Options: opts("")}, ""},
		{"holdout_from of the zero time in YAML", trainer.Job{Source: src, Options: opts("holdout_from: 0001-01-01T00:00:00Z\n")}, "holdout_from: 0001-01-01T00:00:00Z is the zero time"},
		{"holdout_from with a window", trainer.Job{Source: src, Window: time.Hour, Options: opts("holdout_from: 2026-01-01T00:00:00Z\n")}, "window, options.holdout_from: the window moves its start past a fixed holdout_from"},
		{"holdout_from without a window", trainer.Job{Source: src, Options: opts("holdout_from: 2026-01-01T00:00:00Z\n")}, ""},
		{"holdout fraction with a window", trainer.Job{Source: src, Window: time.Hour, Options: opts("holdout: 0.3\n")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.job.Name = "m"
			err := tt.job.Validate()
			if tt.says == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, trainer.ErrInvalidOptions) || !strings.Contains(err.Error(), tt.says) {
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
	res, err := trainer.Fit(context.Background(), "all", zero, rows, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.TrainRows != len(rows) || res.Evaluation.Rows != 0 || len(res.Evaluation.Metrics) != 0 {
		t.Errorf("trained on %d of %d rows and evaluated %d (metrics %v), want all trained and none evaluated", res.TrainRows, len(rows), res.Evaluation.Rows, res.Evaluation.Metrics)
	}
	if res.Divergence > trainer.ParityTolerance {
		t.Errorf("divergence %g", res.Divergence)
	}
}
