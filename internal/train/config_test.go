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
			c.MaxIter, c.MaxDepth, c.MaxLeafNodes, c.MaxBins, c.MinSamplesLeaf, c.LearningRate = 1, 1, 2, 2, 1, 1e-9
			c.ValidationFraction, c.NIterNoChange, c.Tol = 1e-9, 1, 0
		}, ""},
		{"largest values", func(c *Config) {
			c.MaxIter, c.MaxDepth, c.MaxBins, c.LearningRate, c.L2Regularization = 100_000, 64, 255, 1, 1e6
			c.ValidationFraction, c.Tol = 1-1e-9, 1e6
		}, ""},
		{"multiclass", func(c *Config) { c.Objective, c.NumClasses = MulticlassLogLoss, 3 }, ""},
		{"most classes", func(c *Config) { c.Objective, c.NumClasses = MulticlassLogLoss, 1000 }, ""},
		{"binary ignores NumClasses", func(c *Config) { c.NumClasses = -1 }, ""},
		{"multiclass of two classes", func(c *Config) { c.Objective, c.NumClasses = MulticlassLogLoss, 2 }, "NumClasses 2 not in [3, 1000] for multiclass_log_loss"},
		{"multiclass without NumClasses", func(c *Config) { c.Objective = MulticlassLogLoss }, "NumClasses 0 not in [3, 1000]"},
		{"too many classes", func(c *Config) { c.Objective, c.NumClasses = MulticlassLogLoss, 1001 }, "NumClasses 1001"},
		{"zero objective", func(c *Config) { c.Objective = 0 }, "unknown objective Objective(0)"},
		{"unlimited depth and leaves", func(c *Config) { c.MaxDepth, c.MaxLeafNodes = 0, 0 }, ""},
		{"zero iterations", func(c *Config) { c.MaxIter = 0 }, "MaxIter 0 not in [1, 100000]"},
		{"too many iterations", func(c *Config) { c.MaxIter = 100_001 }, "MaxIter 100001"},
		{"negative depth", func(c *Config) { c.MaxDepth = -1 }, "MaxDepth -1 not in [1, 64], or 0 for no limit"},
		{"too deep", func(c *Config) { c.MaxDepth = 65 }, "MaxDepth 65"},
		{"one leaf", func(c *Config) { c.MaxLeafNodes = 1 }, "MaxLeafNodes 1 must be at least 2, or 0 for no limit"},
		{"early stopping on", func(c *Config) { c.EarlyStopping = EarlyStoppingOn }, ""},
		{"early stopping off", func(c *Config) { c.EarlyStopping = EarlyStoppingOff }, ""},
		{"unknown early stopping", func(c *Config) { c.EarlyStopping = 7 }, "unknown EarlyStopping EarlyStopping(7)"},
		{"no validation rows", func(c *Config) { c.ValidationFraction = 0 }, "ValidationFraction 0 not in (0, 1)"},
		{"every row for validation", func(c *Config) { c.ValidationFraction = 1 }, "ValidationFraction 1 not in (0, 1)"},
		{"zero rounds without change", func(c *Config) { c.NIterNoChange = 0 }, "NIterNoChange 0 must be at least 1"},
		{"negative tol", func(c *Config) { c.Tol = -1 }, "Tol -1 must be finite and >= 0"},
		{"balanced classes", func(c *Config) { c.ClassWeight.Balanced = true }, ""},
		{"class weights", func(c *Config) { c.ClassWeight.Weights = []float64{1, 9} }, ""},
		{"class weights of a regressor", func(c *Config) { c.Objective, c.ClassWeight.Balanced = SquaredError, true }, "ClassWeight is for classifiers"},
		{"balanced and per class", func(c *Config) { c.ClassWeight = ClassWeight{Balanced: true, Weights: []float64{1, 2}} }, "balanced or per class, not both"},
		{"weights of too few classes", func(c *Config) {
			c.Objective, c.NumClasses, c.ClassWeight.Weights = MulticlassLogLoss, 3, []float64{1, 2}
		}, "2 weights for 3 classes"},
		{"negative class weight", func(c *Config) { c.ClassWeight.Weights = []float64{1, -2} }, "class 1 is -2"},
		{"zero learning rate", func(c *Config) { c.LearningRate = 0 }, "LearningRate 0 not in (0, 1]"},
		{"learning rate above one", func(c *Config) { c.LearningRate = 1.5 }, "LearningRate 1.5"},
		{"NaN learning rate", func(c *Config) { c.LearningRate = math.NaN() }, "LearningRate NaN"},
		{"one bin", func(c *Config) { c.MaxBins = 1 }, "MaxBins 1 not in [2, 255]"},
		{"bins beyond a byte", func(c *Config) { c.MaxBins = 256 }, "MaxBins 256"},
		{"zero samples per leaf", func(c *Config) { c.MinSamplesLeaf = 0 }, "MinSamplesLeaf 0 must be at least 1"},
		{"negative L2", func(c *Config) { c.L2Regularization = -1 }, "L2Regularization -1 must be finite and >= 0"},
		{"infinite L2", func(c *Config) { c.L2Regularization = math.Inf(1) }, "L2Regularization +Inf"},
		{"NaN L2", func(c *Config) { c.L2Regularization = math.NaN() }, "L2Regularization NaN"},
		{"negative workers", func(c *Config) { c.Workers = -1 }, "Workers -1 must be >= 0"},
		{"one worker", func(c *Config) { c.Workers = 1 }, ""},
		{"every problem is reported", func(c *Config) { c.MaxIter, c.MaxDepth = 0, -1 }, "MaxIter 0 not in [1, 100000]\n" + ErrInvalidConfig.Error() + ": MaxDepth -1"},
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
	want := Config{
		Objective: BinaryLogLoss, MaxIter: 100, LearningRate: 0.1, MaxLeafNodes: 31, MaxDepth: 0, MinSamplesLeaf: 20,
		MaxBins: 255, EarlyStopping: EarlyStoppingAuto, ValidationFraction: 0.1, NIterNoChange: 10, Tol: 1e-7,
	}
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
