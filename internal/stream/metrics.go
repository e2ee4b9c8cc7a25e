package stream

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the scorer's Prometheus series, registered on the registerer
// the caller passes in (never the global one, so tests stay isolated).
type metrics struct {
	// registered are what newMetrics registered with reg, for unregister.
	reg        prometheus.Registerer
	registered []prometheus.Collector

	recordsIn       *prometheus.CounterVec
	recordsOut      *prometheus.CounterVec
	deadLettered    *prometheus.CounterVec
	registryRetries prometheus.Counter
	decodedWhole    prometheus.Counter
	batchRows       prometheus.Histogram
	inference       prometheus.Histogram
	endToEnd        prometheus.Histogram
	processing      prometheus.Histogram
	lag             *prometheus.GaugeVec
	assigned        prometheus.Gauge
	heldBack        prometheus.Gauge
	transactions    *prometheus.CounterVec
	modelInfo       *prometheus.GaugeVec
	modelSwaps      prometheus.Counter
	shadowOut       prometheus.Counter
	shadowFailures  *prometheus.CounterVec
	shadowModelInfo *prometheus.GaugeVec
}

// topicCounters are one counter per input topic, resolved once: the label
// lookup is too slow for every record, and the topics never change.
type topicCounters map[string]prometheus.Counter

func (v topicCounters) add(topic string, n int) {
	if c, ok := v[topic]; ok {
		c.Add(float64(n))
	}
}

func newTopicCounters(vec *prometheus.CounterVec, topics []string) topicCounters {
	m := make(topicCounters, len(topics))
	for _, t := range topics {
		m[t] = vec.WithLabelValues(t)
	}
	return m
}

// newMetrics makes the scorer's series and registers them on reg, or on a
// registry of their own if reg is nil. A series reg refuses (one already
// registered by another scorer on the same registry) fails it, with what
// it had registered unregistered again.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &metrics{
		recordsIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamscore_records_in_total",
			Help: "Records consumed from input topics.",
		}, []string{"topic"}),
		recordsOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamscore_records_out_total",
			Help: "Scored records acknowledged by the output topic.",
		}, []string{"topic"}),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamscore_records_dead_lettered_total",
			Help: "Records acknowledged by the dead-letter topic, by error class.",
		}, []string{"reason"}),
		registryRetries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamscore_registry_retries_total",
			Help: "Schema lookups that failed because the registry was unreachable, and will be retried.",
		}),
		decodedWhole: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamscore_records_decoded_whole_total",
			Help: "Input records decoded whole because their features could not be read straight from the body: a record that does not map cleanly (it is then scored or dead-lettered), or every record of a schema or model that a projection cannot read.",
		}),
		batchRows: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "streamscore_batch_rows",
			Help:    "Rows per model run.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12),
		}),
		inference: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "streamscore_inference_seconds",
			Help:    "Duration of one model run.",
			Buckets: prometheus.ExponentialBuckets(10e-6, 2.5, 12),
		}),
		endToEnd: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "streamscore_end_to_end_seconds",
			Help:    "From the input record's timestamp to its result's acknowledgement.",
			Buckets: prometheus.ExponentialBuckets(0.5e-3, 2, 16),
		}),
		processing: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "streamscore_processing_seconds",
			Help:    "From the poll that returned a record to its result's acknowledgement: the scorer's own latency, without time spent waiting in the topic.",
			Buckets: prometheus.ExponentialBuckets(0.25e-3, 2, 16),
		}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamscore_consumer_lag_records",
			Help: "Records between the last consumed offset and the high watermark.",
		}, []string{"topic", "partition"}),
		assigned: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "streamscore_assigned_partitions",
			Help: "Input partitions this scorer owns.",
		}),
		heldBack: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "streamscore_held_back_partitions",
			Help: "Partitions paused because a record's schema could not be fetched from the unreachable registry.",
		}),
		transactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamscore_transactions_total",
			Help: "Exactly-once transactions ended, by result: committed or aborted.",
		}, []string{"result"}),
		modelInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamscore_model_info",
			Help: "The model scoring new batches, as labels; the value is always 1.",
		}, []string{"name", "version"}),
		modelSwaps: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamscore_model_swaps_total",
			Help: "Models swapped in between batches while running.",
		}),
		shadowOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamscore_shadow_records_out_total",
			Help: "Shadow results acknowledged by the shadow topics.",
		}),
		shadowFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamscore_shadow_failures_total",
			Help: "Records scored by the serving model that got no shadow result, by reason.",
		}, []string{"reason"}),
		shadowModelInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamscore_shadow_model_info",
			Help: "The shadow model, as labels; the value is always 1.",
		}, []string{"name", "version"}),
	}
	collectors := []prometheus.Collector{m.recordsIn, m.recordsOut, m.deadLettered, m.registryRetries, m.decodedWhole,
		m.batchRows, m.inference, m.endToEnd, m.processing, m.lag, m.assigned, m.heldBack, m.transactions, m.modelInfo,
		m.modelSwaps, m.shadowOut, m.shadowFailures, m.shadowModelInfo}
	for i, c := range collectors {
		if err := reg.Register(c); err != nil {
			for _, done := range collectors[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("register scorer metrics: %w", err)
		}
	}
	m.reg, m.registered = reg, collectors
	return m, nil
}

// unregister takes back what newMetrics registered, for a NewScorer that
// fails after it: a retry on the same registry then registers afresh.
func (m *metrics) unregister() {
	for _, c := range m.registered {
		m.reg.Unregister(c)
	}
}
