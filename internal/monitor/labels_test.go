package monitor

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/internal/testkit"
	"github.com/streamscore/streamscore/internal/testkit/stackkit"
)

// scoredSchema is an output record as the scorer writes one: the input's
// fields, then the prediction.
var scoredSchema = `{"type": "record", "name": "ReadingScored", "namespace": "t", "fields": [
  {"name": "id", "type": "string"},
  {"name": "x", "type": "double"},
  {"name": "prediction", "type": ` + serde.PredictionSchema + `}]}`

const labelSchema = `{"type": "record", "name": "Label", "namespace": "t", "fields": [
  {"name": "id", "type": "string"},
  {"name": "label", "type": "string"}]}`

// sinkLog collects what a join writes, and hands it on to next, if set.
type sinkLog struct {
	next    windowSink
	mu      sync.Mutex
	windows []Window
	counts  map[string]int64
}

func (l *sinkLog) Write(w Window) {
	l.mu.Lock()
	l.windows = append(l.windows, w)
	l.mu.Unlock()
	if l.next != nil {
		l.next.Write(w)
	}
}

func (l *sinkLog) Labels(topic, outcome string, n int64) {
	if l.next != nil {
		l.next.Labels(topic, outcome, n)
	}
	l.mu.Lock()
	if l.counts == nil {
		l.counts = map[string]int64{}
	}
	l.counts[outcome] += n
	l.mu.Unlock()
}

func (l *sinkLog) snapshot() ([]Window, map[string]int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	counts := map[string]int64{}
	for k, v := range l.counts {
		counts[k] = v
	}
	return append([]Window(nil), l.windows...), counts
}

func scored(id string, version string, score float64) map[string]any {
	label := "ok"
	if score >= 0.5 {
		label = "fault"
	}
	return map[string]any{"id": id, "x": score, "prediction": map[string]any{
		"model_name": "sensors", "model_version": version,
		"label": map[string]any{"string": label}, "value": map[string]any{"double": score},
		"scores":    map[string]any{"ok": 1 - score, "fault": score},
		"scored_at": time.UnixMilli(0), "margin": nil,
	}}
}

