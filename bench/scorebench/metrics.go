package main

import (
	"fmt"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrapeProcessing reads the scorer's streamscore_processing_seconds
// histogram and estimates its p50 and p99.
func scrapeProcessing(addr string) ([2]time.Duration, error) {
	families, err := scrape(addr)
	if err != nil {
		return [2]time.Duration{}, err
	}
	f, ok := families["streamscore_processing_seconds"]
	if !ok || len(f.GetMetric()) == 0 {
		return [2]time.Duration{}, fmt.Errorf("scorer exposes no streamscore_processing_seconds")
	}
	h := f.GetMetric()[0].GetHistogram()
	return [2]time.Duration{quantile(h, 0.50), quantile(h, 0.99)}, nil
}

// scrapeOutputs reads the scorer's streamscore_records_out_total, summed
// over topics. In exactly-once mode it counts committed outputs only.
func scrapeOutputs(addr string) (int, error) {
	families, err := scrape(addr)
	if err != nil {
		return 0, err
	}
	total := 0.0
	for _, m := range families["streamscore_records_out_total"].GetMetric() {
		total += m.GetCounter().GetValue()
	}
	return int(total), nil
}

func scrape(addr string) (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, fmt.Errorf("scrape scorer metrics: %w", err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parse scorer metrics: %w", err)
	}
	return families, nil
}

// quantile interpolates linearly inside the bucket that holds the q-th
// observation, as Prometheus's histogram_quantile does.
func quantile(h *dto.Histogram, q float64) time.Duration {
	rank := q * float64(h.GetSampleCount())
	lower, below := 0.0, 0.0
	for _, b := range h.GetBucket() {
		count := float64(b.GetCumulativeCount())
		if count >= rank {
			upper := b.GetUpperBound()
			frac := 0.0
			if count > below {
				frac = (rank - below) / (count - below)
			}
			return time.Duration((lower + frac*(upper-lower)) * float64(time.Second))
		}
		lower, below = b.GetUpperBound(), count
	}
	return time.Duration(lower * float64(time.Second))
}
