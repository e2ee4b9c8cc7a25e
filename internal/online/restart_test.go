package online

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// restartStream is a realistic stream: two records a second scored by a
// champion and a shadow (v2, replaced by v3 at threeFrom seconds), labels
// 5 to 20 seconds later for most records, some sent twice, some records
// never labelled and some labels for records never scored. Events are in
// arrival order.
func restartStream(r *rand.Rand, records int, threeFrom float64) []event {
	type timed struct {
		sec float64
		e   event
	}
	var stream []timed
	for i := range records {
		sec := float64(i) / 2
		key := fmt.Sprintf("r%d", i)
		truth := r.IntN(2)
		classes := []string{"no", "yes"}
		score := func(skill float64) float64 {
			return min(1, max(0, 0.5+skill*(float64(truth)-0.5)+0.3*r.NormFloat64()))
		}
		predict := func(version, role string, skill float64) {
			s := score(skill)
			stream = append(stream, timed{sec, event{prediction: &Prediction{
				Key: key, Version: version, Role: role, Label: classes[int(s+0.5)], Score: s, At: at(sec),
			}}})
		}
		predict("v1", RoleChampion, 0.5)
		if sec < threeFrom {
			predict("v2", RoleShadow, 0.4)
		} else {
			predict("v3", RoleShadow, 0.7)
		}
		if r.IntN(20) == 0 {
			continue // never labelled
		}
		labelSec := sec + 5 + 15*r.Float64()
		l := label(key, classes[truth], labelSec)
		stream = append(stream, timed{labelSec, l})
		if r.IntN(15) == 0 {
			stream = append(stream, timed{labelSec, l}) // sent twice
		}
		if r.IntN(25) == 0 {
			stream = append(stream, timed{labelSec, label(fmt.Sprintf("stray%d", i), "yes", labelSec)})
		}
	}
	slices.SortStableFunc(stream, func(a, b timed) int {
		switch {
		case a.sec < b.sec:
			return -1
		case a.sec > b.sec:
			return 1
		}
		return 0
	})
	var events []event
	for _, t := range stream {
		events = append(events, t.e)
		if t.e.label != nil {
			events = append(events, flush(t.sec)) // the caller's watermark: the latest label time
		}
	}
	return events
}

// TestRestartReproducesLaterWindows runs a stream through one join, and,
// from a point in the middle, through a second one started as the doc
// describes: the first join's held predictions, then the labels from the
// start of the first window it had not closed, then the rest of the stream.
// From that window on, the reports are the same, comparison included (the
// shadow changed inside it, so the comparison started afresh there), except
// that in that first window the second join misses the stray labels from
// before it that expire in it.
func TestRestartReproducesLaterWindows(t *testing.T) {
	cfg := binaryConfig()
	cfg.Budget = 120 << 10 // about two minutes of the stream: evictions happen
	const threeFrom = 250
	events := restartStream(rand.New(rand.NewPCG(13, 14)), 1200, threeFrom)
	restartAt := slices.IndexFunc(events, func(e event) bool { return e.label != nil && e.label.At.After(at(threeFrom+30)) })

	original := mustJoin(t, cfg)
	before := run(original, events[:restartAt])
	openFrom := time.Unix(0, original.openFrom).UTC()
	var tail []event
	for n := original.oldest; n != nil; n = n.next {
		if !n.isLabel {
			tail = append(tail, heldPrediction(t, events[:restartAt], n.entry.key, original.versions.name(n.version)))
		}
	}
	after := run(original, events[restartAt:])
	if original.Stats().Evicted == 0 {
		t.Fatal("the scenario should evict: lower the budget")
	}
	if s := at(threeFrom); s.Before(openFrom) || !s.Before(openFrom.Add(cfg.Window)) {
		t.Fatalf("the scenario should switch shadows inside the first open window %v, not at %v", openFrom, s)
	}

	restarted := mustJoin(t, cfg)
	replay := slices.Clone(tail)
	for _, e := range events[:restartAt] {
		if e.label != nil && !e.label.At.Before(openFrom) {
			replay = append(replay, e, flush(e.label.At.Sub(t0).Seconds()))
		}
	}
	if got := run(restarted, replay); len(got) != 0 {
		t.Fatalf("the replay closed windows the first join had not: %v", got)
	}
	got := run(restarted, events[restartAt:])

	var want []WindowReport
	for _, r := range append(before, after...) {
		if !r.Start.Before(openFrom) {
			want = append(want, r)
		}
	}
	if len(want) < 10 {
		t.Fatalf("only %d reports to compare", len(want))
	}
	strays := strayLabels(events[:restartAt], openFrom.Add(-cfg.LabelWait), openFrom)
	if strays == 0 {
		t.Fatal("the scenario should have stray labels waiting across the restart")
	}
	for i := range want {
		if want[i].Start.Equal(openFrom) {
			want[i].Unmatched -= strays
		}
	}
	if !reflect.DeepEqual(got, want) {
		for i := range max(len(got), len(want)) {
			var g, w WindowReport
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("report %d after the restart:\n%s %+v\nwant\n%s %+v", i, summary(g), g.Comparison, summary(w), w.Comparison)
			}
		}
	}
	if want[0].Comparison == nil || want[len(want)-2].Comparison.Paired <= want[0].Comparison.Paired {
		t.Errorf("the comparison should grow across the compared windows")
	}
}

// strayLabels counts the labels in [from, to) of keys no event predicts.
func strayLabels(events []event, from, to time.Time) int64 {
	predicted := make(map[string]bool)
	for _, e := range events {
		if e.prediction != nil {
			predicted[e.prediction.Key] = true
		}
	}
	var n int64
	for _, e := range events {
		if l := e.label; l != nil && !predicted[l.Key] && !l.At.Before(from) && l.At.Before(to) {
			n++
		}
	}
	return n
}

// heldPrediction finds the last prediction of key and version in events.
func heldPrediction(t *testing.T, events []event, key, version string) event {
	t.Helper()
	for i := len(events) - 1; i >= 0; i-- {
		if p := events[i].prediction; p != nil && p.Key == key && p.Version == version {
			return events[i]
		}
	}
	t.Fatalf("no prediction of %s by %s", key, version)
	return event{}
}

func TestSameEventsSameReports(t *testing.T) {
	events := restartStream(rand.New(rand.NewPCG(15, 16)), 600, 100)
	cfg := binaryConfig()
	cfg.Budget = 60 << 10
	first, second := run(mustJoin(t, cfg), events), run(mustJoin(t, cfg), events)
	if len(first) == 0 || !reflect.DeepEqual(first, second) {
		t.Errorf("two runs of the same %d events gave %d and %d reports, not the same", len(events), len(first), len(second))
	}
}
