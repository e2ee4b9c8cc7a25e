package jobs

import (
	"testing"
	"time"
)

// TestDriftWatchRuns feeds drift windows of a champion to the on_drift
// rule (psi 0.2 for 3 minutes) and checks after which window it is due.
func TestDriftWatchRuns(t *testing.T) {
	base := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	psi := func(x float64) *float64 { return &x }
	// win is the window of minute i, with temperature's and the
	// prediction's PSI (nil: no reference).
	win := func(i int, temperature, prediction *float64) monitorWindow {
		start := base.Add(time.Duration(i) * time.Minute)
		return monitorWindow{kind: windowDrift, model: "m", version: "1", role: roleChampion, start: start, end: start.Add(time.Minute), records: 1000,
			features: []featurePSI{{name: "temperature", psi: temperature}, {name: "humidity", psi: psi(0.01)}}, predictionPSI: prediction}
	}
	high, low := psi(0.5), psi(0.05)
	off := false
	tests := []struct {
		name    string
		rule    OnDrift
		windows []monitorWindow
		due     int // index of the window after which it is due; -1: never
	}{
		{"three high minutes", OnDrift{}, []monitorWindow{win(0, high, nil), win(1, high, nil), win(2, high, nil)}, 2},
		{"two are not enough", OnDrift{}, []monitorWindow{win(0, high, nil), win(1, high, nil)}, -1},
		{"a low window resets", OnDrift{}, []monitorWindow{win(0, high, nil), win(1, high, nil), win(2, low, nil), win(3, high, nil), win(4, high, nil), win(5, high, nil)}, 5},
		{"at the threshold is not above", OnDrift{}, []monitorWindow{win(0, high, nil), win(1, psi(0.2), nil), win(2, high, nil), win(3, high, nil)}, -1},
		{"a gap resets", OnDrift{}, []monitorWindow{win(0, high, nil), win(1, high, nil), win(3, high, nil), win(4, high, nil)}, -1},
		{"no reference resets", OnDrift{}, []monitorWindow{win(0, high, nil), win(1, nil, nil), win(2, high, nil), win(3, high, nil)}, -1},
		{"the prediction counts", OnDrift{}, []monitorWindow{win(0, low, high), win(1, low, high), win(2, low, high)}, 2},
		{"unless prediction is off", OnDrift{Prediction: &off}, []monitorWindow{win(0, low, high), win(1, low, high), win(2, low, high)}, -1},
		{"an unwatched feature does not count", OnDrift{Features: []string{"humidity"}, Prediction: &off},
			[]monitorWindow{win(0, high, nil), win(1, high, nil), win(2, high, nil)}, -1},
		{"a longer window covers for alone", OnDrift{}, []monitorWindow{{kind: windowDrift, model: "m", version: "1", role: roleChampion,
			start: base, end: base.Add(5 * time.Minute), records: 1000, features: []featurePSI{{name: "temperature", psi: high}}}}, 0},
		{"a window of few rows resets", OnDrift{}, []monitorWindow{win(0, high, nil), func() monitorWindow { w := win(1, high, nil); w.records = 499; return w }(),
			win(2, high, nil), win(3, high, nil)}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.rule.PSI, tt.rule.For = 0.2, 3*time.Minute
			d := newDriftWatch(tt.rule)
			due := -1
			for i, w := range tt.windows {
				if d.observe(w, time.Time{}, base).due && due < 0 {
					due = i
				}
			}
			if due != tt.due {
				t.Errorf("due after window %d, want %d", due, tt.due)
			}
		})
	}
}

// TestDriftWatchAfterATrigger checks the rule against a retrain storm:
// after it is due, windows count only once the training it asked for has
// begun, only from that moment, and must cover for again.
func TestDriftWatchAfterATrigger(t *testing.T) {
	base := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	high := 0.5
	win := func(i int) monitorWindow {
		start := base.Add(time.Duration(i) * time.Minute)
		return monitorWindow{kind: windowDrift, model: "m", version: "1", role: roleChampion, start: start, end: start.Add(time.Minute), records: 1000,
			features: []featurePSI{{name: "temperature", psi: &high}}}
	}
	d := newDriftWatch(OnDrift{PSI: 0.2, For: 3 * time.Minute})
	triggeredAt := base.Add(3 * time.Minute)
	for i := range 3 {
		if due := d.observe(win(i), time.Time{}, triggeredAt).due; due != (i == 2) {
			t.Fatalf("window %d: due %v", i, due)
		}
	}
	// Until the training asked for begins (one that began earlier still
	// runs), windows do not count: four high minutes later, not due.
	for i := 3; i <= 6; i++ {
		if d.observe(win(i), base, base.Add(time.Hour)).due {
			t.Fatalf("window %d counted before the training began", i)
		}
	}
	// It begins 30 s into minute 7: window 7 counts from then, windows 7
	// to 9 cover 2.5 minutes, and window 10 completes the 3.
	began := base.Add(7*time.Minute + 30*time.Second)
	for i := 7; i <= 10; i++ {
		if due := d.observe(win(i), began, base.Add(time.Hour)).due; due != (i == 10) {
			t.Fatalf("window %d after the training began: due %v, want %v", i, due, i == 10)
		}
	}
}
