// Package catalogprom exports what a catalog.Catalog counts as Prometheus
// metrics, so that the catalog itself needs no Prometheus client (as
// franz-go's kprom plugs metrics into kgo through hooks).
package catalogprom

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamscore/streamscore/internal/catalog"
)

// SkipCounter registers streamscore_catalog_records_skipped_total{reason}
// on reg, with every reason of catalog.SkipReasons at zero (so a rate is
// defined before the first skip), and returns the option that makes a
// Catalog count into it. Called again with the same reg, it counts into
// the counter registered first.
func SkipCounter(reg prometheus.Registerer) (catalog.Option, error) {
	skipped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "streamscore_catalog_records_skipped_total",
		Help: "Records of the model catalog topic skipped as out of range, malformed or forged, by reason.",
	}, []string{"reason"})
	if err := reg.Register(skipped); err != nil {
		var already prometheus.AlreadyRegisteredError
		if !errors.As(err, &already) {
			return nil, fmt.Errorf("register catalog metrics: %w", err)
		}
		existing, ok := already.ExistingCollector.(*prometheus.CounterVec)
		if !ok {
			return nil, fmt.Errorf("register catalog metrics: %w", err)
		}
		skipped = existing
	}
	for _, reason := range catalog.SkipReasons() {
		skipped.WithLabelValues(reason)
	}
	return catalog.WithOnSkip(func(reason string) { skipped.WithLabelValues(reason).Inc() }), nil
}
