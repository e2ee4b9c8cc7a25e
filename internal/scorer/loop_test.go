package scorer_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/internal/testkit"
	"github.com/streamscore/streamscore/internal/testkit/stackkit"
)

// TestTrainerVersionsReachARunningScorer is the whole loop on the embedded
// stack: the trainer trains a model from a history topic and publishes it
// as the champion; a scorer serves it on a live topic; while records flow,
// the trainer trains again and the new version is promoted; the scorer
// switches to it mid-stream, and every input has exactly one output (by
// offsets), each partition switching versions once.
func TestTrainerVersionsReachARunningScorer(t *testing.T) {
	const live, history = "readings", "readings.history"
	e := newEnv(t, live)
	id, _ := e.register(live+"-value", sensorSchema)
	e.produceHistory(history, 3000)

	decoder, err := serde.NewDecoder(e.registry, serde.DecoderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cat := e.models().cat
	runner := &jobs.Runner{KafkaOpts: []kgo.Opt{kgo.SeedBrokers(e.stack.Brokers()...)}, Decoder: decoder, Catalog: cat}
	job := func(params string) jobs.Job {
		opts, err := fit.ParseOptions([]byte(`{"family": "gbdt", "features": ` + mustJSON(t, sample.SensorFeatures) +
			`, "defaults": {"battery_volts": 3.3}, "label": "anomaly", "params": ` + params + `}`))
		if err != nil {
			t.Fatal(err)
		}
		return jobs.Job{Name: catalogModel, Source: catalog.Source{Topic: history}, Options: opts}
	}
	ctx := context.Background()
	first, err := runner.Run(ctx, job(`{"num_trees": 10, "max_depth": 3}`), false, nil)
	if err != nil || !first.Promoted {
		t.Fatalf("first training: %+v, %v", first, err)
	}

	svc, stop := e.start(e.catalogConfig(live))
	producer := e.stream(live, id)
	e.consumeUntil(200, live+".scored")
	second, err := runner.Run(ctx, job(`{"num_trees": 40, "max_depth": 5}`), true, nil)
	if err != nil || !second.Promoted {
		t.Fatalf("second training: %+v, %v", second, err)
	}
	testkit.WaitFor(t, "the scorer swapped to the new version", func() bool {
		return metricValue(t, svc.Metrics(), "streamscore_model_swaps_total") == 1
	})
	produced := producer.stop()
	after := e.produceReadings(live, id, 300)
	e.consumeUntil(produced+len(after), live+".scored")
	if err := stop(); err != nil {
		t.Fatalf("scorer run: %v", err)
	}

	outputs := e.consumeAvailable(live + ".scored")
	if lost, duplicated := e.tally(live, outputs); lost > 0 || duplicated > 0 || len(outputs) != produced+len(after) {
		t.Fatalf("%d outputs for %d inputs: %d inputs without one, %d duplicates", len(outputs), produced+len(after), lost, duplicated)
	}
	afterSources := map[string]bool{}
	for _, r := range after {
		afterSources[coordinates(r)] = true
	}
	switchesOnce(t, e, outputs, first.Version.Version, second.Version.Version, afterSources)
	if v := strconv.Itoa(second.Version.Version); version(t, e, outputs[len(outputs)-1]) != v {
		t.Errorf("the last output does not name version %s", v)
	}
}

// produceHistory writes n labelled readings (the sensor schema with an
// "anomaly" field) to topic, for the trainer to learn from.
func (e *env) produceHistory(topic string, n int) {
	e.t.Helper()
	history := e.stack.Register(e.t, topic+"-value", testkit.LabelledSensorSchema(e.t))
	stackkit.ProduceSync(e.t, e.client, stackkit.Records(e.t, topic, history, testkit.SensorRows(1, n))...)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
