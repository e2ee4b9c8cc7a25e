package online

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name        string
		cfg         Config
		errContains string // empty: valid
	}{
		{"binary with defaults", Config{Task: TaskClassification, Labels: []string{"no", "yes"}}, ""},
		{"regression with defaults", Config{Task: TaskRegression}, ""},
		{"no task", Config{}, `task ""`},
		{"unknown task", Config{Task: "ranking"}, `task "ranking"`},
		{"classifier with one label", Config{Task: TaskClassification, Labels: []string{"yes"}}, "at least two labels"},
		{"repeated label", Config{Task: TaskClassification, Labels: []string{"a", "b", "a"}}, `label "a" appears twice`},
		{"negative window", Config{Task: TaskRegression, Window: -time.Second}, "window"},
		{"negative budget", Config{Task: TaskRegression, Budget: -1}, "budget"},
		{"negative label wait", Config{Task: TaskRegression, LabelWait: -time.Second}, "label wait"},
		{"negative pair cap", Config{Task: TaskRegression, PairCap: -1}, "pair cap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.errContains == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.errContains != "" && (!errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.errContains)):
				t.Errorf("Validate() = %v, want ErrConfig containing %q", err, tt.errContains)
			}
		})
	}
}

func TestNewJoinAppliesDefaults(t *testing.T) {
	j := mustJoin(t, Config{Task: TaskRegression})
	if j.cfg.Window != DefaultWindow || j.cfg.Budget != DefaultBudget || j.cfg.PairCap != DefaultPairCap || j.cfg.LabelWait != 0 {
		t.Errorf("config after defaults = %+v", j.cfg)
	}
}

func TestNewJoinRefusesInvalidConfig(t *testing.T) {
	j, err := NewJoin(Config{Task: TaskClassification})
	if j != nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "at least two labels") {
		t.Errorf("NewJoin = %v, %v; want ErrConfig naming the problem", j, err)
	}
}

// mustJoin is NewJoin for a configuration the test knows is valid.
func mustJoin(tb testing.TB, cfg Config) *Join {
	tb.Helper()
	j, err := NewJoin(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return j
}
