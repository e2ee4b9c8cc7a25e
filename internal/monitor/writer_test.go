package monitor

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/drift"
	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/online"
	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/internal/testkit"
	"github.com/streamscore/streamscore/internal/testkit/stackkit"
	"github.com/streamscore/streamscore/schemas"
)

func ptr(v float64) *float64 { return &v }

// newTestWriter is a Writer over a kfake broker and the registry, with
// its gauges on reg.
func newTestWriter(t *testing.T, st *stackkit.Stack, reg *prometheus.Registry) *Writer {
	t.Helper()
	w, err := NewWriter(WriterDeps{Client: st.Client(t), Registry: st.Registry(), Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// readMonitor consumes n records of a monitor topic and decodes them with
// the schema registered under its subject.
func readMonitor(t *testing.T, st *stackkit.Stack, topic string, n int) []map[string]any {
	t.Helper()
	client := st.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	codec, err := goavro.NewCodec(schemas.Monitor)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []map[string]any
	for len(out) < n {
		fetches := client.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d monitor records", len(out), n)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			id, body, err := serde.ParseFrame(r.Value)
			if err != nil {
				t.Fatal(err)
			}
			registered, err := st.Registry().GetSchema(int(id))
			if err != nil {
				t.Fatal(err)
			}
			if c, err := goavro.NewCodec(registered.Schema()); err != nil || c.CanonicalSchema() != codec.CanonicalSchema() {
				t.Fatalf("schema id %d is not the monitor schema (%v)", id, err)
			}
			native, _, err := codec.NativeFromBinary(body)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, native.(map[string]any))
		})
	}
	return out
}

// TestWriterRecordsAndGauges writes a drift and an online window, reads
// both records back through the registry and checks them field by field,
// and checks the gauges, including that a version's series go when
// another version takes its role.
func TestWriterRecordsAndGauges(t *testing.T) {
	st := stackkit.Start(t, embedded.Config{})
	reg := prometheus.NewRegistry()
	w := newTestWriter(t, st, reg)
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	end := start.Add(5 * time.Minute)
	w.Write(Window{
		Kind: KindDrift, Topic: "readings", Model: "sensors", Version: "3", Role: RoleChampion, Start: start, End: end,
		Drift: &drift.Report{Records: 1200, Reference: true, Features: []drift.FeatureReport{
			{Name: "temperature", Kind: "numeric", PSI: ptr(0.31), KS: ptr(0.2), NullRate: 0.01, OutOfRangeRate: ptr(0.002), Mean: ptr(21.5)},
			{Name: "site", Kind: "categorical", PSI: ptr(0.02), NullRate: 0, OutOfRangeRate: ptr(0)},
		}, Prediction: drift.PredictionReport{PSI: ptr(0.12), Mean: ptr(0.3), ClassShares: map[string]float64{"ok": 0.7, "fault": 0.3}}},
	})
	w.Write(Window{
		Kind: KindOnline, Topic: "readings", Model: "sensors", Version: "3", Role: RoleChampion, Start: start, End: end,
		Online: &online.WindowReport{Version: "3", Role: RoleChampion, Labelled: 400, ROCAUC: ptr(0.91), F1: ptr(0.8), LogLoss: ptr(0.3),
			Unmatched: 3, Late: 2, Duplicate: 1,
			Comparison: &online.Comparison{ChampionVersion: "3", ChallengerVersion: "4", Metric: "roc_auc", Test: "delong",
				Paired: 390, Champion: 0.91, Challenger: 0.94, Z: 2.5, PValue: 0.006}},
	})
	byKind := map[string]map[string]any{}
	for _, r := range readMonitor(t, st, "readings.monitor", 2) {
		byKind[r["kind"].(string)] = r
	}

	d := byKind[KindDrift]
	for field, want := range map[string]any{"kind": "drift", "topic": "readings", "model_name": "sensors", "model_version": "3",
		"role": "champion", "records": int64(1200), "reference": true} {
		if d[field] != want {
			t.Errorf("drift record %s = %v, want %v", field, d[field], want)
		}
	}
	if got := d["window_start"].(time.Time); !got.Equal(start) {
		t.Errorf("window_start %s, want %s", got, start)
	}
	features := d["features"].([]any)
	temp := features[0].(map[string]any)
	if temp["name"] != "temperature" || temp["psi"].(map[string]any)["double"] != 0.31 || temp["ks"].(map[string]any)["double"] != 0.2 {
		t.Errorf("temperature drift %v", temp)
	}
	if site := features[1].(map[string]any); site["ks"] != nil || site["mean"] != nil {
		t.Errorf("categorical feature has a ks or mean: %v", site)
	}
	pred := d["prediction"].(map[string]any)["io.streamscore.PredictionDrift"].(map[string]any)
	if pred["psi"].(map[string]any)["double"] != 0.12 || pred["class_shares"].(map[string]any)["fault"] != 0.3 {
		t.Errorf("prediction drift %v", pred)
	}
	if d["online"] != nil || d["comparison"] != nil {
		t.Errorf("drift record carries online parts: %v %v", d["online"], d["comparison"])
	}

	o := byKind[KindOnline]
	metrics := o["online"].(map[string]any)["io.streamscore.OnlineMetrics"].(map[string]any)
	if metrics["roc_auc"].(map[string]any)["double"] != 0.91 || metrics["rmse"] != nil || metrics["late_labels"] != int64(2) {
		t.Errorf("online metrics %v", metrics)
	}
	cmp := o["comparison"].(map[string]any)["io.streamscore.OnlineComparison"].(map[string]any)
	if cmp["challenger_version"] != "4" || cmp["p_value"] != 0.006 || cmp["paired"] != int64(390) || cmp["test"] != "delong" {
		t.Errorf("comparison %v", cmp)
	}
	if len(o["features"].([]any)) != 0 || o["records"] != int64(400) {
		t.Errorf("online record: features %v, records %v", o["features"], o["records"])
	}

	if got := testutil.ToFloat64(w.gauges.psi.WithLabelValues("readings", "sensors", "3", "champion", "temperature")); got != 0.31 {
		t.Errorf("psi gauge %v", got)
	}
	if got := testutil.ToFloat64(w.gauges.online.WithLabelValues("readings", "sensors", "3", "champion", "roc_auc")); got != 0.91 {
		t.Errorf("online gauge %v", got)
	}
	// Version 4 takes the champion's role: version 3's drift series go,
	// its online ones stay until an online window of 4 closes.
	w.Write(Window{Kind: KindDrift, Topic: "readings", Model: "sensors", Version: "4", Role: RoleChampion, Start: end, End: end.Add(5 * time.Minute),
		Drift: &drift.Report{Records: 10, Features: []drift.FeatureReport{{Name: "temperature", Kind: "numeric", NullRate: 0}}}})
	if psi, nulls := testutil.CollectAndCount(w.gauges.psi), testutil.CollectAndCount(w.gauges.nulls); psi != 0 || nulls != 1 {
		t.Errorf("%d psi and %d null-ratio series after the swap, want none (version 4 has no reference) and version 4's one", psi, nulls)
	}
	if n := testutil.CollectAndCount(w.gauges.online); n != 3 {
		t.Errorf("%d online series, want version 3's three", n)
	}
	// Version 4's topic goes idle: its figures go, as they describe
	// nothing any more.
	w.Idle("readings", "sensors", "4", RoleChampion)
	if n := testutil.CollectAndCount(w.gauges.nulls); n != 0 {
		t.Errorf("%d null-ratio series left after the window of version 4 saw no rows", n)
	}
	names, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range names {
		if !strings.HasPrefix(mf.GetName(), "streamscore_") {
			t.Errorf("metric %s is not named streamscore_*", mf.GetName())
		}
	}
}

