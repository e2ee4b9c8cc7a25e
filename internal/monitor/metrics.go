package monitor

import (
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// maxFeatureSeries bounds the feature-labelled series of one version: a
// model with more columns has the rest in its monitor records only.
const maxFeatureSeries = 64

// gauges are the monitoring windows as Prometheus series. Each holds the
// last closed window's figure. When a topic's role moves to another
// version, the old version's series are deleted, so a scorer exposes at
// most two versions (champion and shadow) per topic, and at most
// maxFeatureSeries features each.
type gauges struct {
	psi, ks, nulls, outOfRange *prometheus.GaugeVec
	predictionPSI              *prometheus.GaugeVec
	windows                    *prometheus.CounterVec
	online, labelled           *prometheus.GaugeVec
	labels                     *prometheus.CounterVec
	comparison                 *prometheus.GaugeVec
	failures                   *prometheus.CounterVec

	mu      sync.Mutex
	current map[roleKey]string // (kind, topic, model, role) -> the version its series are of
}

// roleKey names a role's series of one kind: drift and online windows move
// to a new version at different times (labels of the old version's
// predictions keep arriving after a swap).
type roleKey struct{ kind, topic, model, role string }

func newGauges(reg prometheus.Registerer) (*gauges, error) {
	versionLabels := []string{"topic", "model", "version", "role"}
	featureLabels := append(versionLabels[:4:4], "feature")
	g := &gauges{
		psi: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamscore_drift_psi",
			Help: "Population stability index of a feature in the last closed drift window, against the version's reference profile.",
		}, featureLabels),
		ks: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamscore_drift_ks",
			Help: "Kolmogorov-Smirnov statistic of a numeric feature in the last closed drift window, at the reference's bin edges.",
		}, featureLabels),
		nulls: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamscore_feature_null_ratio",
			Help: "Share of records in the last closed drift window whose feature was null or absent.",
		}, featureLabels),
		outOfRange: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamscore_feature_out_of_range_ratio",
			Help: "Share of records in the last closed drift window outside the reference: a number beyond its min or max, a category outside the table, a word outside the vocabulary.",
		}, featureLabels),
		predictionPSI: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamscore_prediction_psi",
			Help: "Population stability index of the prediction in the last closed drift window, against the reference.",
		}, versionLabels),
		windows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamscore_monitor_windows_total",
			Help: "Monitoring windows closed, drift and online.",
		}, versionLabels),
		online: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamscore_online_metric",
			Help: "A metric of the predictions whose labels were matched in the last closed online window: roc_auc, f1, log_loss, rmse, mae.",
		}, append(versionLabels[:4:4], "metric")),
		labelled: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamscore_online_labelled",
			Help: "Labels matched to a prediction of the version in the last closed online window.",
		}, versionLabels),
		labels: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamscore_labels_total",
			Help: "Labels read, by outcome: matched, unmatched, late, duplicate, invalid.",
		}, []string{"topic", "outcome"}),
		comparison: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamscore_online_comparison",
			Help: "The shadow challenger against the champion on the labelled records both scored: stat is z, p_value, paired, champion or challenger.",
		}, []string{"topic", "model", "champion", "challenger", "stat"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamscore_monitor_failures_total",
			Help: "Monitor records not written, by reason: encode, registry, produce.",
		}, []string{"reason"}),
		current: map[roleKey]string{},
	}
	var registered []prometheus.Collector
	for _, c := range []prometheus.Collector{g.psi, g.ks, g.nulls, g.outOfRange, g.predictionPSI, g.windows, g.online, g.labelled, g.labels, g.comparison, g.failures} {
		if err := reg.Register(c); err != nil {
			for _, r := range registered {
				reg.Unregister(r)
			}
			return nil, errors.Join(errors.New("register monitoring metrics"), err)
		}
		registered = append(registered, c)
	}
	return g, nil
}

// observe sets the series of a closed window.
func (g *gauges) observe(w Window) {
	g.mu.Lock()
	defer g.mu.Unlock()
	key := roleKey{w.Kind, w.Topic, w.Model, w.Role}
	if old, ok := g.current[key]; ok && old != w.Version {
		g.forget(w.Kind, prometheus.Labels{"topic": w.Topic, "model": w.Model, "version": old, "role": w.Role})
	}
	g.current[key] = w.Version
	labels := prometheus.Labels{"topic": w.Topic, "model": w.Model, "version": w.Version, "role": w.Role}
	g.windows.With(labels).Inc()
	if d := w.Drift; d != nil {
		for i, f := range d.Features {
			if i == maxFeatureSeries {
				break
			}
			set(g.psi, f.PSI, w, f.Name)
			set(g.ks, f.KS, w, f.Name)
			set(g.outOfRange, f.OutOfRangeRate, w, f.Name)
			nulls := f.NullRate
			set(g.nulls, &nulls, w, f.Name)
		}
		if p := d.Prediction.PSI; p != nil {
			g.predictionPSI.With(labels).Set(*p)
		}
	}
	if o := w.Online; o != nil {
		g.labelled.With(labels).Set(float64(o.Labelled))
		for name, v := range map[string]*float64{"roc_auc": o.ROCAUC, "f1": o.F1, "log_loss": o.LogLoss, "rmse": o.RMSE, "mae": o.MAE} {
			if v != nil {
				g.online.WithLabelValues(w.Topic, w.Model, w.Version, w.Role, name).Set(*v)
			}
		}
		if c := o.Comparison; c != nil {
			g.comparison.DeletePartialMatch(prometheus.Labels{"topic": w.Topic, "model": w.Model})
			for stat, v := range map[string]float64{"z": zScore(c.Z), "p_value": pValue(c.PValue), "paired": float64(c.Paired), "champion": c.Champion, "challenger": c.Challenger} {
				g.comparison.WithLabelValues(w.Topic, w.Model, c.ChampionVersion, c.ChallengerVersion, stat).Set(finite(v))
			}
		}
	}
}

// set sets a feature's series, or deletes it when the window has no value.
func set(vec *prometheus.GaugeVec, v *float64, w Window, feature string) {
	if v == nil {
		vec.DeleteLabelValues(w.Topic, w.Model, w.Version, w.Role, feature)
		return
	}
	vec.WithLabelValues(w.Topic, w.Model, w.Version, w.Role, feature).Set(*v)
}

// forget deletes a kind's series of a version that no longer has the role.
func (g *gauges) forget(kind string, version prometheus.Labels) {
	vecs := []*prometheus.GaugeVec{g.online, g.labelled}
	if kind == KindDrift {
		vecs = []*prometheus.GaugeVec{g.psi, g.ks, g.nulls, g.outOfRange, g.predictionPSI}
		g.windows.DeletePartialMatch(version)
	}
	for _, vec := range vecs {
		vec.DeletePartialMatch(version)
	}
}
