package jobs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/testkit"
)

func TestServiceTriggers(t *testing.T) {
	s := newStack(t)
	s.produce("history", sensorRows(1, 1000))
	cat := s.catalog()
	reg := prometheus.NewRegistry()
	svc, err := jobs.NewScheduler([]jobs.Job{
		{Name: "on-demand", Source: catalog.Source{Topic: "history"}, Options: gbdtOptions(t, `{"num_trees": 5}`)},
		{Name: "by-volume", Source: catalog.Source{Topic: "history"}, Options: gbdtOptions(t, `{"num_trees": 5}`), EveryRecords: 500},
	}, jobs.SchedulerDeps{Runner: s.runner(cat), Registry: reg, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	defer func() { cancel(); <-done }()

	if err := svc.Trigger("nope", false); !errors.Is(err, jobs.ErrUnknownJob) {
		t.Errorf("Trigger of an unknown job: %v, want ErrUnknownJob", err)
	}

	// On demand: one trigger, one version.
	if err := svc.Trigger("on-demand", false); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the on-demand training", func() bool { return len(cat.Versions("on-demand")) == 1 })

	// By volume: nothing happens until 500 records arrive after the
	// watcher first counted the topic (it reports a count when it has)...
	testkit.WaitFor(t, "the record count to start", func() bool { return gauge(t, reg, "streamscore_training_new_records", "by-volume") == 0 })
	if n := len(cat.Versions("by-volume")); n != 0 {
		t.Fatalf("by-volume trained %d times before any new record", n)
	}
	s.produce("history", sensorRows(2, 600))
	testkit.WaitFor(t, "the training after 500 new records", func() bool { return len(cat.Versions("by-volume")) == 1 })

	testkit.WaitFor(t, "the trainings to be counted", func() bool {
		return trainings(t, reg, "on-demand") == 1 && trainings(t, reg, "by-volume") == 1
	})
	// Each trigger is counted under its reason.
	if manual, volume := count(t, reg, triggersMetric, "on-demand", "reason", "manual"), count(t, reg, triggersMetric, "by-volume", "reason", "volume"); manual != 1 || volume != 1 {
		t.Errorf("triggers counted: %v manual of on-demand, %v by volume of by-volume, want 1 and 1", manual, volume)
	}
	for _, st := range svc.Status() {
		if st.Version != 1 || st.LastError != "" || st.Running {
			t.Errorf("status %+v, want version 1, no error, idle", st)
		}
	}
}

func TestServiceSerializesTrainingsOfAModel(t *testing.T) {
	s := newStack(t)
	s.produce("history", sensorRows(1, 1000))
	cat := s.catalog()
	svc, err := jobs.NewScheduler([]jobs.Job{
		{Name: "busy", Source: catalog.Source{Topic: "history"}, Options: gbdtOptions(t, `{"num_trees": 5}`)},
	}, jobs.SchedulerDeps{Runner: s.runner(cat)})
	if err != nil {
		t.Fatal(err)
	}
	// Triggers before Run: the first is queued, the rest merge into it.
	for range 5 {
		if err := svc.Trigger("busy", false); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	testkit.WaitFor(t, "the training", func() bool { return len(cat.Versions("busy")) == 1 })
	cancel()
	<-done
	if n := len(cat.Versions("busy")); n != 1 {
		t.Errorf("5 merged triggers trained %d times, want 1", n)
	}
}

func TestServiceRefusesBadJobs(t *testing.T) {
	good := jobs.Job{Name: "a", Source: catalog.Source{Topic: "t"}, Options: gbdtOptions(t, "")}
	tests := []struct {
		name string
		jobs []jobs.Job
		want string
	}{
		{"twice the same name", []jobs.Job{good, good}, `job "a" is defined twice`},
		{"no topic", []jobs.Job{{Name: "a", Options: good.Options}}, "source.topic: is required"},
		{"bad name", []jobs.Job{{Name: "a/b", Source: good.Source, Options: good.Options}}, "name:"},
		{"bad policy", []jobs.Job{{Name: "a", Source: good.Source, Options: good.Options, Promote: "sometimes"}}, "promote:"},
		{"bad options", []jobs.Job{{Name: "a", Source: good.Source}}, "family: is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := jobs.NewScheduler(tt.jobs, jobs.SchedulerDeps{Runner: &jobs.Runner{}})
			if !errors.Is(err, fit.ErrInvalidOptions) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want ErrInvalidOptions naming %q", err, tt.want)
			}
		})
	}
}

// gauge is the value of a model's gauge, or -1 while it has none.
func gauge(t *testing.T, reg *prometheus.Registry, name, model string) float64 {
	t.Helper()
	if m := modelMetric(t, reg, name, model); m != nil {
		return m.GetGauge().GetValue()
	}
	return -1
}

// modelMetric is the metric name of model (its "model" label), or nil.
func modelMetric(t *testing.T, reg *prometheus.Registry, name, model string) *dto.Metric {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "model" && l.GetValue() == model {
					return m
				}
			}
		}
	}
	return nil
}

// trainings sums streamscore_trainings_total of a model over results.
func trainings(t *testing.T, reg *prometheus.Registry, model string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != "streamscore_trainings_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "model" && l.GetValue() == model {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

func TestServiceRetrainsOnSchedule(t *testing.T) {
	s := newStack(t)
	s.produce("history", sensorRows(1, 500))
	cat := s.catalog()
	reg := prometheus.NewRegistry()
	svc, err := jobs.NewScheduler([]jobs.Job{
		{Name: "scheduled", Source: catalog.Source{Topic: "history"}, Options: gbdtOptions(t, `{"num_trees": 3}`), Schedule: 50 * time.Millisecond},
	}, jobs.SchedulerDeps{Runner: s.runner(cat), Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	// No trigger at all: the schedule alone trains, again and again.
	testkit.WaitFor(t, "two scheduled trainings", func() bool { return len(cat.Versions("scheduled")) >= 2 })
	cancel()
	<-done
	if n := count(t, reg, triggersMetric, "scheduled", "reason", "schedule"); n < 2 {
		t.Errorf("%v schedule triggers counted for 2 or more trainings", n)
	}
}
