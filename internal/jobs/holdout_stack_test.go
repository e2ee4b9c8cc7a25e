package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/testkit"
)

// TestJobHoldouts trains jobs over a 3-partition topic of 3000 rows (1000
// a partition, round robin) with each kind of holdout.
func TestJobHoldouts(t *testing.T) {
	s := newStack(t)
	rows := sensorRows(1, 3000)
	s.produce("history", rows)
	s.produce("later", sensorRows(2, 500))
	cat := s.catalog()
	runner := s.runner(cat)
	yamlOpts := func(extra string) fit.Options {
		t.Helper()
		return withYAML(t, gbdtOptions(t, `{"num_trees": 5}`), extra)
	}
	cut := rows[2400]["ts"].(time.Time)
	firstTwo := []catalog.OffsetRange{{Partition: 0, Start: 0, End: 1000}, {Partition: 1, Start: 0, End: 1000}}

	tests := []struct {
		name               string
		job                jobs.Job
		trained, evaluated int
		holdout            string // as stored in the catalog
		testTopic          string
	}{
		{"holdout 0", jobs.Job{Source: catalog.Source{Topic: "history"}, Options: yamlOpts("holdout: 0\n"), Promote: "always"}, 3000, 0, "none (holdout 0)", ""},
		{"default fraction", jobs.Job{Source: catalog.Source{Topic: "history"}, Options: yamlOpts("")}, 2400, 600, "the newest 20% of rows", ""},
		{"holdout_from", jobs.Job{Source: catalog.Source{Topic: "history"}, Options: yamlOpts("holdout_from: " + cut.Format(time.RFC3339Nano) + "\n")}, 2400, 600, "records from " + cut.UTC().Format(time.RFC3339Nano), ""},
		{"test source by offset ranges", jobs.Job{Source: catalog.Source{Topic: "history", Ranges: firstTwo},
			TestSource: &catalog.Source{Topic: "history", Ranges: []catalog.OffsetRange{{Partition: 2, Start: 0, End: 1000}}}, Options: yamlOpts("")}, 2000, 1000, "test source", "history"},
		{"test source of another topic", jobs.Job{Source: catalog.Source{Topic: "history"}, TestSource: &catalog.Source{Topic: "later"}, Options: yamlOpts("")}, 3000, 500, "test source", "later"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.job.Name = fmt.Sprintf("holdout-%d", i) // a model per case: no champion to beat
			if err := tt.job.Validate(); err != nil {
				t.Fatal(err)
			}
			out, err := runner.Run(context.Background(), tt.job, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			res := out.Result
			if res.TrainRows != tt.trained || res.Evaluation.Rows != tt.evaluated {
				t.Errorf("trained on %d rows and evaluated %d, want %d and %d (skipped %v, %v)", res.TrainRows, res.Evaluation.Rows, tt.trained, tt.evaluated, res.Skipped, res.Evaluation.Skipped)
			}
			if (tt.evaluated > 0) != (res.Evaluation.Metrics["auc"] > 0) {
				t.Errorf("metrics %v with %d rows evaluated", res.Evaluation.Metrics, tt.evaluated)
			}
			v, err := cat.Get(tt.job.Name, out.Version.Version)
			if err != nil {
				t.Fatal(err)
			}
			if v.Source.Holdout != tt.holdout {
				t.Errorf("catalog holdout %q, want %q", v.Source.Holdout, tt.holdout)
			}
			switch {
			case tt.testTopic == "" && v.Source.Test != nil:
				t.Errorf("catalog test source %+v, want none", v.Source.Test)
			case tt.testTopic != "" && (v.Source.Test == nil || v.Source.Test.Topic != tt.testTopic || len(v.Source.Test.Ranges) == 0):
				t.Errorf("catalog test source %+v, want topic %q with its ranges", v.Source.Test, tt.testTopic)
			}
		})
	}
}

