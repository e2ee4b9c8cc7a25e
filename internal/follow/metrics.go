package follow

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are a Loader's Prometheus metrics.
type metrics struct {
	// loadFailures is streamscore_model_load_failures_total.
	loadFailures *prometheus.CounterVec
}

// newMetrics builds the metrics and registers them with reg, unless reg is
// nil.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		loadFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamscore_model_load_failures_total",
			Help: "Catalog versions refused (the serving model went on), by reason.",
		}, []string{"reason"}),
	}
	if reg == nil {
		return m, nil
	}
	if err := reg.Register(m.loadFailures); err != nil {
		return nil, fmt.Errorf("register streamscore_model_load_failures_total: %w", err)
	}
	return m, nil
}