// TestWriteNeverWaits writes windows while the schema registry hangs:
// every Write returns, the windows the writer has no room for are dropped
// and counted, Close gives up on the hung one after its timeout, and a
// Write after Close is dropped.
func TestWriteNeverWaits(t *testing.T) {
	st := stackkit.Start(t, embedded.Config{})
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer hung.Close()
	defer close(release)
	w, err := NewWriter(WriterDeps{Client: st.Client(t), Registry: srclient.NewSchemaRegistryClient(hung.URL)})
	if err != nil {
		t.Fatal(err)
	}
	const n = writeQueue + 100
	for i := range n {
		w.Write(Window{Kind: KindDrift, Topic: "t", Model: "m", Version: "1", Role: RoleChampion,
			Start: time.Unix(int64(i), 0), End: time.Unix(int64(i+1), 0), Drift: &drift.Report{}})
	}
	// One window is with the hung registry, writeQueue wait: the rest
	// were dropped.
	if dropped := testutil.ToFloat64(w.gauges.failures.WithLabelValues(FailBehind)); dropped < n-writeQueue-1 {
		t.Errorf("%v windows dropped as behind, want at least %d", dropped, n-writeQueue-1)
	}
	closed := make(chan struct{})
	go func() {
		w.Close(0)
		close(closed)
	}()
	testkit.WaitFor(t, "Close to give up on the hung registry", func() bool {
		select {
		case <-closed:
			return true
		default:
			return false
		}
	})
	w.Write(Window{Kind: KindDrift, Topic: "t", Drift: &drift.Report{}}) // after Close: dropped, no panic
}

// TestZScoreStaysFinite checks what a comparison without variance (an
// infinite statistic) becomes: a finite z far past any significance, of
// its sign, so the trainer can act on it and the catalog keep it.
func TestZScoreStaysFinite(t *testing.T) {
	for _, tt := range []struct{ in, want float64 }{
		{math.Inf(1), maxZ}, {math.Inf(-1), -maxZ}, {math.NaN(), 0}, {3.2, 3.2}, {-41, -maxZ},
	} {
		if got := zScore(tt.in); got != tt.want {
			t.Errorf("zScore(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