// TestLabelJoinOverKafka produces the predictions of a champion and a
// shadow version, starts a join and produces late labels, joined on the
// record key, and checks the online windows: every labelled key counted
// for both versions, the comparison on the champion's window, an unusable
// label and one stamped far in the future counted invalid, a duplicate
// counted. The join stops; while it is down more labels come, for keys
// predicted before, and a second join starts some windows later, as after
// a restart: it rebuilds its state from the topics (the predictions read
// back match the new labels, and the comparison goes on over every paired
// record), writes the window the first left open, and does not write
// again the one the first wrote (which it finds in the monitor topic).
func TestLabelJoinOverKafka(t *testing.T) {
	st := stackkit.Start(t, embedded.Config{})
	out := st.Register(t, "readings.scored-value", scoredSchema)
	shadow := st.Register(t, "readings.shadow-value", scoredSchema)
	labels := st.Register(t, "readings.labels-value", labelSchema)
	decoder, err := serde.NewDecoder(st.Registry(), serde.DecoderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	writer := newTestWriter(t, st, prometheus.NewRegistry())
	t.Cleanup(func() { writer.Close(10 * time.Second) })

	const keys, first = 60, 50
	const window = 2 * time.Second
	c := time.Now().Truncate(window) // the joins' clocks are set from here
	id := func(i int) string { return fmt.Sprintf("r%03d", i) }
	truth := func(i int) string { return map[bool]string{true: "fault", false: "ok"}[i%3 == 0] }
	label := func(key, class string, at time.Time) *kgo.Record {
		return &kgo.Record{Topic: "readings.labels", Key: []byte(key), Value: labels.Frame(t, map[string]any{"id": key, "label": class}), Timestamp: at}
	}
	var predictions []*kgo.Record
	for i := range keys {
		score := 0.2 + 0.5*float64(i%7)/7
		if i%3 == 0 {
			score += 0.25
		}
		at := c.Add(time.Duration(i) * time.Millisecond)
		predictions = append(predictions,
			&kgo.Record{Topic: "readings.scored", Key: []byte(id(i)), Value: out.Frame(t, scored(id(i), "1", score)), Timestamp: at},
			&kgo.Record{Topic: "readings.shadow", Key: []byte(id(i)), Value: shadow.Frame(t, scored(id(i), "2", min(score+0.1*float64(i%2), 1))), Timestamp: at})
	}
	st.ProduceRecords(t, predictions...)

	// start runs a join with its clock at now until stop.
	start := func(now time.Time) (log *sinkLog, stop func()) {
		t.Helper()
		log = &sinkLog{next: writer}
		join, err := NewLabelJoin(LabelsConfig{
			Topic: "{topic}.labels", MonitorTopic: DefaultTopic, Inputs: []string{"readings"},
			OutputFor: func(in string) string { return in + ".scored" }, ShadowFor: func(in string) string { return in + ".shadow" },
			Window: window, LabelWait: time.Hour, Model: "sensors", Task: model.Classification, Labels: []string{"ok", "fault"},
		}, st.KafkaOpts(), decoder, log, nil)
		if err != nil {
			t.Fatal(err)
		}
		join.now = func() time.Time { return now }
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- join.Run(ctx) }()
		return log, func() {
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	}
	await := func(log *sinkLog, n int) ([]Window, map[string]int64) {
		t.Helper()
		testkit.WaitFor(t, "the champion's and the shadow's windows", func() bool {
			w, _ := log.snapshot()
			return len(w) >= n
		})
		return log.snapshot()
	}
	check := func(windows []Window, start time.Time, labelled, paired int64) {
		t.Helper()
		byRole := map[string]Window{}
		for _, w := range windows {
			if w.Kind != KindOnline || w.Online == nil || w.Topic != "readings" || w.Model != "sensors" {
				t.Fatalf("not an online window of readings/sensors: %+v", w)
			}
			if _, dup := byRole[w.Role]; dup || !w.Start.Equal(start) {
				t.Fatalf("windows %+v: want one per role, starting %s", windows, start)
			}
			byRole[w.Role] = w
		}
		champion, challenger := byRole[RoleChampion], byRole[RoleShadow]
		if champion.Version != "1" || challenger.Version != "2" {
			t.Fatalf("versions: champion %q, shadow %q", champion.Version, challenger.Version)
		}
		for _, w := range []Window{champion, challenger} {
			if w.Online.Labelled != labelled || w.Online.ROCAUC == nil || w.Online.F1 == nil || w.Online.LogLoss == nil {
				t.Errorf("%s window: labelled %d (want %d), auc %v f1 %v log loss %v", w.Role, w.Online.Labelled, labelled, w.Online.ROCAUC, w.Online.F1, w.Online.LogLoss)
			}
		}
		if cmp := champion.Online.Comparison; cmp == nil || cmp.Paired != paired || cmp.ChampionVersion != "1" || cmp.ChallengerVersion != "2" {
			t.Errorf("comparison %+v, want versions 1 and 2 paired on %d records", cmp, paired)
		}
	}

	log, stop := start(c.Add(time.Second))
	var labelled []*kgo.Record
	for i := range first {
		labelled = append(labelled, label(id(i), truth(i), c.Add(500*time.Millisecond+time.Duration(i)*time.Millisecond)))
	}
	st.ProduceRecords(t, append(labelled,
		label(id(0), "ok", c.Add(time.Second)), // a duplicate
		&kgo.Record{Topic: "readings.labels", Key: []byte("junk"), Value: []byte("not avro"), Timestamp: c.Add(time.Second)},
		label("ahead", "ok", c.Add(24*time.Hour)), // stamped far ahead: it must not close the windows to come
		// Moves the labels' time into the third window: the first closes.
		label("zzz", "ok", c.Add(2*window+100*time.Millisecond)))...)
	windows, counts := await(log, 2)
	check(windows, c, first, first)
	if counts[LabelInvalid] != 2 || counts["duplicate"] != 1 || counts["matched"] != first {
		t.Errorf("label counts %v, want two invalid, one duplicate and %d matched", counts, first)
	}
	stop()
	readMonitor(t, st, "readings.monitor", 2) // what the first wrote is there

	// While no join runs, labels come for the keys not yet labelled, in the
	// third window (which the first join left open); the second starts two
	// windows later.
	var more []*kgo.Record
	for i := first; i < keys; i++ {
		more = append(more, label(id(i), truth(i), c.Add(2*window+time.Second)))
	}
	st.ProduceRecords(t, append(more, label("zzz2", "ok", c.Add(3*window+500*time.Millisecond)))...)
	log, stop = start(c.Add(4*window + time.Second))
	windows, _ = await(log, 2)
	stop()
	check(windows, c.Add(2*window), keys-first, keys)
}

// TestLabelJoinCatchesUpOnTransactionalOutputs writes the predictions in
// a Kafka transaction, as a scorer in exactly-once mode does, so that each
// output partition ends with a commit marker no consumer sees: the join
// takes such a partition as read once it shows nothing more, and goes on
// to write its windows.
func TestLabelJoinCatchesUpOnTransactionalOutputs(t *testing.T) {
	st := stackkit.Start(t, embedded.Config{})
	out := st.Register(t, "readings.scored-value", scoredSchema)
	labels := st.Register(t, "readings.labels-value", labelSchema)
	decoder, err := serde.NewDecoder(st.Registry(), serde.DecoderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	const window = 2 * time.Second
	c := time.Now().Truncate(window)
	txn := st.Client(t, kgo.TransactionalID("scorer-eos"))
	ctx := context.Background()
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	var records []*kgo.Record
	for i := range 20 {
		key := fmt.Sprintf("r%03d", i)
		records = append(records, &kgo.Record{Topic: "readings.scored", Key: []byte(key), Value: out.Frame(t, scored(key, "1", float64(i)/20)), Timestamp: c})
	}
	if err := txn.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := txn.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	records = records[:0]
	for i := range 20 {
		key := fmt.Sprintf("r%03d", i)
		class := map[bool]string{true: "fault", false: "ok"}[i >= 10]
		records = append(records, &kgo.Record{Topic: "readings.labels", Key: []byte(key), Value: labels.Frame(t, map[string]any{"id": key, "label": class}), Timestamp: c.Add(time.Second)})
	}
	records = append(records, &kgo.Record{Topic: "readings.labels", Key: []byte("tick"), Value: labels.Frame(t, map[string]any{"id": "tick", "label": "ok"}), Timestamp: c.Add(window + time.Second)})
	st.ProduceRecords(t, records...)

	log := &sinkLog{}
	join, err := NewLabelJoin(LabelsConfig{
		Topic: "{topic}.labels", MonitorTopic: DefaultTopic, Inputs: []string{"readings"},
		OutputFor: func(in string) string { return in + ".scored" },
		Window:    window, LabelWait: time.Hour, Model: "sensors", Task: model.Classification, Labels: []string{"ok", "fault"},
	}, st.KafkaOpts(), decoder, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	join.now = func() time.Time { return c.Add(window + 2*time.Second) }
	join.patience = 200 * time.Millisecond
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- join.Run(runCtx) }()
	testkit.WaitFor(t, "the window of the transactional predictions", func() bool {
		w, _ := log.snapshot()
		return len(w) == 1 && w[0].Online.Labelled == 20
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
