package catalogprom_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/catalog/catalogprom"
)

// TestSkipCounterCountsForgedRecords: a catalog built with the option
// counts each skipped record under its reason, every other reason at zero,
// and a second registration on the same registry shares the counter.
func TestSkipCounterCountsForgedRecords(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "models"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	brokers := []kgo.Opt{kgo.SeedBrokers(cluster.ListenAddrs()...)}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	producer, err := kgo.NewClient(append(brokers, kgo.DefaultProduceTopic("models"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	// Finding 5 of issue 10, and a key of no known shape.
	forged := []*kgo.Record{
		{Key: []byte("sens/v/9223372036854775807/0123456789abcde6"), Value: []byte(`{"name":"sens","version":9223372036854775807}`)},
		{Key: []byte("garbage"), Value: []byte("x")},
	}
	if err := producer.ProduceSync(ctx, forged...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	reg := prometheus.NewRegistry()
	for range 2 { // two catalogs on one registry, as a restart within a process would
		opt, err := catalogprom.SkipCounter(reg)
		if err != nil {
			t.Fatal(err)
		}
		c, err := catalog.New(brokers, "models", nil, opt)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Sync(ctx)
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	got := skipCounts(t, reg)
	want := map[string]float64{}
	for _, reason := range catalog.SkipReasons() {
		want[reason] = 0
	}
	want[catalog.SkipVersionRange], want[catalog.SkipBadKey] = 2, 2
	if !reflect.DeepEqual(got, want) {
		t.Errorf("skipped %v, want %v", got, want)
	}
}

// skipCounts reads the counter's value for each reason from reg.
func skipCounts(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "streamscore_catalog_records_skipped_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" {
					counts[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	return counts
}
