package jobs

import "github.com/prometheus/client_golang/prometheus"

// schedulerMetrics are the Scheduler's, by model: its trainings, and the
// reading of their data (readMeters).
type schedulerMetrics struct {
	trainings  *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	progress   *prometheus.GaugeVec
	running    *prometheus.GaugeVec
	newRecords *prometheus.GaugeVec
	// readRecords and readRatio follow the reading of a training's
	// history, which at 10M records takes longer than the fit.
	readRecords *prometheus.CounterVec
	readRatio   *prometheus.GaugeVec
	// triggers counts what asked for trainings; monitorWindows and
	// onlineDecisions follow the closed loop (monitor_watch.go).
	triggers        *prometheus.CounterVec
	monitorWindows  *prometheus.CounterVec
	onlineDecisions *prometheus.CounterVec
}

func newSchedulerMetrics(reg prometheus.Registerer) (*schedulerMetrics, error) {
	m := &schedulerMetrics{
		trainings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamscore_trainings_total",
			Help: "Trainings by model and result: promoted, published (not promoted), failed, cancelled.",
		}, []string{"model", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "streamscore_training_duration_seconds",
			Help:    "Time to fit, export and evaluate a model.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2, 14),
		}, []string{"model"}),
		progress: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamscore_training_progress_ratio",
			Help: "How far the current or last training of a model is, 0 to 1.",
		}, []string{"model"}),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamscore_training_running",
			Help: "1 while a model trains.",
		}, []string{"model"}),
		newRecords: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamscore_training_new_records",
			Help: "Records on a model's source topic since its last training, for record-count triggers.",
		}, []string{"model"}),
		readRecords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamscore_training_read_records_total",
			Help: "Records read from topics (source and test source) to train a model, over all its trainings.",
		}, []string{"model"}),
		readRatio: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamscore_training_read_ratio",
			Help: "How far the current or last read of a model's training data is, 0 to 1, by offsets.",
		}, []string{"model"}),
		triggers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamscore_training_triggers_total",
			Help: "Trainings asked for, by model and reason: schedule, volume (every_records), drift (on_drift), manual (API or command). Triggers that arrive while a training is pending merge into it, and count all the same.",
		}, []string{"model", "reason"}),
		monitorWindows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamscore_training_monitor_windows_total",
			Help: "Records read from a model's monitor topic, by result: drift and online (windows of the model's champion its rules read), ignored (of another model, of the shadow, or a kind no rule of the job reads), bad (not a monitoring window; skipped).",
		}, []string{"model", "result"}),
		onlineDecisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamscore_training_online_decisions_total",
			Help: "Comparisons of challenger and champion judged by promote: online, by result: promoted, too_few (paired records), not_significant, stale (not of the current versions or metric), given_up (max_wait), invalid, failed (the catalog refused).",
		}, []string{"model", "result"}),
	}
	for _, c := range []prometheus.Collector{m.trainings, m.duration, m.progress, m.running, m.newRecords, m.readRecords, m.readRatio,
		m.triggers, m.monitorWindows, m.onlineDecisions} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
