package scorer_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/internal/testkit"
	"github.com/streamscore/streamscore/internal/testkit/stackkit"
	"github.com/streamscore/streamscore/internal/trainer"
)

// truthSchema is the labels topic's record in the closed loop: the truth
// of the reading whose key it carries, as the model's label is (a
// boolean).
const truthSchema = `{"type": "record", "name": "Truth", "namespace": "test", "fields": [
  {"name": "anomaly", "type": "boolean"}]}`

// TestClosedLoopRetrainsOnDriftAndPromotesOnline is the loop of issue 12
// over kfake, with a real trainer and a real scorer: the trainer's first
// version serves; the stream's temperature shifts, and with it what an
// anomaly is; the scorer's drift windows show the shift, the trainer's
// on_drift retrains from the recent history and publishes the new version
// as the challenger only; the scorer shadow-scores it; the late labels
// show it better, the trainer promotes it online with the evidence in
// the alias history, and the scorer swaps it in.
func TestClosedLoopRetrainsOnDriftAndPromotesOnline(t *testing.T) {
	const live, history = "plant", "plant.history"
	e := newEnv(t, live)
	id, codec := e.register(live+"-value", sensorSchema)
	historySchema := e.stack.Register(t, history+"-value", testkit.LabelledSensorSchema(t))
	truths := e.stack.Register(t, live+".labels-value", truthSchema)

	// The stream: readings, their labelled copies for training, and their
	// labels, late. After the shift the plant runs 5 degrees warmer and an
	// anomaly is whatever runs over 26.5 degrees: a concept the first
	// version never saw.
	var shifted atomic.Bool
	gen := sample.NewSensors(21, 40, 0.1)
	n := 0 // records made: the generator and n are the producing goroutine's
	encode := func(sch stackkit.Schema, native map[string]any) []byte {
		value, err := sch.Codec.BinaryFromNative(serde.AppendFrame(nil, sch.ID), native)
		if err != nil {
			panic(err) // the sample records fit their schemas: a bug here
		}
		return value
	}
	reading := stackkit.Schema{ID: id, Codec: codec}
	produce := func(count int) error {
		var records []*kgo.Record
		for range count {
			rec, anomaly := gen.Next()
			if shifted.Load() {
				temp := rec["temperature"].(float64) + 5
				rec["temperature"], anomaly = temp, temp > 26.5
			}
			labelled := maps.Clone(rec)
			labelled["anomaly"] = anomaly
			n++
			key := []byte(fmt.Sprintf("r-%07d", n))
			records = append(records,
				&kgo.Record{Topic: live, Key: key, Value: encode(reading, rec)},
				&kgo.Record{Topic: history, Value: encode(historySchema, labelled)},
				&kgo.Record{Topic: live + ".labels", Key: key, Value: encode(truths, map[string]any{"anomaly": anomaly})})
		}
		return e.client.ProduceSync(context.Background(), records...).FirstErr()
	}
	if err := produce(3000); err != nil {
		t.Fatal(err)
	}

	opts, err := fit.ParseOptions([]byte(`{"family": "gbdt", "features": ["temperature", "humidity", "vibration", "rssi", "sound"],
		"label": "anomaly", "params": {"num_trees": 15, "max_depth": 3}}`))
	if err != nil {
		t.Fatal(err)
	}
	cfg := trainer.DefaultConfig()
	cfg.Kafka.Brokers, cfg.Registry.URL, cfg.HTTPAddr = e.stack.Brokers(), e.stack.RegistryURL(), "127.0.0.1:0"
	cfg.Jobs = []jobs.Job{{
		Name: catalogModel, Source: catalog.Source{Topic: history}, Options: opts,
		// Train on the last few seconds: after the shift, the new plant.
		Window:  4 * time.Second,
		Promote: jobs.PromoteOnline, Online: &jobs.Online{Topic: live + ".monitor", MinLabelled: 300, Alpha: 0.01},
		OnDrift: &jobs.OnDrift{Topic: live + ".monitor", PSI: 0.25, For: 2 * time.Second},
	}}
	tr, err := trainer.New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Listen(); err != nil {
		tr.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	trained := make(chan error, 1)
	go func() { trained <- tr.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-trained; err != nil {
			t.Errorf("trainer run: %v", err)
		}
	})
	first, err := tr.TrainOnce(context.Background(), catalogModel, false)
	if err != nil || !first.Promoted || first.Version.Version != 1 {
		t.Fatalf("first training: %+v, %v", first, err)
	}

	sc := e.catalogConfig(live)
	sc.Model.ShadowAlias = "challenger"
	sc.Monitor.Window = time.Second
	sc.Monitor.LabelsTopic, sc.Monitor.LabelField = "{topic}.labels", "anomaly"
	svc, stop := e.start(sc)
	// The stream flows until the test ends, 30 records every 10 ms, on a
	// goroutine of its own, which reports a failure to produce when it
	// ends.
	streaming, done := make(chan struct{}), make(chan error, 1)
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-streaming:
				done <- nil
				return
			case <-tick.C:
				if err := produce(30); err != nil {
					done <- err
					return
				}
			}
		}
	}()
	defer func() {
		close(streaming)
		if err := <-done; err != nil {
			t.Errorf("producing the stream: %v", err)
		}
	}()
	e.consumeUntil(3000, live+".scored")

	shifted.Store(true)
	cat := tr.Catalog()
	testkit.WaitFor(t, "a drift-triggered training to publish version 2 as the challenger", func() bool {
		aliases := cat.Aliases(catalogModel)
		return aliases["challenger"] == 2 && aliases["champion"] == 1
	})
	testkit.WaitFor(t, "the scorer to shadow-score version 2", func() bool {
		return labeledValue(t, svc.Metrics(), "streamscore_shadow_model_info", "version", "2") == 1
	})
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		// What the scorer saw of the labels and the windows, to tell a
		// join that matched nothing from a comparison that did not win.
		families, _ := svc.Metrics().Gather()
		for _, f := range families {
			if strings.HasPrefix(f.GetName(), "streamscore_labels") || strings.HasPrefix(f.GetName(), "streamscore_online") ||
				strings.HasPrefix(f.GetName(), "streamscore_monitor") {
				t.Logf("%v", f)
			}
		}
	})
	testkit.WaitFor(t, "version 2 to be promoted online", func() bool {
		return cat.Aliases(catalogModel)["champion"] == 2
	})
	changes := cat.History(catalogModel)
	last := changes[len(changes)-1]
	ev := last.Evidence
	switch {
	case last.Alias != "champion" || last.Version != 2:
		t.Fatalf("the last alias change is %+v, want champion to 2", last)
	case ev == nil:
		t.Fatalf("the promotion carries no evidence: %+v", last)
	case ev.Test != "delong" || ev.Paired < 300 || ev.PValue >= 0.01 || ev.Z <= 0 || ev.ChallengerValue <= ev.ChampionValue:
		t.Errorf("the evidence does not support the promotion: %+v", *ev)
	}
	testkit.WaitFor(t, "the scorer to serve version 2", func() bool {
		return labeledValue(t, svc.Metrics(), "streamscore_model_info", "version", "2") == 1
	})
	if err := stop(); err != nil {
		t.Fatalf("scorer run: %v", err)
	}
}