// withYAML sets more options as a job file would.
func withYAML(t *testing.T, o fit.Options, extra string) fit.Options {
	t.Helper()
	if extra == "" {
		return o
	}
	var more struct {
		Holdout     *float64  `yaml:"holdout"`
		HoldoutFrom time.Time `yaml:"holdout_from"`
	}
	if err := yaml.Unmarshal([]byte(extra), &more); err != nil {
		t.Fatal(err)
	}
	if more.Holdout != nil {
		o = o.WithHoldout(*more.Holdout)
	}
	o.HoldoutFrom = more.HoldoutFrom
	return o
}

func TestReadTrainingSampleKeepsEveryPositive(t *testing.T) {
	s := newStack(t)
	rows := sensorRows(3, 3000)
	s.produce("history", rows)
	read := func(sample fit.Sample) *jobs.History {
		opts := gbdtOptions(t, "")
		opts.Sample = &sample
		h, err := jobs.ReadTraining(context.Background(), s.kafkaOpts(), s.decoder, catalog.Source{Topic: "history"}, opts, jobs.ReadConfig{})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	// The rows a model can use: a fraction of the readings lack a feature.
	all := read(fit.Sample{})
	usable, positives := all.Len(), all.ClassCounts()["true"]
	if positives == 0 || positives > usable/5 || usable < 2000 {
		t.Fatalf("%d usable rows, %d positives: the test needs a rare class and more than 2000 rows", usable, positives)
	}
	stratified := read(fit.Sample{MaxRows: 1000, KeepClasses: []string{"true"}, Seed: 7})
	if got := stratified.ClassCounts(); stratified.Len() != 1000 || got["true"] != positives || got["false"] != 1000-positives {
		t.Errorf("stratified sample: %d rows, classes %v; want 1000 with all %d positives", stratified.Len(), got, positives)
	}
	if stratified.SampledOut != usable-1000 {
		t.Errorf("sampled out %d of %d usable rows, want %d", stratified.SampledOut, usable, usable-1000)
	}
	// A uniform sample keeps about its share of positives, and the same
	// seed keeps the same rows whatever order partitions arrive in.
	uniform := read(fit.Sample{MaxRows: 300, Seed: 7})
	again := read(fit.Sample{MaxRows: 300, Seed: 7})
	if uniform.Len() != 300 || uniform.ClassCounts()["true"] >= positives/2 {
		t.Errorf("uniform sample: %d rows, classes %v; want 300 with about their share of the %d positives", uniform.Len(), uniform.ClassCounts(), positives)
	}
	if uniform.ClassCounts()["true"] != again.ClassCounts()["true"] {
		t.Errorf("the same seed kept %v, then %v", uniform.ClassCounts(), again.ClassCounts())
	}
	// Trained on, the sample is every row there is.
	res, err := jobs.FitHistory(context.Background(), "sampled", gbdtOptions(t, `{"num_trees": 5}`), stratified, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.TrainRows+res.Evaluation.Rows != 1000 {
		t.Errorf("trained on %d and evaluated %d rows, want the 1000 kept", res.TrainRows, res.Evaluation.Rows)
	}
}

func TestServiceCountsRecordsRead(t *testing.T) {
	s := newStack(t)
	s.produce("history", sensorRows(1, 700))
	cat := s.catalog()
	reg := prometheus.NewRegistry()
	svc, err := jobs.NewScheduler([]jobs.Job{
		{Name: "counted", Source: catalog.Source{Topic: "history"}, Options: gbdtOptions(t, `{"num_trees": 3}`)},
	}, jobs.SchedulerDeps{Runner: s.runner(cat), Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if err := svc.Trigger("counted", false); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the training", func() bool { return len(cat.Versions("counted")) == 1 })
	if got := counterValue(t, reg, "streamscore_training_read_records_total", "counted"); got != 700 {
		t.Errorf("read records counter %v, want 700", got)
	}
	if got := gauge(t, reg, "streamscore_training_read_ratio", "counted"); got != 1 {
		t.Errorf("read ratio %v, want 1", got)
	}
}

// counterValue is the value of a model's counter, or -1 while it has none.
func counterValue(t *testing.T, reg *prometheus.Registry, name, model string) float64 {
	t.Helper()
	if m := modelMetric(t, reg, name, model); m != nil {
		return m.GetCounter().GetValue()
	}
	return -1
}
