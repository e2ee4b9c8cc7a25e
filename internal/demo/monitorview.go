package demo

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/monitor"
)

// monitorWindow is what the view shows of one monitoring record
// (schemas/monitor.avsc).
type monitorWindow struct {
	kind, version, role string
	start, end          time.Time
	records             int64

	// Drift windows: each feature's PSI, the largest, and the
	// prediction's; no PSI without a reference profile.
	reference     bool
	psi           map[string]float64
	maxPSI        float64
	maxFeature    string
	predictionPSI *float64

	// Online windows: the version's metrics, and the champion's
	// comparison with the challenger.
	auc, f1    *float64
	unmatched  int64
	comparison *comparison
}

// comparison is the challenger against the champion on the labelled
// records both scored.
type comparison struct {
	champion, challenger string // versions
	metric, test         string
	paired               int64
	championValue        float64
	challengerValue      float64
	z, p                 float64
}

// window prints one of the sensor scorer's monitoring records and tells
// the loop watch of it.
func (v *view) window(r *kgo.Record) {
	rec, err := v.decode(r.Value)
	if err != nil {
		fmt.Fprintf(v.out, "  (cannot decode a monitoring window: %v)\n", err)
		return
	}
	w := parseWindow(rec)
	fmt.Fprintln(v.out, w.line(v.start))
	v.loop.observe(w)
}

// parseWindow reads the fields the view shows from goavro's native form of
// a MonitorWindow. A field of another type reads as its zero value: the
// view shows what it can.
func parseWindow(rec map[string]any) monitorWindow {
	w := monitorWindow{psi: map[string]float64{}, maxPSI: math.Inf(-1)}
	w.kind, _ = rec["kind"].(string)
	w.version, _ = rec["model_version"].(string)
	w.role, _ = rec["role"].(string)
	w.start, _ = rec["window_start"].(time.Time)
	w.end, _ = rec["window_end"].(time.Time)
	w.records, _ = rec["records"].(int64)
	w.reference, _ = rec["reference"].(bool)
	features, _ := rec["features"].([]any)
	for _, f := range features {
		f, _ := f.(map[string]any)
		name, _ := f["name"].(string)
		if psi := optFloat(f["psi"]); psi != nil {
			w.psi[name] = *psi
			if *psi > w.maxPSI {
				w.maxPSI, w.maxFeature = *psi, name
			}
		}
	}
	if p, ok := unionValue(rec["prediction"]).(map[string]any); ok {
		w.predictionPSI = optFloat(p["psi"])
	}
	if o, ok := unionValue(rec["online"]).(map[string]any); ok {
		w.auc, w.f1 = optFloat(o["roc_auc"]), optFloat(o["f1"])
		w.unmatched, _ = o["unmatched_labels"].(int64)
	}
	if c, ok := unionValue(rec["comparison"]).(map[string]any); ok {
		cmp := &comparison{}
		cmp.champion, _ = c["champion_version"].(string)
		cmp.challenger, _ = c["challenger_version"].(string)
		cmp.metric, _ = c["metric"].(string)
		cmp.test, _ = c["test"].(string)
		cmp.paired, _ = c["paired"].(int64)
		cmp.championValue, _ = c["champion"].(float64)
		cmp.challengerValue, _ = c["challenger"].(float64)
		cmp.z, _ = c["z"].(float64)
		cmp.p, _ = c["p_value"].(float64)
		w.comparison = cmp
	}
	return w
}

// line is the window in one line, its times in seconds since start:
//
//	drift   v1 champion   60-70s  19874 rows      max PSI 3.412 temperature, prediction PSI 0.523
//	online  v1 champion   60-70s  19500 labelled  AUC 0.877  F1 0.412 | v2 vs v1 on 25000 paired: AUC 0.988 vs 0.877, delong z=9.12 p=0.0000
func (w monitorWindow) line(start time.Time) string {
	var b strings.Builder
	span := fmt.Sprintf("%.0f-%.0fs", w.start.Sub(start).Seconds(), w.end.Sub(start).Seconds())
	fmt.Fprintf(&b, "  %-7s v%-3s %-9s %9s", w.kind, w.version, w.role, span)
	switch w.kind {
	case monitor.KindDrift:
		fmt.Fprintf(&b, "  %6d rows     ", w.records)
		if !w.reference {
			b.WriteString(" no reference profile: counts and means only")
			break
		}
		if w.maxFeature != "" {
			fmt.Fprintf(&b, " max PSI %.3f %s", w.maxPSI, w.maxFeature)
		}
		if w.predictionPSI != nil {
			fmt.Fprintf(&b, ", prediction PSI %.3f", *w.predictionPSI)
		}
	case monitor.KindOnline:
		fmt.Fprintf(&b, "  %6d labelled  AUC %s  F1 %s", w.records, orDash(w.auc), orDash(w.f1))
		if w.unmatched > 0 {
			fmt.Fprintf(&b, "  (%d labels unmatched)", w.unmatched)
		}
		if c := w.comparison; c != nil {
			fmt.Fprintf(&b, " | v%s vs v%s on %d paired: %s %.3f vs %.3f, %s z=%.2f p=%.4f",
				c.challenger, c.champion, c.paired, c.metric, c.challengerValue, c.championValue, c.test, c.z, c.p)
		}
	}
	return b.String()
}

// orDash is a metric to three places, or "-" when it is not known.
func orDash(v *float64) string {
	if v == nil {
		return "  -  "
	}
	return fmt.Sprintf("%.3f", *v)
}

// unionValue is the value of a goavro union: nil for null, else the one
// value of the map keyed by its branch.
func unionValue(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	for _, value := range m {
		return value
	}
	return nil
}

// optFloat is a ["null", "double"] union's number.
func optFloat(v any) *float64 {
	f, ok := unionValue(v).(float64)
	if !ok {
		return nil
	}
	return &f
}
