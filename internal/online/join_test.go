package online

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// t0 is a minute boundary, so that test times read as seconds into windows.
var t0 = time.Unix(1_700_000_040, 0).UTC()

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

// event is one call on a Join.
type event struct {
	prediction *Prediction
	label      *Label
	flush      *time.Time
}

func champion(key, version, class string, score, sec float64) event {
	return event{prediction: &Prediction{Key: key, Version: version, Role: RoleChampion, Label: class, Score: score, At: at(sec)}}
}

func shadow(key, version, class string, score, sec float64) event {
	return event{prediction: &Prediction{Key: key, Version: version, Role: RoleShadow, Label: class, Score: score, At: at(sec)}}
}

func label(key, class string, sec float64) event {
	return event{label: &Label{Key: key, Class: class, At: at(sec)}}
}

func flush(sec float64) event {
	w := at(sec)
	return event{flush: &w}
}

func (e event) apply(j *Join) []WindowReport {
	switch {
	case e.prediction != nil:
		j.AddPrediction(*e.prediction)
	case e.label != nil:
		j.AddLabel(*e.label)
	default:
		return j.Flush(*e.flush)
	}
	return nil
}

func run(j *Join, events []event) []WindowReport {
	var reports []WindowReport
	for _, e := range events {
		reports = append(reports, e.apply(j)...)
	}
	return reports
}

// summary is a report in one line: version/role, the window in seconds from
// t0, the labelled count, the label counts, F1 and the comparison.
func summary(r WindowReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s %v-%v n=%d unmatched=%d late=%d dup=%d",
		r.Version, r.Role, r.Start.Sub(t0).Seconds(), r.End.Sub(t0).Seconds(), r.Labelled, r.Unmatched, r.Late, r.Duplicate)
	if r.F1 != nil {
		fmt.Fprintf(&b, " f1=%.3g", *r.F1)
	}
	if c := r.Comparison; c != nil {
		fmt.Fprintf(&b, " cmp=%s:%s paired=%d auc=%.3g:%.3g", c.ChampionVersion, c.ChallengerVersion, c.Paired, c.Champion, c.Challenger)
	}
	return b.String()
}

func binaryConfig() Config {
	return Config{Task: TaskClassification, Labels: []string{"no", "yes"}, Window: time.Minute, Budget: 1 << 20, LabelWait: 30 * time.Second}
}

// counters is Stats without the gauges.
func counters(s Stats) Stats {
	s.HeldBytes, s.HeldPredictions, s.HeldLabels, s.WaitingLabels = 0, 0, 0, 0
	return s
}

