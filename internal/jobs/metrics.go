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
	}
	for _, c := range []prometheus.Collector{m.trainings, m.duration, m.progress, m.running, m.newRecords, m.readRecords, m.readRatio} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
