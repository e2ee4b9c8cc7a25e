package monitor

import (
	"fmt"
	"math"

	"github.com/linkedin/goavro/v2"

	"github.com/streamscore/streamscore/schemas"
)

// newCodec compiles schemas/monitor.avsc.
func newCodec() (*goavro.Codec, error) {
	codec, err := goavro.NewCodec(schemas.Monitor)
	if err != nil {
		return nil, fmt.Errorf("monitor schema: %w", err)
	}
	return codec, nil
}

// native is w as goavro's native form of a MonitorWindow record.
func (w Window) native() map[string]any {
	rec := map[string]any{
		"kind":          w.Kind,
		"topic":         w.Topic,
		"model_name":    w.Model,
		"model_version": w.Version,
		"role":          w.Role,
		"window_start":  w.Start,
		"window_end":    w.End,
		"records":       w.records(),
		"reference":     false,
		"features":      []any{},
		"prediction":    nil,
		"online":        nil,
		"comparison":    nil,
	}
	if d := w.Drift; d != nil {
		rec["reference"] = d.Reference
		features := make([]any, len(d.Features))
		for i, f := range d.Features {
			features[i] = map[string]any{
				"name":              f.Name,
				"kind":              f.Kind,
				"psi":               optional(f.PSI),
				"ks":                optional(f.KS),
				"null_rate":         finite(f.NullRate),
				"out_of_range_rate": optional(f.OutOfRangeRate),
				"mean":              optional(f.Mean),
			}
		}
		rec["features"] = features
		shares := make(map[string]any, len(d.Prediction.ClassShares))
		for class, share := range d.Prediction.ClassShares {
			shares[class] = finite(share)
		}
		rec["prediction"] = map[string]any{"io.streamscore.PredictionDrift": map[string]any{
			"psi":          optional(d.Prediction.PSI),
			"mean":         optional(d.Prediction.Mean),
			"class_shares": shares,
		}}
	}
	if o := w.Online; o != nil {
		rec["online"] = map[string]any{"io.streamscore.OnlineMetrics": map[string]any{
			"roc_auc":          optional(o.ROCAUC),
			"f1":               optional(o.F1),
			"log_loss":         optional(o.LogLoss),
			"rmse":             optional(o.RMSE),
			"mae":              optional(o.MAE),
			"unmatched_labels": o.Unmatched,
			"late_labels":      o.Late,
			"duplicate_labels": o.Duplicate,
		}}
		if c := o.Comparison; c != nil {
			rec["comparison"] = map[string]any{"io.streamscore.OnlineComparison": map[string]any{
				"champion_version":   c.ChampionVersion,
				"challenger_version": c.ChallengerVersion,
				"metric":             c.Metric,
				"paired":             c.Paired,
				"champion":           finite(c.Champion),
				"challenger":         finite(c.Challenger),
				"test":               c.Test,
				"z":                  zScore(c.Z),
				"p_value":            pValue(c.PValue),
			}}
		}
	}
	return rec
}

// optional is a nullable double: nil, or the value in its union branch. A
// value that is not finite (a statistic over nothing) is written as null,
// which is what it means.
func optional(v *float64) any {
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
		return nil
	}
	return map[string]any{"double": *v}
}

// finite keeps a required double meaningful: NaN and infinities become 0,
// for fields that are shares or counts of something observed.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// pValue keeps a p-value that could not be computed from reading as
// significant: it becomes 1.
func pValue(p float64) float64 {
	if math.IsNaN(p) || p < 0 || p > 1 {
		return 1
	}
	return p
}

// maxZ stands for an infinite test statistic (a comparison without
// variance: one version right on every pair, the other wrong): far past
// any significance level, and finite, as the record and the catalog's
// evidence need.
const maxZ = 40

// zScore keeps a test statistic finite: ±Inf is ±maxZ, NaN 0.
func zScore(z float64) float64 {
	switch {
	case math.IsNaN(z):
		return 0
	case z > maxZ:
		return maxZ
	case z < -maxZ:
		return -maxZ
	}
	return z
}