func TestJoinKeyByKey(t *testing.T) {
	fourPaired := func(challenger string, base float64) []event {
		// Champion and challenger both rank k1, k2 (yes) above k3, k4
		// (no), except that the champion ties k2 with k3.
		return []event{
			champion("k1", "v1", "yes", 0.9, base), shadow("k1", challenger, "yes", 0.8, base),
			champion("k2", "v1", "no", 0.4, base), shadow("k2", challenger, "yes", 0.7, base),
			champion("k3", "v1", "no", 0.4, base), shadow("k3", challenger, "no", 0.3, base),
			champion("k4", "v1", "no", 0.1, base), shadow("k4", challenger, "no", 0.2, base),
			label("k1", "yes", base+1), label("k2", "yes", base+1), label("k3", "no", base+1), label("k4", "no", base+1),
		}
	}
	tests := []struct {
		name   string
		budget int64
		events []event
		want   []string
		stats  Stats
	}{
		{
			name:   "label after its prediction",
			events: []event{champion("k1", "v1", "yes", 0.9, 10), label("k1", "yes", 20), flush(60)},
			want:   []string{"v1/champion 0-60 n=1 unmatched=0 late=0 dup=0 f1=1"},
			stats:  Stats{Matched: 1, MatchedLabels: 1},
		},
		{
			name:   "label before its prediction, within the wait",
			events: []event{label("k1", "yes", 20), champion("k1", "v1", "yes", 0.9, 25), flush(60)},
			want:   []string{"v1/champion 0-60 n=1 unmatched=0 late=0 dup=0 f1=1"},
			stats:  Stats{Matched: 1, MatchedLabels: 1},
		},
		{
			name: "a pair belongs to the window of its later time",
			events: []event{
				label("k1", "yes", 50), champion("k1", "v1", "yes", 0.9, 70), // label first: pair at 70
				champion("k2", "v1", "no", 0.1, 55), label("k2", "no", 58), // pair at 58
				flush(60), flush(120),
			},
			want: []string{
				"v1/champion 0-60 n=1 unmatched=0 late=0 dup=0 f1=0",
				"v1/champion 60-120 n=1 unmatched=0 late=0 dup=0 f1=1",
			},
			stats: Stats{Matched: 2, MatchedLabels: 2},
		},
		{
			name: "a label waits no longer than LabelWait, then is unmatched in the window of its deadline",
			events: []event{
				champion("k0", "v1", "yes", 0.9, 1),
				label("k1", "yes", 20), label("k2", "yes", 50), // the clock reaches k1's deadline, 50
				champion("k1", "v1", "yes", 0.9, 21), // too late: k1 has expired
				flush(60), flush(120),
			},
			want: []string{
				"v1/champion 0-60 n=0 unmatched=1 late=0 dup=0",   // k1, deadline 50
				"v1/champion 60-120 n=0 unmatched=1 late=0 dup=0", // k2, deadline 80
			},
			stats: Stats{Unmatched: 2},
		},
		{
			name: "a label never matched",
			events: []event{
				label("k9", "no", 10), flush(100),
			},
			want:  []string{"/ 0-60 n=0 unmatched=1 late=0 dup=0"},
			stats: Stats{Unmatched: 1},
		},
		{
			name: "the first label wins, the second is a duplicate",
			events: []event{
				champion("k1", "v1", "yes", 0.9, 10), label("k1", "yes", 20), label("k1", "no", 30), flush(60),
			},
			want:  []string{"v1/champion 0-60 n=1 unmatched=0 late=0 dup=1 f1=1"},
			stats: Stats{Matched: 1, MatchedLabels: 1, Duplicate: 1},
		},
		{
			name: "a duplicate of a waiting label",
			events: []event{
				label("k1", "yes", 20), label("k1", "no", 21), champion("k1", "v1", "yes", 0.9, 22), flush(60),
			},
			want:  []string{"v1/champion 0-60 n=1 unmatched=0 late=0 dup=1 f1=1"},
			stats: Stats{Matched: 1, MatchedLabels: 1, Duplicate: 1},
		},
		{
			name: "a prediction scored again replaces the first",
			events: []event{
				champion("k1", "v1", "no", 0.2, 10), champion("k1", "v1", "yes", 0.9, 12), label("k1", "yes", 20), flush(60),
			},
			want:  []string{"v1/champion 0-60 n=1 unmatched=0 late=0 dup=0 f1=1"},
			stats: Stats{Matched: 1, MatchedLabels: 1, Replaced: 1},
		},
		{
			name: "a prediction scored again after its match is not counted twice",
			events: []event{
				champion("k1", "v1", "yes", 0.9, 10), label("k1", "yes", 20), champion("k1", "v1", "yes", 0.9, 25), flush(60),
			},
			want:  []string{"v1/champion 0-60 n=1 unmatched=0 late=0 dup=0 f1=1"},
			stats: Stats{Matched: 1, MatchedLabels: 1, Replaced: 1},
		},
		{
			name:   "a label older than an evicted prediction is late",
			budget: 2 * predictionBytes("kN"),
			events: []event{
				champion("k1", "v1", "yes", 0.9, 10), champion("k2", "v1", "yes", 0.9, 11), champion("k3", "v1", "yes", 0.9, 12),
				label("k1", "yes", 10), // k1 was evicted for k3, and the label is no newer than it
				label("k2", "yes", 11), flush(60),
			},
			want:  []string{"v1/champion 0-60 n=1 unmatched=0 late=1 dup=0 f1=1"},
			stats: Stats{Matched: 1, MatchedLabels: 1, Late: 1, Evicted: 2}, // k1, then k2 for the label held with it
		},
		{
			name:   "a label newer than every evicted prediction waits, then is unmatched",
			budget: 2 * predictionBytes("kN"),
			events: []event{
				champion("k1", "v1", "yes", 0.9, 10), champion("k2", "v1", "yes", 0.9, 11), champion("k3", "v1", "yes", 0.9, 12),
				label("k1", "yes", 13), flush(60),
			},
			want:  []string{"v1/champion 0-60 n=0 unmatched=1 late=0 dup=0"},
			stats: Stats{Unmatched: 1, Evicted: 2}, // k1 for k3, then k2 to make room for the waiting label
		},
		{
			name: "a class outside the model's labels is invalid",
			events: []event{
				champion("k1", "v1", "yes", 0.9, 10), label("k1", "maybe", 20), label("k1", "yes", 21), flush(60),
			},
			want:  []string{"v1/champion 0-60 n=1 unmatched=0 late=0 dup=0 f1=1"},
			stats: Stats{Matched: 1, MatchedLabels: 1, Invalid: 1},
		},
		{
			name: "a label for a closed window counts in the earliest open one",
			events: []event{
				champion("k1", "v1", "yes", 0.9, 10), champion("k2", "v1", "yes", 0.9, 11),
				label("k1", "yes", 70), flush(70), label("k2", "yes", 30), flush(120),
			},
			want: []string{
				"v1/champion 60-120 n=2 unmatched=0 late=0 dup=0 f1=1",
			},
			stats: Stats{Matched: 2, MatchedLabels: 2, AfterClose: 1},
		},
		{
			name:   "champion and shadow are paired and compared on the champion's report",
			events: append(fourPaired("v2", 10), flush(60)),
			want: []string{
				"v1/champion 0-60 n=4 unmatched=0 late=0 dup=0 f1=0.667 cmp=v1:v2 paired=4 auc=0.875:1",
				"v2/shadow 0-60 n=4 unmatched=0 late=0 dup=0 f1=1",
			},
			stats: Stats{Matched: 8, MatchedLabels: 4},
		},
		{
			name: "a shadow prediction arriving after the label still pairs",
			events: []event{
				champion("k1", "v1", "yes", 0.9, 10), champion("k2", "v1", "no", 0.4, 10), champion("k3", "v1", "no", 0.4, 10), champion("k4", "v1", "no", 0.1, 10),
				label("k1", "yes", 11), label("k2", "yes", 11), label("k3", "no", 11), label("k4", "no", 11),
				shadow("k1", "v2", "yes", 0.8, 10), shadow("k2", "v2", "yes", 0.7, 10), shadow("k3", "v2", "no", 0.3, 10), shadow("k4", "v2", "no", 0.2, 10),
				flush(60),
			},
			want: []string{
				"v1/champion 0-60 n=4 unmatched=0 late=0 dup=0 f1=0.667 cmp=v1:v2 paired=4 auc=0.875:1",
				"v2/shadow 0-60 n=4 unmatched=0 late=0 dup=0 f1=1",
			},
			stats: Stats{Matched: 8, MatchedLabels: 4},
		},
		{
			name:   "the comparison is cumulative across windows",
			events: append(append(fourPaired("v2", 10), flush(60)), append(renamed(fourPaired("v2", 70), "b"), flush(120))...),
			want: []string{
				"v1/champion 0-60 n=4 unmatched=0 late=0 dup=0 f1=0.667 cmp=v1:v2 paired=4 auc=0.875:1",
				"v2/shadow 0-60 n=4 unmatched=0 late=0 dup=0 f1=1",
				"v1/champion 60-120 n=4 unmatched=0 late=0 dup=0 f1=0.667 cmp=v1:v2 paired=8 auc=0.875:1",
				"v2/shadow 60-120 n=4 unmatched=0 late=0 dup=0 f1=1",
			},
			stats: Stats{Matched: 16, MatchedLabels: 8},
		},
		{
			name:   "a new shadow version restarts the comparison",
			events: append(append(fourPaired("v2", 10), flush(60)), append(renamed(fourPaired("v3", 70), "b"), flush(120))...),
			want: []string{
				"v1/champion 0-60 n=4 unmatched=0 late=0 dup=0 f1=0.667 cmp=v1:v2 paired=4 auc=0.875:1",
				"v2/shadow 0-60 n=4 unmatched=0 late=0 dup=0 f1=1",
				"v1/champion 60-120 n=4 unmatched=0 late=0 dup=0 f1=0.667 cmp=v1:v3 paired=4 auc=0.875:1",
				"v3/shadow 60-120 n=4 unmatched=0 late=0 dup=0 f1=1",
			},
			stats: Stats{Matched: 16, MatchedLabels: 8},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := binaryConfig()
			if tt.budget > 0 {
				cfg.Budget = tt.budget
			}
			j := mustJoin(t, cfg)
			var got []string
			for _, r := range run(j, tt.events) {
				got = append(got, summary(r))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("reports:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if s := counters(j.Stats()); s != tt.stats {
				t.Errorf("stats = %+v, want %+v", s, tt.stats)
			}
		})
	}
}

// renamed prefixes every key of events, so that a second batch of them is
// new records.
func renamed(events []event, prefix string) []event {
	out := make([]event, len(events))
	for i, e := range events {
		switch {
		case e.prediction != nil:
			p := *e.prediction
			p.Key = prefix + p.Key
			e.prediction = &p
		case e.label != nil:
			l := *e.label
			l.Key = prefix + l.Key
			e.label = &l
		}
		out[i] = e
	}
	return out
}

// predictionBytes is what one prediction of a new key costs the budget.
func predictionBytes(key string) int64 {
	return heldBytes(&held{}) + entryBytes(key)
}
