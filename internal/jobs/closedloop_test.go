package jobs_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/jobs"
)

// TestJobClosedLoopYAML reads on_drift and online as docs/trainer.md
// writes them, with unknown fields refused as the trainer's configuration
// refuses them.
func TestJobClosedLoopYAML(t *testing.T) {
	const doc = `
name: sensor-anomaly
source: {topic: sensors.history}
promote: online
online:
  metric: roc_auc
  min_labelled: 2000
  alpha: 0.01
  max_wait: 168h
on_drift:
  topic: sensors.monitor
  psi: 0.3
  for: 30m
  features: [temperature, vibration]
  prediction: false
options: {family: gbdt, features: [temperature, vibration], label: anomaly}
`
	var job jobs.Job
	dec := yaml.NewDecoder(bytes.NewReader([]byte(doc)))
	dec.KnownFields(true)
	if err := dec.Decode(&job); err != nil {
		t.Fatal(err)
	}
	off := false
	wantDrift := &jobs.OnDrift{Topic: "sensors.monitor", PSI: 0.3, For: 30 * time.Minute, Features: []string{"temperature", "vibration"}, Prediction: &off}
	wantOnline := &jobs.Online{Metric: "roc_auc", MinLabelled: 2000, Alpha: 0.01, MaxWait: 168 * time.Hour}
	if !reflect.DeepEqual(job.OnDrift, wantDrift) || !reflect.DeepEqual(job.Online, wantOnline) || job.Promote != jobs.PromoteOnline {
		t.Errorf("on_drift %+v, online %+v, promote %q", job.OnDrift, job.Online, job.Promote)
	}
	if err := job.Validate(); err != nil {
		t.Error(err)
	}
}

func TestJobValidateClosedLoop(t *testing.T) {
	classifier := gbdtOptions(t, `{}`)
	regressor := classifier
	regressor.Task, regressor.Metric = "regression", ""
	online := func(o jobs.Online) jobs.Job {
		return jobs.Job{Promote: jobs.PromoteOnline, Online: &o, Options: classifier}
	}
	tests := []struct {
		name string
		job  jobs.Job
		says string // "" is valid
	}{
		{"online, every default", online(jobs.Online{}), ""},
		{"online, every field", online(jobs.Online{Metric: "roc_auc", MinLabelled: 30, Alpha: 0.5, MaxWait: time.Hour}), ""},
		{"online for a regressor", jobs.Job{Promote: jobs.PromoteOnline, Online: &jobs.Online{Metric: "mae"}, Options: regressor}, ""},
		{"promote online without the block", jobs.Job{Promote: jobs.PromoteOnline, Options: classifier}, "online: promote: online needs the online block"},
		{"the block without promote online", jobs.Job{Online: &jobs.Online{}, Options: classifier}, `online: is the rule of promote: online, and promote is "if_better"`},
		{"the block with promote never", jobs.Job{Promote: jobs.PromoteNever, Online: &jobs.Online{}, Options: classifier}, `online: is the rule of promote: online, and promote is "never"`},
		{"an unknown metric", online(jobs.Online{Metric: "auc"}), `online.metric: "auc" is not roc_auc (classification) or mae (regression)`},
		{"mae for a classifier", online(jobs.Online{Metric: "mae"}), "online.metric: mae does not compare a model of task classification: want roc_auc"},
		{"roc_auc for a regressor", jobs.Job{Promote: jobs.PromoteOnline, Online: &jobs.Online{Metric: "roc_auc"}, Options: regressor},
			"online.metric: roc_auc does not compare a model of task regression: want mae"},
		{"alpha above 0.5", online(jobs.Online{Alpha: 0.6}), "online.alpha: 0.6 is not in (0, 0.5]"},
		{"alpha negative", online(jobs.Online{Alpha: -0.05}), "online.alpha: -0.05 is not in (0, 0.5]"},
		{"min_labelled below 30", online(jobs.Online{MinLabelled: 29}), "online.min_labelled: 29 is below 30"},
		{"min_labelled negative", online(jobs.Online{MinLabelled: -1}), "online.min_labelled: -1 is below 30"},
		{"max_wait negative", online(jobs.Online{MaxWait: -time.Second}), "online.max_wait: must not be negative"},
		{"on_drift, every default", jobs.Job{OnDrift: &jobs.OnDrift{}, Options: classifier}, ""},
		{"on_drift psi negative", jobs.Job{OnDrift: &jobs.OnDrift{PSI: -0.1}, Options: classifier}, "on_drift.psi: -0.1 is not a positive number"},
		{"on_drift for negative", jobs.Job{OnDrift: &jobs.OnDrift{For: -time.Minute}, Options: classifier}, "on_drift.for: must not be negative"},
		{"on_drift feature without a name", jobs.Job{OnDrift: &jobs.OnDrift{Features: []string{"a", ""}}, Options: classifier}, "on_drift.features: a feature has no name"},
		{"two monitor topics", jobs.Job{OnDrift: &jobs.OnDrift{Topic: "a.monitor"}, Promote: jobs.PromoteOnline, Online: &jobs.Online{Topic: "b.monitor"}, Options: classifier},
			`on_drift.topic, online.topic: "a.monitor" and "b.monitor" differ`},
		{"one monitor topic named twice", jobs.Job{OnDrift: &jobs.OnDrift{Topic: "a.monitor"}, Promote: jobs.PromoteOnline, Online: &jobs.Online{Topic: "a.monitor"}, Options: classifier}, ""},
		{"an unknown policy names online", jobs.Job{Promote: "later", Options: classifier}, `promote: "later" is not one of if_better, always, never, online`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.job.Name, tt.job.Source = "m", catalog.Source{Topic: "h"}
			err := tt.job.Validate()
			if tt.says == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, fit.ErrInvalidOptions) || !strings.Contains(err.Error(), `job "m": `+tt.says) {
				t.Fatalf("error %v, want ErrInvalidOptions saying %q", err, tt.says)
			}
		})
	}
}
