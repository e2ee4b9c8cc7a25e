package jobs_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/testkit"
	"github.com/streamscore/streamscore/internal/testkit/stackkit"
	"github.com/streamscore/streamscore/schemas"
)

// monitorFeed writes monitoring windows to a monitor topic, as the scorer
// does.
type monitorFeed struct {
	s      *stack
	topic  string
	schema stackkit.Schema
	client *kgo.Client
}

// monitor makes topic with three partitions and registers monitor.avsc as
// its value schema.
func (s *stack) monitor(topic string) monitorFeed {
	s.t.Helper()
	client := s.s.Client(s.t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(client).CreateTopic(ctx, 3, 1, nil, topic); err != nil {
		s.t.Fatal(err)
	}
	return monitorFeed{s: s, topic: topic, schema: s.s.Register(s.t, topic+"-value", schemas.Monitor), client: client}
}

// send writes windows, each keyed by its model so that a model's windows
// keep their order.
func (m monitorFeed) send(windows ...map[string]any) {
	m.s.t.Helper()
	records := make([]*kgo.Record, len(windows))
	for i, w := range windows {
		records[i] = &kgo.Record{Topic: m.topic, Key: []byte(w["model_name"].(string)), Value: m.schema.Frame(m.s.t, w)}
	}
	stackkit.ProduceSync(m.s.t, m.client, records...)
}

// sendRaw writes values as they are, keyed by model.
func (m monitorFeed) sendRaw(model string, values ...[]byte) {
	m.s.t.Helper()
	records := make([]*kgo.Record, len(values))
	for i, v := range values {
		records[i] = &kgo.Record{Topic: m.topic, Key: []byte(model), Value: v}
	}
	stackkit.ProduceSync(m.s.t, m.client, records...)
}

// driftWindow is minute i after base of a drift window of model, in which
// temperature's PSI is psi and the prediction's 0.01.
func driftWindow(model, role string, base time.Time, i int, psi float64) map[string]any {
	start := base.Add(time.Duration(i) * time.Minute)
	return map[string]any{
		"kind": "drift", "topic": "history", "model_name": model, "model_version": "1", "role": role,
		"window_start": start, "window_end": start.Add(time.Minute), "records": int64(500), "reference": true,
		"features": []any{map[string]any{"name": "temperature", "kind": "numeric", "psi": goavro.Union("double", psi),
			"ks": nil, "null_rate": 0.0, "out_of_range_rate": nil, "mean": nil}},
		"prediction": goavro.Union("io.streamscore.PredictionDrift",
			map[string]any{"psi": goavro.Union("double", 0.01), "mean": nil, "class_shares": map[string]any{}}),
		"online": nil, "comparison": nil,
	}
}

// onlineWindow is an online window of model's version as role, ending at
// end, carrying cmp (nil: none).
func onlineWindow(model, version, role string, end time.Time, cmp map[string]any) map[string]any {
	var comparison any
	if cmp != nil {
		comparison = goavro.Union("io.streamscore.OnlineComparison", cmp)
	}
	return map[string]any{
		"kind": "online", "topic": "history", "model_name": model, "model_version": version, "role": role,
		"window_start": end.Add(-time.Minute), "window_end": end, "records": int64(800), "reference": true,
		"features": []any{}, "prediction": nil,
		"online": goavro.Union("io.streamscore.OnlineMetrics", map[string]any{
			"roc_auc": goavro.Union("double", 0.9), "f1": nil, "log_loss": nil, "rmse": nil, "mae": nil,
			"unmatched_labels": int64(0), "late_labels": int64(0), "duplicate_labels": int64(0)}),
		"comparison": comparison,
	}
}

// comparisonOf is a DeLong comparison of challenger and champion.
func comparisonOf(champion, challenger string, paired int64, championAUC, challengerAUC, z, p float64) map[string]any {
	return map[string]any{
		"champion_version": champion, "challenger_version": challenger, "metric": "roc_auc", "paired": paired,
		"champion": championAUC, "challenger": challengerAUC, "test": "delong", "z": z, "p_value": p,
	}
}

// runScheduler runs svc until the test ends or stop is called.
func runScheduler(t *testing.T, svc *jobs.Scheduler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return stop
}

// count is a model's counter name{label=value}, 0 before it has one.
func count(t *testing.T, reg *prometheus.Registry, name, model, label, value string) float64 {
	t.Helper()
	return testkit.MetricSum(t, reg, name, "model", model, label, value)
}

const (
	windowsMetric   = "streamscore_training_monitor_windows_total"
	triggersMetric  = "streamscore_training_triggers_total"
	decisionsMetric = "streamscore_training_online_decisions_total"
)

// driftJob retrains model on a temperature PSI above 0.2 for 3 minutes.
func driftJob(t *testing.T, model string) jobs.Job {
	return jobs.Job{Name: model, Source: catalog.Source{Topic: "history"}, Options: gbdtOptions(t, `{"num_trees": 3}`),
		OnDrift: &jobs.OnDrift{PSI: 0.2, For: 3 * time.Minute, Features: []string{"temperature"}, Prediction: new(false)}}
}

// TestOnDriftRetrainsOnSustainedDrift feeds a scheduler drift windows of
// one-minute spans (on_drift: temperature above 0.2 for 3 minutes). Bad
// records, another model's windows and the shadow's are skipped; a low
// window in a run resets it; three high minutes in a row train once; after
// it, windows that ended before the training began do not count, and the
// drift going on trains again only once it has covered 3 minutes of
// windows ending after that training began.
func TestOnDriftRetrainsOnSustainedDrift(t *testing.T) {
	s := newStack(t)
	s.produce("history", sensorRows(1, 500))
	cat := s.catalog()
	feed := s.monitor("history.monitor")
	reg := prometheus.NewRegistry()
	svc, err := jobs.NewScheduler([]jobs.Job{driftJob(t, "drifty")}, jobs.SchedulerDeps{Runner: s.runner(cat), Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	runScheduler(t, svc)
	counted := func(result string) float64 { return count(t, reg, windowsMetric, "drifty", "result", result) }
	driftTriggers := func() float64 { return count(t, reg, triggersMetric, "drifty", "reason", "drift") }

	base := time.Now().Truncate(time.Minute)
	// Garbage, and a record of another schema, first in the model's
	// partition: skipped, and the watcher goes on.
	sensor := s.s.Register(t, "sensor-value", labelledSensorSchema(t))
	feed.sendRaw("drifty", []byte("not avro at all"), sensor.Frame(t, sensorRows(3, 1)[0]))
	// Drift of another model and of the shadow, for 5 minutes: ignored.
	var ignored []map[string]any
	for i := range 5 {
		ignored = append(ignored, driftWindow("other", "champion", base, i, 0.9), driftWindow("drifty", "shadow", base, i, 0.9))
	}
	feed.send(ignored...)
	// High, high, low, high, high: no 3 minutes in a row.
	feed.send(driftWindow("drifty", "champion", base, 0, 0.5), driftWindow("drifty", "champion", base, 1, 0.5),
		driftWindow("drifty", "champion", base, 2, 0.1),
		driftWindow("drifty", "champion", base, 3, 0.5), driftWindow("drifty", "champion", base, 4, 0.5))
	testkit.WaitFor(t, "the records to be read", func() bool {
		return counted("bad") == 2 && counted("ignored") == 10 && counted("drift") == 5
	})
	if n := driftTriggers(); n != 0 || len(cat.Versions("drifty")) != 0 {
		t.Fatalf("%v drift triggers, %d versions after a run broken by a low window", n, len(cat.Versions("drifty")))
	}

	// A third high minute after the low one: one training.
	feed.send(driftWindow("drifty", "champion", base, 5, 0.5))
	testkit.WaitFor(t, "the training on drift", func() bool { return len(cat.Versions("drifty")) == 1 })
	if n := driftTriggers(); n != 1 {
		t.Fatalf("%v drift triggers, want 1", n)
	}

	// Three high minutes that ended before the training began (a scorer
	// catching up) show the drift it acted on: they do not count.
	feed.send(driftWindow("drifty", "champion", base, -10, 0.5), driftWindow("drifty", "champion", base, -9, 0.5),
		driftWindow("drifty", "champion", base, -8, 0.5))
	// The drift goes on: two more high minutes after the training began
	// are not 3 minutes.
	feed.send(driftWindow("drifty", "champion", base, 6, 0.5), driftWindow("drifty", "champion", base, 7, 0.5))
	testkit.WaitFor(t, "the windows after the training", func() bool { return counted("drift") == 11 })
	if n := driftTriggers(); n != 1 || len(cat.Versions("drifty")) != 1 {
		t.Fatalf("%v drift triggers, %d versions: the drift already acted on triggered again", n, len(cat.Versions("drifty")))
	}
	// A third is.
	feed.send(driftWindow("drifty", "champion", base, 8, 0.5))
	testkit.WaitFor(t, "the second training on drift", func() bool { return len(cat.Versions("drifty")) == 2 })
	if n := driftTriggers(); n != 2 {
		t.Fatalf("%v drift triggers, want 2", n)
	}
}

// TestOnDriftAnsweredByAChallenger runs on_drift under promote: online: a
// drift training publishes a challenger, which answers its champion's
// drift while the scorer judges it, so that drift, however long, trains no
// more (each new challenger would restart the comparison); the drift of
// another champion trains again.
func TestOnDriftAnsweredByAChallenger(t *testing.T) {
	s := newStack(t)
	s.produce("history", sensorRows(1, 500))
	cat := s.catalog()
	feed := s.monitor("history.monitor")
	reg := prometheus.NewRegistry()
	job := driftJob(t, "judged")
	job.Promote, job.Online = jobs.PromoteOnline, &jobs.Online{}
	svc, err := jobs.NewScheduler([]jobs.Job{job}, jobs.SchedulerDeps{Runner: s.runner(cat), Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	runScheduler(t, svc)
	counted := func() float64 { return count(t, reg, windowsMetric, "judged", "result", "drift") }
	start := time.Now().Truncate(time.Minute)
	high := func(version string, from, to int) {
		var ws []map[string]any
		for i := from; i < to; i++ {
			w := driftWindow("judged", "champion", start, i, 0.5)
			w["model_version"] = version
			ws = append(ws, w)
		}
		feed.send(ws...)
	}
	if _, err := s.runner(cat).Run(context.Background(), job, false, nil); err != nil { // v1, the champion
		t.Fatal(err)
	}
	high("1", 0, 3)
	testkit.WaitFor(t, "the drift training's challenger", func() bool {
		return cat.Aliases("judged")[jobs.AliasChallenger] == 2 && cat.Aliases("judged")[jobs.AliasChampion] == 1
	})
	high("1", 3, 9)
	testkit.WaitFor(t, "six more minutes of the champion's drift", func() bool { return counted() == 9 })
	// A window is counted once acted on, so the triggers are all in.
	if n := count(t, reg, triggersMetric, "judged", "reason", "drift"); n != 1 {
		t.Fatalf("%v drift triggers: the champion's drift trained again while its challenger was being judged", n)
	}
	high("2", 9, 12)
	testkit.WaitFor(t, "the training on the next champion's drift", func() bool { return len(cat.Versions("judged")) == 3 })
}

// TestOnDriftNotRetriggeredAfterRestart trains once on drift, then starts
// a new scheduler on the same topics: the windows it acted on are not read
// again, only those written after it started.
func TestOnDriftNotRetriggeredAfterRestart(t *testing.T) {
	s := newStack(t)
	s.produce("history", sensorRows(1, 500))
	cat := s.catalog()
	feed := s.monitor("history.monitor")
	first, err := jobs.NewScheduler([]jobs.Job{driftJob(t, "drifty")}, jobs.SchedulerDeps{Runner: s.runner(cat)})
	if err != nil {
		t.Fatal(err)
	}
	stop := runScheduler(t, first)
	base := time.Now().Truncate(time.Minute)
	var run []map[string]any
	for i := range 4 {
		run = append(run, driftWindow("drifty", "champion", base, i, 0.5))
	}
	feed.send(run...)
	testkit.WaitFor(t, "the training on drift", func() bool { return len(cat.Versions("drifty")) == 1 })
	stop()

	reg := prometheus.NewRegistry()
	second, err := jobs.NewScheduler([]jobs.Job{driftJob(t, "drifty")}, jobs.SchedulerDeps{Runner: s.runner(cat), Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	runScheduler(t, second)
	// One high window, written after the restart, behind the four in the
	// same partition: read alone, it is one minute of drift.
	feed.send(driftWindow("drifty", "champion", base, 4, 0.5))
	testkit.WaitFor(t, "the new window", func() bool { return count(t, reg, windowsMetric, "drifty", "result", "drift") >= 1 })
	if n := count(t, reg, windowsMetric, "drifty", "result", "drift"); n != 1 {
		t.Errorf("the restarted scheduler read %v drift windows, want only the 1 written after it started", n)
	}
	if n := count(t, reg, triggersMetric, "drifty", "reason", "drift"); n != 0 || len(cat.Versions("drifty")) != 1 {
		t.Errorf("%v drift triggers, %d versions after the restart, want 0 and 1", n, len(cat.Versions("drifty")))
	}
}

// TestOnlinePromotionFollowsTheComparison publishes champion v1 and
// challenger v2 of a promote: online job, then feeds the scheduler the
// champion's online windows: comparisons short of min_labelled, not
// significant, of other versions, and the shadow's change nothing; the
// first that meets the rule moves the champion, with its evidence in the
// alias history, as a fresh catalog reads it back.
func TestOnlinePromotionFollowsTheComparison(t *testing.T) {
	s := newStack(t)
	s.produce("history", sensorRows(1, 500))
	cat := s.catalog()
	runner := s.runner(cat)
	job := jobs.Job{Name: "shadowed", Source: catalog.Source{Topic: "history"}, Options: gbdtOptions(t, `{"num_trees": 3}`),
		Promote: jobs.PromoteOnline, Online: &jobs.Online{}}
	ctx := context.Background()
	if out, err := runner.Run(ctx, job, false, nil); err != nil || !out.Promoted {
		t.Fatalf("first version: %v, promoted %v", err, out != nil && out.Promoted)
	}
	out, err := runner.Run(ctx, job, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.Promoted {
		t.Fatalf("under promote: online, the second version was promoted at once: %s", out.Reason)
	}
	assertAliases(t, cat.Aliases("shadowed"), map[string]int{"champion": 1, "challenger": 2})

	feed := s.monitor("history.monitor")
	reg := prometheus.NewRegistry()
	svc, err := jobs.NewScheduler([]jobs.Job{job}, jobs.SchedulerDeps{Runner: runner, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	runScheduler(t, svc)
	decided := func(result string) float64 { return count(t, reg, decisionsMetric, "shadowed", "result", result) }

	end := time.Now().Truncate(time.Millisecond).UTC()
	meets := comparisonOf("1", "2", 4210, 0.874, 0.912, 3.1, 0.001)
	feed.send(
		onlineWindow("shadowed", "1", "champion", end, comparisonOf("1", "2", 999, 0.874, 0.95, 4, 0.0001)),  // too few
		onlineWindow("shadowed", "1", "champion", end, comparisonOf("1", "2", 5000, 0.874, 0.88, 1.2, 0.11)), // not significant
		onlineWindow("shadowed", "1", "champion", end, comparisonOf("1", "2", 5000, 0.874, 0.80, -3, 0.998)), // worse
		onlineWindow("shadowed", "1", "champion", end, comparisonOf("1", "7", 5000, 0.874, 0.95, 4, 0.0001)), // another challenger
		onlineWindow("shadowed", "2", "shadow", end, meets),                                                  // the shadow's window
		onlineWindow("shadowed", "1", "champion", end, nil),                                                  // no comparison
	)
	testkit.WaitFor(t, "the comparisons to be judged", func() bool {
		return count(t, reg, windowsMetric, "shadowed", "result", "online") == 5 && count(t, reg, windowsMetric, "shadowed", "result", "ignored") == 1
	})
	want := map[string]float64{"too_few": 1, "not_significant": 2, "stale": 1, "promoted": 0}
	for result, n := range want {
		if got := decided(result); got != n {
			t.Errorf("%v comparisons judged %s, want %v", got, result, n)
		}
	}
	assertAliases(t, cat.Aliases("shadowed"), map[string]int{"champion": 1, "challenger": 2})

	feed.send(onlineWindow("shadowed", "1", "champion", end, meets))
	testkit.WaitFor(t, "the online promotion", func() bool { return decided("promoted") == 1 })
	assertAliases(t, cat.Aliases("shadowed"), map[string]int{"champion": 2, "challenger": 2})

	wantEvidence := catalog.Evidence{Metric: "roc_auc", Test: "delong", Paired: 4210, ChampionValue: 0.874, ChallengerValue: 0.912,
		Z: 3.1, PValue: 0.001, WindowEnd: end, ChampionVersion: 1, ChallengerVersion: 2}
	const wantReason = "online: roc_auc 0.912 vs 0.874 over 4,210 labelled records, DeLong z=3.1 p=0.001"
	for name, c := range map[string]*catalog.Catalog{"the trainer's catalog": cat, "a fresh catalog": s.catalog()} {
		history := c.History("shadowed")
		last := history[len(history)-1]
		if last.Alias != "champion" || last.Version != 2 || last.Previous != 1 || last.Forced || last.Reason != wantReason {
			t.Errorf("%s: last change %+v, want champion 1 -> 2, not forced, reason %q", name, last, wantReason)
		}
		if last.Evidence == nil || !reflect.DeepEqual(*last.Evidence, wantEvidence) {
			t.Errorf("%s: evidence %+v, want %+v", name, last.Evidence, wantEvidence)
		}
	}
}
