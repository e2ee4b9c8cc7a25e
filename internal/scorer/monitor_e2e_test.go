package scorer_test

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/helm"
	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/drift"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/internal/testkit"
	"github.com/streamscore/streamscore/schemas"
)

// labelSchema is a labels topic's record: the truth of the reading whose
// key the record carries.
const labelSchema = `{"type": "record", "name": "SensorLabel", "namespace": "test", "fields": [
  {"name": "label", "type": "string"}]}`

// profileOf is the reference profile of a sensor model on rows, as the
// trainer computes it: each row's columns and the model's prediction.
func profileOf(t *testing.T, onnxBytes []byte, rows []map[string]any) *drift.Profile {
	t.Helper()
	m, err := model.Load(onnxBytes, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p, skipped, err := drift.ProfileRecords(m, slices.Values(rows))
	if err != nil || skipped > 0 {
		t.Fatalf("profile: %v (%d rows skipped)", err, skipped)
	}
	return p
}

// TestMonitoringEndToEnd serves a champion and a shadow challenger from
// the catalog, each with its reference profile, with one-second windows
// and a labels topic, and checks what a person watching the model sees:
// drift windows of both versions with a PSI per feature; after the
// temperature shifts by two standard deviations, a window whose
// temperature PSI is over 0.25; online windows of both versions once the
// labels arrive, with the challenger's comparison on the champion's; and
// every metric the Helm chart's dashboard and alerts query, exposed.
func TestMonitoringEndToEnd(t *testing.T) {
	const topic = "watched"
	e := newEnv(t, topic)
	id, codec := e.register(topic+"-value", sensorSchema)
	labels := e.stack.Register(t, topic+".labels-value", labelSchema)
	m := e.models()
	rows := testkit.SensorRows(11, 2000)
	publish := func(onnxBytes []byte) int {
		t.Helper()
		v := catalog.Version{Name: catalogModel, Family: "gbdt", Spec: sample.SensorSpec(catalogModel, ""), Profile: profileOf(t, onnxBytes, rows)}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		got, err := m.cat.Publish(ctx, v, onnxBytes)
		if err != nil {
			t.Fatal(err)
		}
		return got.Version
	}
	champion, challenger := publish(sensorONNX(t, 10, 3)), publish(sensorONNX(t, 30, 5))
	m.point("champion", champion)
	m.point("challenger", challenger)

	cfg := e.catalogConfig(topic)
	cfg.Model.ShadowAlias = "challenger"
	cfg.Monitor.Window = time.Second
	cfg.Monitor.LabelsTopic = "{topic}.labels"
	svc, stop := e.start(cfg)
	monitorCodec, err := goavro.NewCodec(schemas.Monitor)
	if err != nil {
		t.Fatal(err)
	}
	monitored := e.stack.Client(t, kgo.ConsumeTopics(topic+".monitor"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var windows []map[string]any
	// until reads monitor records until ok holds of those read.
	until := func(what string, ok func([]map[string]any) bool) {
		t.Helper()
		testkit.WaitFor(t, what, func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			monitored.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
				_, body, err := serde.ParseFrame(r.Value)
				if err != nil {
					t.Fatal(err)
				}
				native, _, err := monitorCodec.NativeFromBinary(body)
				if err != nil {
					t.Fatal(err)
				}
				windows = append(windows, native.(map[string]any))
			})
			return ok(windows)
		})
	}
	produce := func(gen *sample.Sensors, n int, shift float64, offset int) {
		t.Helper()
		readings := make([]*kgo.Record, n)
		truths := make([]*kgo.Record, n)
		for i := range n {
			rec, anomaly := gen.Next()
			rec["temperature"] = rec["temperature"].(float64) + shift
			key := []byte(fmt.Sprintf("reading-%06d", offset+i))
			readings[i] = &kgo.Record{Topic: topic, Key: key, Value: frame(t, id, codec, rec)}
			truth := map[bool]string{false: "normal", true: "anomaly"}[anomaly]
			truths[i] = &kgo.Record{Topic: topic + ".labels", Key: key, Value: labels.Frame(t, map[string]any{"label": truth})}
		}
		e.produce(readings...)
		e.consumeUntil(offset+n, topic+".scored")
		e.produce(truths...) // after their predictions: labels come late
	}

	gen := sample.NewSensors(12, 50, 0.1)
	produce(gen, 3000, 0, 0)
	// And one record that cannot be scored: the dead-letter series the
	// dashboard shows exists once a record was dead-lettered.
	e.produce(&kgo.Record{Topic: topic, Key: []byte("garbage"), Value: []byte("not avro")})
	e.consumeUntil(1, topic+".dlq")
	hasDrift := func(version int, role string) func([]map[string]any) bool {
		return func(ws []map[string]any) bool {
			return slices.ContainsFunc(ws, func(w map[string]any) bool {
				return w["kind"] == "drift" && w["model_version"] == fmt.Sprint(version) && w["role"] == role && w["reference"] == true
			})
		}
	}
	until("drift windows of the champion and the shadow", func(ws []map[string]any) bool {
		return hasDrift(champion, "champion")(ws) && hasDrift(challenger, "shadow")(ws)
	})
	for _, w := range windows {
		features := w["features"].([]any)
		if len(features) != len(sample.SensorFeatures) {
			t.Fatalf("a drift window has %d features, want %d", len(features), len(sample.SensorFeatures))
		}
		for _, f := range features {
			if f.(map[string]any)["psi"] == nil {
				t.Errorf("feature %v has no PSI though the version has a reference", f.(map[string]any)["name"])
			}
		}
	}

	// Two standard deviations warmer: the temperature's PSI rises.
	seen := len(windows)
	produce(gen, 3000, 5, 3000)
	psi := func(w map[string]any, feature string) float64 {
		for _, f := range w["features"].([]any) {
			if f := f.(map[string]any); f["name"] == feature {
				return f["psi"].(map[string]any)["double"].(float64)
			}
		}
		return -1
	}
	until("a drift window where the temperature's PSI is over 0.25", func(ws []map[string]any) bool {
		return slices.ContainsFunc(ws[seen:], func(w map[string]any) bool {
			return w["kind"] == "drift" && w["role"] == "champion" && psi(w, "temperature") > 0.25
		})
	})

	// A label a window later moves the labels' time on: the windows of
	// the labels before it close.
	e.produce(&kgo.Record{Topic: topic + ".labels", Key: []byte("tick"), Value: labels.Frame(t, map[string]any{"label": "normal"}),
		Timestamp: time.Now().Add(3 * time.Second)})
	until("online windows of both versions, with the comparison", func(ws []map[string]any) bool {
		var championOnline, shadowOnline bool
		for _, w := range ws {
			if w["kind"] != "online" {
				continue
			}
			switch w["role"] {
			case "champion":
				championOnline = championOnline || w["comparison"] != nil
			case "shadow":
				shadowOnline = true
			}
		}
		return championOnline && shadowOnline
	})
	for _, w := range windows {
		if w["kind"] != "online" {
			continue
		}
		metrics := w["online"].(map[string]any)["io.streamscore.OnlineMetrics"].(map[string]any)
		for _, name := range []string{"roc_auc", "f1", "log_loss"} {
			if metrics[name] == nil {
				t.Errorf("an online window of version %v lacks %s", w["model_version"], name)
			}
		}
	}

	families, err := svc.Metrics().Gather()
	if err != nil {
		t.Fatal(err)
	}
	exposed := map[string]bool{}
	for _, f := range families {
		exposed[f.GetName()] = true
		if f.GetType().String() == "HISTOGRAM" {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				exposed[f.GetName()+suffix] = true
			}
		}
	}
	queried, err := helm.DashboardMetrics(filepath.Join("..", "..", "helm", "streamscore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range queried {
		if !exposed[name] {
			t.Errorf("the chart's dashboard or alerts query %s, which the scorer does not expose (it has %s)", name,
				strings.Join(slices.Sorted(maps.Keys(exposed)), ", "))
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("scorer run: %v", err)
	}
}
