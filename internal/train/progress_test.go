package train

import (
	"context"
	"reflect"
	"testing"
)

// progressLog records the calls of a progress hook.
type progressLog struct {
	done, total []int
}

func (l *progressLog) record(done, total int) {
	l.done = append(l.done, done)
	l.total = append(l.total, total)
}

// check verifies that the hook was called with done = 1, 2, ..., want and
// the same total every time.
func (l *progressLog) check(t *testing.T, want, total int) {
	t.Helper()
	if len(l.done) != want {
		t.Fatalf("progress called %d times (%v), want %d", len(l.done), l.done, want)
	}
	for i, d := range l.done {
		if d != i+1 || l.total[i] != total {
			t.Fatalf("call %d: progress(%d, %d), want (%d, %d)", i, d, l.total[i], i+1, total)
		}
	}
}

func TestFitReportsProgressEveryRound(t *testing.T) {
	tests := []struct {
		obj      Objective
		numTrees int
	}{
		{BinaryLogLoss, 7},
		{SquaredError, 1},
		{MulticlassLogLoss, 4},
	}
	for _, tt := range tests {
		t.Run(tt.obj.String(), func(t *testing.T) {
			var log progressLog
			cfg := configFor(tt.obj, tt.numTrees)
			cfg.Progress = log.record
			fitForTest(t, cfg, syntheticData(t, tt.obj, 1000, 41))
			log.check(t, tt.numTrees, tt.numTrees)
		})
	}
}

// TestProgressDoesNotChangeTheFit checks that a hook only observes.
func TestProgressDoesNotChangeTheFit(t *testing.T) {
	data := syntheticData(t, BinaryLogLoss, 1000, 42)
	cfg := configFor(BinaryLogLoss, 5)
	plain := fitForTest(t, cfg, data)
	cfg.Progress = func(int, int) {}
	hooked := fitForTest(t, cfg, data)
	if !reflect.DeepEqual(plain.Trees, hooked.Trees) {
		t.Error("a fit with a progress hook differs from one without")
	}
}

func TestFitTextReportsProgressEveryIteration(t *testing.T) {
	tests := []struct {
		name          string
		maxIterations int
		wantConverged bool
	}{
		{"iteration limit", 3, false},
		{"converged", 1000, true},
	}
	texts, labels := syntheticTexts(500, 43)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log progressLog
			cfg := DefaultTextConfig()
			cfg.MaxIterations = tt.maxIterations
			cfg.Progress = log.record
			m, err := FitText(context.Background(), cfg, texts, labels)
			if err != nil {
				t.Fatal(err)
			}
			if m.Stats().Converged != tt.wantConverged {
				t.Fatalf("Stats() = %+v, want Converged %v", m.Stats(), tt.wantConverged)
			}
			log.check(t, m.Stats().Iterations, tt.maxIterations)
		})
	}
}

func TestProgressIsNotValidated(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Progress = func(int, int) {}
	textCfg := DefaultTextConfig()
	textCfg.Progress = func(int, int) {}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Config.Validate with a hook: %v", err)
	}
	if err := textCfg.Validate(); err != nil {
		t.Errorf("TextConfig.Validate with a hook: %v", err)
	}
}
