package train

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name        string
		mutate      func(*Config)
		errContains string // empty: valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"regression", func(c *Config) { c.Objective = SquaredError }, ""},
		{"smallest values", func(c *Config) {
			c.NumTrees, c.MaxDepth, c.MaxBins, c.MinSamplesLeaf, c.LearningRate = 1, 1, 2, 1, 1e-9
		}, ""},
		{"largest values", func(c *Config) {
			c.NumTrees, c.MaxDepth, c.MaxBins, c.LearningRate, c.L2 = 100_000, 20, 255, 1, 1e6
		}, ""},
		{"multiclass", func(c *Config) { c.Objective, c.NumClasses = MulticlassLogLoss, 3 }, ""},
		{"most classes", func(c *Config) { c.Objective, c.NumClasses = MulticlassLogLoss, 1000 }, ""},
		{"binary ignores NumClasses", func(c *Config) { c.NumClasses = -1 }, ""},
		{"multiclass of two classes", func(c *Config) { c.Objective, c.NumClasses = MulticlassLogLoss, 2 }, "NumClasses 2 not in [3, 1000] for multiclass_log_loss"},
		{"multiclass without NumClasses", func(c *Config) { c.Objective = MulticlassLogLoss }, "NumClasses 0 not in [3, 1000]"},
		{"too many classes", func(c *Config) { c.Objective, c.NumClasses = MulticlassLogLoss, 1001 }, "NumClasses 1001"},
		{"zero objective", func(c *Config) { c.Objective = 0 }, "unknown objective Objective(0)"},
		{"zero trees", func(c *Config) { c.NumTrees = 0 }, "NumTrees 0 not in [1, 100000]"},
		{"too many trees", func(c *Config) { c.NumTrees = 100_001 }, "NumTrees 100001"},
		{"zero depth", func(c *Config) { c.MaxDepth = 0 }, "MaxDepth 0 not in [1, 20]"},
		{"too deep", func(c *Config) { c.MaxDepth = 21 }, "MaxDepth 21"},
		{"zero learning rate", func(c *Config) { c.LearningRate = 0 }, "LearningRate 0 not in (0, 1]"},
		{"learning rate above one", func(c *Config) { c.LearningRate = 1.5 }, "LearningRate 1.5"},
		{"NaN learning rate", func(c *Config) { c.LearningRate = math.NaN() }, "LearningRate NaN"},
		{"one bin", func(c *Config) { c.MaxBins = 1 }, "MaxBins 1 not in [2, 255]"},
		{"bins beyond a byte", func(c *Config) { c.MaxBins = 256 }, "MaxBins 256"},
		{"zero samples per leaf", func(c *Config) { c.MinSamplesLeaf = 0 }, "MinSamplesLeaf 0 must be at least 1"},
		{"negative L2", func(c *Config) { c.L2 = -1 }, "L2 -1 must be finite and >= 0"},
		{"infinite L2", func(c *Config) { c.L2 = math.Inf(1) }, "L2 +Inf"},
		{"NaN L2", func(c *Config) { c.L2 = math.NaN() }, "L2 NaN"},
		{"negative workers", func(c *Config) { c.Workers = -1 }, "Workers -1 must be >= 0"},
		{"one worker", func(c *Config) { c.Workers = 1 }, ""},
		{"every problem is reported", func(c *Config) { c.NumTrees, c.MaxDepth = 0, 0 }, "NumTrees 0 not in [1, 100000]\n" + ErrInvalidConfig.Error() + ": MaxDepth 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.mutate(&cfg)
			checkValidateError(t, cfg.Validate(), tt.errContains)
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	want := Config{Objective: BinaryLogLoss, NumTrees: 100, MaxDepth: 6, LearningRate: 0.1, MaxBins: 255, MinSamplesLeaf: 20}
	if got := DefaultConfig(); !reflect.DeepEqual(got, want) {
		t.Errorf("DefaultConfig() = %+v, want %+v", got, want)
	}
}

// checkValidateError checks what a config's Validate returned: nil when
// errContains is empty, else an ErrInvalidConfig containing it.
func checkValidateError(t *testing.T, err error, errContains string) {
	t.Helper()
	if errContains == "" {
		if err != nil {
			t.Fatalf("Validate: %v", err)
		}
		return
	}
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Validate = %v, want an error wrapping ErrInvalidConfig", err)
	}
	if !strings.Contains(err.Error(), errContains) {
		t.Errorf("error %q does not contain %q", err, errContains)
	}
}
