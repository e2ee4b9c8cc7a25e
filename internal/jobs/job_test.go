package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/testkit"
)

func TestRunnerPublishesAndPromotesOnlyWhatBeatsTheChampion(t *testing.T) {
	s := newStack(t)
	s.produce("history", sensorRows(1, 3000))
	cat := s.catalog()
	runner := s.runner(cat)
	ctx := context.Background()
	job := func(params string) jobs.Job {
		return jobs.Job{Name: "sensors", Source: catalog.Source{Topic: "history"}, Options: gbdtOptions(t, params)}
	}

	// The first version is the champion: there is nothing to beat.
	first, err := runner.Run(ctx, job(`{"num_trees": 40, "max_depth": 4}`), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Promoted || first.Version.Version != 1 || first.Reason != "first version" {
		t.Fatalf("first run: version %d promoted %v (%s), want version 1 promoted as the first", first.Version.Version, first.Promoted, first.Reason)
	}

	// A stump cannot beat it on the same holdout: published as the
	// challenger only.
	weak, err := runner.Run(ctx, job(`{"num_trees": 1, "max_depth": 1}`), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if weak.Promoted || weak.Champion == nil {
		t.Fatalf("a weaker model was promoted (%s)", weak.Reason)
	}
	if !strings.Contains(weak.Reason, "does not beat champion v1") {
		t.Errorf("reason %q does not say why", weak.Reason)
	}
	if weak.Champion.Metrics["auc"] != first.Result.Evaluation.Metrics["auc"] {
		t.Errorf("champion re-evaluated at AUC %v, its own evaluation said %v: not the same holdout", weak.Champion.Metrics["auc"], first.Result.Evaluation.Metrics["auc"])
	}
	assertAliases(t, cat.Aliases("sensors"), map[string]int{"champion": 1, "challenger": 2})

	// Forced, it is promoted all the same, and the history says so.
	forced, err := runner.Run(ctx, job(`{"num_trees": 1, "max_depth": 1}`), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !forced.Promoted {
		t.Fatal("a forced training was not promoted")
	}
	assertAliases(t, cat.Aliases("sensors"), map[string]int{"champion": 3, "challenger": 3})
	var forcedChanges int
	for _, c := range cat.History("sensors") {
		if c.Alias == "champion" && c.Forced {
			forcedChanges++
		}
	}
	if forcedChanges != 1 {
		t.Errorf("history holds %d forced champion changes, want 1: %+v", forcedChanges, cat.History("sensors"))
	}

	// What is stored with the version says where it came from.
	v, err := cat.Get("sensors", 2)
	if err != nil {
		t.Fatal(err)
	}
	if v.Parent != 1 || v.Family != "gbdt" || v.Source.Topic != "history" || len(v.Source.Ranges) != 3 {
		t.Errorf("version 2: parent %d, family %q, source %+v", v.Parent, v.Family, v.Source)
	}
	testkit.AssertProfile(t, v, weak.Result.TrainRows)
	var params fit.GBDTParams
	if err := json.Unmarshal(v.Params, &params); err != nil || params.MaxIter != 1 || params.LearningRate != 0.1 {
		t.Errorf("stored params %s (%v): want the effective ones, defaults included", v.Params, err)
	}
	for _, name := range []string{`"l2_regularization":0`, `"random_state":0`, `"max_leaf_nodes":31`} {
		if !strings.Contains(string(v.Params), name) {
			t.Errorf("stored params %s lack %s: a default of zero is stored too", v.Params, name)
		}
	}
	if v.Fit == nil || v.Fit.Iterations != 1 || v.Fit.EarlyStopped {
		t.Errorf("stored fit %+v: want the one round grown, not stopped early", v.Fit)
	}
	for _, m := range []string{"auc", "f1", "precision", "recall", "accuracy"} {
		if _, ok := v.Metrics[m]; !ok {
			t.Errorf("stored metrics %v lack %s", v.Metrics, m)
		}
	}
}

func TestJobValidateRanges(t *testing.T) {
	opts := gbdtOptions(t, `{}`)
	r := func(partition int32, start, end int64) catalog.OffsetRange {
		return catalog.OffsetRange{Partition: partition, Start: start, End: end}
	}
	tests := []struct {
		name         string
		source, test []catalog.OffsetRange // test nil: no test source
		says         string                // "" is valid
	}{
		{"one range per partition", []catalog.OffsetRange{r(0, 0, 10), r(1, 5, 10)}, nil, ""},
		{"one offset", []catalog.OffsetRange{r(0, 9, 10)}, nil, ""},
		{"negative start", []catalog.OffsetRange{r(0, -1, 10)}, nil, `source.ranges[0]: start -1 is negative`},
		{"negative partition", []catalog.OffsetRange{r(-1, 0, 10)}, nil, `source.ranges[0]: partition -1 is negative`},
		{"end at start", []catalog.OffsetRange{r(0, 0, 10), r(1, 10, 10)}, nil, `source.ranges[1]: end 10 is not after start 10 (end is exclusive)`},
		{"end before start", []catalog.OffsetRange{r(0, 10, 5)}, nil, `source.ranges[0]: end 5 is not after start 10`},
		{"two ranges of a partition", []catalog.OffsetRange{r(0, 0, 10), r(1, 0, 10), r(0, 20, 30)}, nil,
			`source.ranges[2]: partition 0 already has source.ranges[0]: give one range per partition`},
		{"test source's negative start", []catalog.OffsetRange{r(0, 0, 10)}, []catalog.OffsetRange{r(0, -5, 10)}, `test_source.ranges[0]: start -5 is negative`},
		{"test source's two ranges of a partition", []catalog.OffsetRange{r(0, 0, 10)}, []catalog.OffsetRange{r(0, 10, 20), r(0, 30, 40)},
			`test_source.ranges[1]: partition 0 already has test_source.ranges[0]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job := jobs.Job{Name: "m", Source: catalog.Source{Topic: "h", Ranges: tt.source}, Options: opts, Promote: jobs.PromoteAlways}
			if tt.test != nil {
				job.TestSource = &catalog.Source{Topic: "h", Ranges: tt.test}
			}
			err := job.Validate()
			if tt.says == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, fit.ErrInvalidOptions) || !strings.Contains(err.Error(), `job "m": `+tt.says) {
				t.Errorf("error %v, want ErrInvalidOptions saying %q", err, tt.says)
			}
		})
	}
}

// TestJobReadErrorsNameTheSource checks that what cannot be read of a
// test source is refused naming test_source, not source.
func TestJobReadErrorsNameTheSource(t *testing.T) {
	s := newStack(t)
	s.produce("history", sensorRows(1, 300))
	runner := s.runner(s.catalog())
	first := []catalog.OffsetRange{{Partition: 0, Start: 0, End: 100}}
	tests := []struct {
		name         string
		source, test catalog.Source
		says         string
	}{
		{"source topic", catalog.Source{Topic: "nowhere"}, catalog.Source{Topic: "history"}, `: source.topic: "nowhere" does not exist`},
		{"test source topic", catalog.Source{Topic: "history"}, catalog.Source{Topic: "nowhere"}, `: test_source.topic: "nowhere" does not exist`},
		{"test source partition", catalog.Source{Topic: "history", Ranges: first},
			catalog.Source{Topic: "history", Ranges: []catalog.OffsetRange{{Partition: 9, End: 5}}}, `: test_source.ranges: history has no partition 9`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			job := jobs.Job{Name: "m", Source: tt.source, TestSource: &tt.test, Options: gbdtOptions(t, `{"max_iter": 2}`)}
			_, err := runner.Run(ctx, job, false, nil)
			if !errors.Is(err, fit.ErrInvalidOptions) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %v, want ErrInvalidOptions saying %q", err, tt.says)
			}
		})
	}
}

func assertAliases(t *testing.T, got, want map[string]int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("aliases %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("aliases %v, want %v", got, want)
		}
	}
}

func TestJobValidateHoldouts(t *testing.T) {
	opts := func(extra string) fit.Options {
		var o fit.Options
		if err := yaml.Unmarshal([]byte("family: gbdt\nfeatures: [a]\nlabel: y\n"+extra), &o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	src := catalog.Source{Topic: "h", Ranges: []catalog.OffsetRange{{Partition: 0, Start: 0, End: 100}}}
	tests := []struct {
		name string
		job  jobs.Job
		says string // "" is valid
	}{
		{"holdout 0, if_better by default", jobs.Job{Source: src, Options: opts("holdout: 0\n")}, "options.holdout: 0 trains on every row"},
		{"holdout 0, if_better", jobs.Job{Source: src, Options: opts("holdout: 0\n"), Promote: "if_better"}, "options.holdout: 0"},
		{"holdout 0, always", jobs.Job{Source: src, Options: opts("holdout: 0\n"), Promote: "always"}, ""},
		{"holdout 0, never", jobs.Job{Source: src, Options: opts("holdout: 0\n"), Promote: "never"}, ""},
		{"test source without topic", jobs.Job{Source: src, TestSource: &catalog.Source{}, Options: opts("")}, "test_source.topic: is required"},
		{"test source and holdout", jobs.Job{Source: src, TestSource: &catalog.Source{Topic: "t"}, Options: opts("holdout: 0.1\n")}, "test_source: give one of"},
		{"test source and holdout_from", jobs.Job{Source: src, TestSource: &catalog.Source{Topic: "t"}, Options: opts("holdout_from: 2026-01-01T00:00:00Z\n")}, "test_source: give one of"},
		{"test source overlapping", jobs.Job{Source: src, TestSource: &catalog.Source{Topic: "h", Ranges: []catalog.OffsetRange{{Partition: 0, Start: 50, End: 150}}}, Options: opts("")}, "test_source: overlaps source"},
		{"test source of the whole topic", jobs.Job{Source: src, TestSource: &catalog.Source{Topic: "h"}, Options: opts("")}, "test_source: overlaps source"},
		{"test source after the source", jobs.Job{Source: src, TestSource: &catalog.Source{Topic: "h", Ranges: []catalog.OffsetRange{{Partition: 0, Start: 100, End: 150}}}, Options: opts("")}, ""},
		{"test source after the source's window", jobs.Job{Source: catalog.Source{Topic: "h", To: time.Unix(100, 0)}, TestSource: &catalog.Source{Topic: "h", From: time.Unix(100, 0)}, Options: opts("")}, ""},
		{"test source of another topic", jobs.Job{Source: src, TestSource: &catalog.Source{Topic: "t"}, Options: opts("")}, ""},
		{"holdout_from of the zero time in YAML", jobs.Job{Source: src, Options: opts("holdout_from: 0001-01-01T00:00:00Z\n")}, "holdout_from: 0001-01-01T00:00:00Z is the zero time"},
		{"holdout_from with a window", jobs.Job{Source: src, Window: time.Hour, Options: opts("holdout_from: 2026-01-01T00:00:00Z\n")}, "window, options.holdout_from: the window moves its start past a fixed holdout_from"},
		{"holdout_from without a window", jobs.Job{Source: src, Options: opts("holdout_from: 2026-01-01T00:00:00Z\n")}, ""},
		{"holdout fraction with a window", jobs.Job{Source: src, Window: time.Hour, Options: opts("holdout: 0.3\n")}, ""},
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
			if !errors.Is(err, fit.ErrInvalidOptions) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("error %v, want ErrInvalidOptions saying %q", err, tt.says)
			}
		})
	}
}

// TestJobTakesNoSubject refuses a subject in a job's options: a job is
// checked against its topic's own subject.
func TestJobTakesNoSubject(t *testing.T) {
	opts, err := fit.ParseOptions([]byte(`{"family": "gbdt", "features": ["a"], "label": "y", "subject": "other-value"}`))
	if err != nil {
		t.Fatal(err)
	}
	err = jobs.Job{Name: "m", Source: catalog.Source{Topic: "history"}, Options: opts}.Validate()
	if !errors.Is(err, fit.ErrInvalidOptions) || !strings.Contains(err.Error(), "options.subject: a job checks its features against its topic's schema (history-value)") {
		t.Errorf("error %v", err)
	}
}
