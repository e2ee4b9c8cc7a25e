package monitor

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

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

// sinkLog collects what a join writes.
type sinkLog struct {
	mu      sync.Mutex
	windows []Window
	counts  map[string]int64
}

func (l *sinkLog) Write(w Window) {
	l.mu.Lock()
	l.windows = append(l.windows, w)
	l.mu.Unlock()
}

func (l *sinkLog) Labels(_, outcome string, n int64) {
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
// shadow version and late labels, some keyed by the record key and joined
// on it, and checks the online windows: every labelled key counted for
// both versions, the comparison on the champion's window, an unusable
// label counted invalid; then a second join, started afresh as after a
// restart, rebuilds its state from the topics and writes the same windows.
func TestLabelJoinOverKafka(t *testing.T) {
	st := stackkit.Start(t, embedded.Config{})
	out := st.Register(t, "readings.scored-value", scoredSchema)
	shadow := st.Register(t, "readings.shadow-value", scoredSchema)
	labels := st.Register(t, "readings.labels-value", labelSchema)
	decoder, err := serde.NewDecoder(st.Registry(), serde.DecoderConfig{})
	if err != nil {
		t.Fatal(err)
	}

	const keys, labelled = 60, 50
	window := time.Minute
	t0 := time.Now().Truncate(window).Add(-10 * window)
	var records []*kgo.Record
	for i := range keys {
		id := fmt.Sprintf("r%03d", i)
		truth := i%3 == 0
		score := 0.2 + 0.5*float64(i%7)/7
		if truth {
			score += 0.25
		}
		at := t0.Add(time.Duration(i) * time.Second)
		records = append(records,
			&kgo.Record{Topic: "readings.scored", Key: []byte(id), Value: out.Frame(t, scored(id, "1", score)), Timestamp: at},
			&kgo.Record{Topic: "readings.shadow", Key: []byte(id), Value: shadow.Frame(t, scored(id, "2", min(score+0.1*float64(i%2), 1))), Timestamp: at})
	}
	st.ProduceRecords(t, records...)
	records = records[:0]
	for i := range labelled {
		id := fmt.Sprintf("r%03d", i)
		class := "ok"
		if i%3 == 0 {
			class = "fault"
		}
		records = append(records, &kgo.Record{Topic: "readings.labels", Key: []byte(id),
			Value: labels.Frame(t, map[string]any{"id": id, "label": class}), Timestamp: t0.Add(2*window + time.Duration(i)*time.Millisecond)})
	}
	records = append(records,
		&kgo.Record{Topic: "readings.labels", Key: []byte("r000"), Value: labels.Frame(t, map[string]any{"id": "r000", "label": "ok"}), Timestamp: t0.Add(2*window + time.Second)},
		&kgo.Record{Topic: "readings.labels", Key: []byte("junk"), Value: []byte("not avro"), Timestamp: t0.Add(2*window + time.Second)},
		// Moves the labels' time past the second window: it closes.
		&kgo.Record{Topic: "readings.labels", Key: []byte("zzz"), Value: labels.Frame(t, map[string]any{"id": "zzz", "label": "ok"}), Timestamp: t0.Add(4 * window)})
	st.ProduceRecords(t, records...)

	run := func() ([]Window, map[string]int64) {
		log := &sinkLog{}
		join, err := NewLabelJoin(LabelsConfig{
			Topic: "{topic}.labels", Inputs: []string{"readings"},
			OutputFor: func(in string) string { return in + ".scored" }, ShadowFor: func(in string) string { return in + ".shadow" },
			Window: window, LabelWait: time.Hour, Model: "sensors", Task: model.Classification, Labels: []string{"ok", "fault"},
		}, st.KafkaOpts(), decoder, log, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- join.Run(ctx) }()
		testkit.WaitFor(t, "the second window's champion and shadow reports", func() bool {
			w, _ := log.snapshot()
			return len(w) >= 2
		})
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return log.snapshot()
	}
	first, counts := run()
	byRole := map[string]Window{}
	for _, w := range first {
		if w.Kind != KindOnline || w.Online == nil || w.Topic != "readings" || w.Model != "sensors" {
			t.Fatalf("not an online window of readings/sensors: %+v", w)
		}
		byRole[w.Role] = w
	}
	champion, challenger := byRole[RoleChampion], byRole[RoleShadow]
	if champion.Version != "1" || challenger.Version != "2" {
		t.Fatalf("versions: champion %q, shadow %q", champion.Version, challenger.Version)
	}
	if !champion.Start.Equal(t0.Add(2 * window)) {
		t.Errorf("window starts %s, want the labels' window %s", champion.Start, t0.Add(2*window))
	}
	for _, w := range []Window{champion, challenger} {
		if w.Online.Labelled != labelled || w.Online.ROCAUC == nil || w.Online.F1 == nil || w.Online.LogLoss == nil {
			t.Errorf("%s window: labelled %d (want %d), auc %v f1 %v log loss %v", w.Role, w.Online.Labelled, labelled, w.Online.ROCAUC, w.Online.F1, w.Online.LogLoss)
		}
	}
	if c := champion.Online.Comparison; c == nil || c.Paired != labelled || c.ChampionVersion != "1" || c.ChallengerVersion != "2" {
		t.Errorf("comparison %+v, want versions 1 and 2 paired on %d records", c, labelled)
	}
	if counts[LabelInvalid] != 1 || counts["duplicate"] != 1 || counts["matched"] != labelled {
		t.Errorf("label counts %v, want one invalid, one duplicate and %d matched", counts, labelled)
	}

	second, _ := run()
	if len(second) != len(first) {
		t.Fatalf("after a restart %d windows, before %d", len(second), len(first))
	}
	for i := range first {
		a, b := first[i], second[i]
		if a.Role != b.Role || a.Version != b.Version || !a.Start.Equal(b.Start) || a.Online.Labelled != b.Online.Labelled || *a.Online.ROCAUC != *b.Online.ROCAUC {
			t.Errorf("window %d differs after a restart: %+v then %+v", i, *a.Online, *b.Online)
		}
	}
}
