package scorer_test

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/testkit"
)

// TestForgedCatalogRecordsKeepTheModelServing writes into the catalog topic
// what someone able to write to it could: finding 5 of issue 10 (metadata
// numbered 2^63-1) and changes of the champion alias to a version not
// published yet, to version 2^63-1 and under another model's name. The
// scorer must skip and count them on its /metrics and go on serving v1;
// publishing must go on with the next numbers; the forged change naming
// version 2 must not come to life when version 2 is published; and the
// next real promotion must be taken, as the only swap.
func TestForgedCatalogRecordsKeepTheModelServing(t *testing.T) {
	const topic = "forged"
	e := newEnv(t, topic)
	id, _ := e.register(topic+"-value", sensorSchema)
	m := e.models()
	v1 := m.publish(sensorONNX(t, 10, 3), nil)
	m.point("champion", v1)
	svc, stop := e.start(e.catalogConfig(topic))

	record := func(key string, value any) *kgo.Record {
		b, err := json.Marshal(value)
		if err != nil {
			t.Fatal(err)
		}
		return &kgo.Record{Topic: catalog.DefaultTopic, Partition: 0, Key: []byte(key), Value: b}
	}
	champion := catalogModel + "/alias/champion/0123456789abcde6"
	e.produce(
		record(catalogModel+"/v/9223372036854775807/0123456789abcde6", map[string]any{
			"name": catalogModel, "version": int64(9223372036854775807), "size": 100, "chunks": 1,
			"sha256": "0000000000000000000000000000000000000000000000000000000000000000",
		}),
		record(champion, catalog.AliasChange{Name: catalogModel, Alias: "champion", Version: 9223372036854775807}),
		record(champion, catalog.AliasChange{Name: "other", Alias: "champion", Version: v1}),
		record(champion, catalog.AliasChange{Name: catalogModel, Alias: "champion", Version: v1 + 1}),
	)
	skipped := func(reason string) float64 {
		return labeledValue(t, svc.Metrics(), "streamscore_catalog_records_skipped_total", "reason", reason)
	}
	testkit.WaitFor(t, "the scorer skipped and counted the forged records", func() bool {
		return skipped(catalog.SkipVersionRange) == 2 && skipped(catalog.SkipKeyMismatch) == 1 &&
			skipped(catalog.SkipAliasTarget) == 1
	})

	readings := e.produceReadings(topic, id, 50)
	for _, out := range e.consumeUntil(len(readings), topic+".scored") {
		if v := version(t, e, out); v != strconv.Itoa(v1) {
			t.Fatalf("%s scored by version %s after the forgeries, want %d", sourceOf(out), v, v1)
		}
	}

	v2 := m.publish(sensorONNX(t, 20, 4), nil) // the number the last forgery named
	v3 := m.publish(sensorONNX(t, 30, 5), nil)
	if v2 != v1+1 || v3 != v1+2 {
		t.Fatalf("published versions %d and %d after %d", v2, v3, v1)
	}
	m.point("champion", v3)
	testkit.WaitFor(t, "version "+strconv.Itoa(v3)+" serves", func() bool {
		return labeledValue(t, svc.Metrics(), "streamscore_model_info", "version", strconv.Itoa(v3)) == 1
	})
	if got := metricValue(t, svc.Metrics(), "streamscore_model_swaps_total"); got != 1 {
		t.Errorf("%v swaps, want 1: only the real promotion", got)
	}
	if got := metricValue(t, svc.Metrics(), "streamscore_model_load_failures_total"); got != 0 {
		t.Errorf("%v versions refused, want 0", got)
	}
	if err := stop(); err != nil {
		t.Fatalf("scorer run: %v", err)
	}
}
