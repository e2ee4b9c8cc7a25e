// Package monitor writes what a scorer sees of its models: one record per
// closed monitoring window to the input topic's monitor topic
// (schemas/monitor.avsc), and the same figures as Prometheus gauges. Drift
// windows come from the scoring stages (internal/stream), online windows
// from the late-label join (labels.go).
package monitor

import (
	"math"
	"time"

	"github.com/streamscore/streamscore/internal/drift"
	"github.com/streamscore/streamscore/internal/online"
)

// Window kinds, as the record's kind enum spells them.
const (
	KindDrift  = "drift"
	KindOnline = "online"
)

// Roles of a model version on an input topic.
const (
	// RoleChampion is the version serving the output topic.
	RoleChampion = "champion"
	// RoleShadow is the challenger scored beside it (-shadow-alias).
	RoleShadow = "shadow"
)

// Window is one closed monitoring window of one model version on one input
// topic: Drift is set for KindDrift, Online for KindOnline.
type Window struct {
	Kind    string
	Topic   string
	Model   string
	Version string
	Role    string
	Start   time.Time
	End     time.Time

	Drift  *drift.Report
	Online *online.WindowReport
}

// records is what the record's records field holds: rows scored for a
// drift window, labels matched for an online one.
func (w Window) records() int64 {
	switch {
	case w.Drift != nil:
		return w.Drift.Records
	case w.Online != nil:
		return w.Online.Labelled
	}
	return 0
}

// logAttrs is the window in one log line: the largest feature PSI and the
// prediction's for drift, the metrics for online.
func (w Window) logAttrs() []any {
	attrs := []any{"kind", w.Kind, "topic", w.Topic, "model", w.Model, "version", w.Version, "role", w.Role,
		"start", w.Start.UTC().Format(time.RFC3339), "records", w.records()}
	if d := w.Drift; d != nil {
		worst, name := -1.0, ""
		for _, f := range d.Features {
			if f.PSI != nil && *f.PSI > worst {
				worst, name = *f.PSI, f.Name
			}
		}
		if name != "" {
			attrs = append(attrs, "max_psi", round(worst), "max_psi_feature", name)
		}
		if p := d.Prediction.PSI; p != nil {
			attrs = append(attrs, "prediction_psi", round(*p))
		}
	}
	if o := w.Online; o != nil {
		for _, m := range []struct {
			name string
			v    *float64
		}{{"roc_auc", o.ROCAUC}, {"f1", o.F1}, {"log_loss", o.LogLoss}, {"rmse", o.RMSE}, {"mae", o.MAE}} {
			if m.v != nil {
				attrs = append(attrs, m.name, round(*m.v))
			}
		}
		attrs = append(attrs, "unmatched", o.Unmatched, "late", o.Late)
		if c := o.Comparison; c != nil {
			attrs = append(attrs, "vs", "v"+c.ChallengerVersion, "paired", c.Paired, "challenger_"+c.Metric, round(c.Challenger), "z", round(c.Z), "p", round(c.PValue))
		}
	}
	return attrs
}

func round(v float64) float64 { return math.Round(v*1e4) / 1e4 }
