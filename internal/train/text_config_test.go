package train

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestTextConfigValidate(t *testing.T) {
	tests := []struct {
		name        string
		mutate      func(*TextConfig)
		errContains string // empty: valid
	}{
		{"defaults", func(*TextConfig) {}, ""},
		{"smallest values", func(c *TextConfig) {
			c.MinNGram, c.MaxNGram, c.MinTokenChars, c.MinDF, c.MaxFeatures, c.MaxIterations = 1, 1, 1, 1, 1, 1
			c.C, c.Tolerance = 1e-9, 1e-12
		}, ""},
		{"largest values", func(c *TextConfig) {
			c.MinNGram, c.MaxNGram, c.MinTokenChars, c.MaxFeatures, c.MaxIterations = 5, 5, 1000, MaxTextVocabulary, 100_000
			c.C, c.MinDF = 1e9, 1_000_000
		}, ""},
		{"raw counts, no normalisation", func(c *TextConfig) { c.SublinearTF, c.L2Normalize = false, false }, ""},
		{"ASCII lowercase", func(c *TextConfig) { c.Lowercase = LowercaseASCII }, ""},
		{"zero lowercase mode", func(c *TextConfig) { c.Lowercase = 0 }, "unknown lowercase mode Lowercase(0)"},
		{"unknown lowercase mode", func(c *TextConfig) { c.Lowercase = 3 }, "unknown lowercase mode Lowercase(3)"},
		{"character n-grams", func(c *TextConfig) { c.Analyzer, c.CharMinNGram, c.CharMaxNGram = AnalyzerChar, 2, 10 }, ""},
		{"word and character n-grams", func(c *TextConfig) { c.Analyzer = AnalyzerWordChar }, ""},
		{"unknown analyzer", func(c *TextConfig) { c.Analyzer = 3 }, "unknown analyzer Analyzer(3)"},
		{"character 1-grams", func(c *TextConfig) { c.Analyzer, c.CharMinNGram = AnalyzerChar, 1 }, "CharMinNGram 1 not in [2, 10]"},
		{"character max below min", func(c *TextConfig) { c.Analyzer, c.CharMinNGram, c.CharMaxNGram = AnalyzerWordChar, 4, 3 }, "CharMaxNGram 3 not in [CharMinNGram, 10]"},
		{"character n-grams too long", func(c *TextConfig) { c.Analyzer, c.CharMaxNGram = AnalyzerChar, 11 }, "CharMaxNGram 11"},
		{"character lengths unchecked for words", func(c *TextConfig) { c.CharMinNGram, c.CharMaxNGram = 0, 0 }, ""},
		{"zero min n-gram", func(c *TextConfig) { c.MinNGram = 0 }, "MinNGram 0 not in [1, 5]"},
		{"max n-gram below min", func(c *TextConfig) { c.MinNGram, c.MaxNGram = 2, 1 }, "MaxNGram 1 not in [MinNGram, 5]"},
		{"n-grams too long", func(c *TextConfig) { c.MaxNGram = 6 }, "MaxNGram 6"},
		{"zero token chars", func(c *TextConfig) { c.MinTokenChars = 0 }, "MinTokenChars 0 not in [1, 1000]"},
		{"too many token chars", func(c *TextConfig) { c.MinTokenChars = 1001 }, "MinTokenChars 1001"},
		{"zero min df", func(c *TextConfig) { c.MinDF = 0 }, "MinDF 0 must be at least 1"},
		{"no feature cap", func(c *TextConfig) { c.MaxFeatures = 0 }, ""},
		{"negative features", func(c *TextConfig) { c.MaxFeatures = -1 }, "MaxFeatures -1 not in [0 (no cap), 2000000]"},
		{"too many features", func(c *TextConfig) { c.MaxFeatures = MaxTextVocabulary + 1 }, "MaxFeatures 2000001"},
		{"zero C", func(c *TextConfig) { c.C = 0 }, "C 0 must be finite and > 0"},
		{"negative C", func(c *TextConfig) { c.C = -1 }, "C -1"},
		{"infinite C", func(c *TextConfig) { c.C = math.Inf(1) }, "C +Inf"},
		{"NaN C", func(c *TextConfig) { c.C = math.NaN() }, "C NaN"},
		{"zero iterations", func(c *TextConfig) { c.MaxIterations = 0 }, "MaxIterations 0 not in [1, 100000]"},
		{"too many iterations", func(c *TextConfig) { c.MaxIterations = 100_001 }, "MaxIterations 100001"},
		{"zero tolerance", func(c *TextConfig) { c.Tolerance = 0 }, "Tolerance 0 must be finite and > 0"},
		{"NaN tolerance", func(c *TextConfig) { c.Tolerance = math.NaN() }, "Tolerance NaN"},
		{"every problem is reported", func(c *TextConfig) { c.MinDF, c.C = 0, 0 },
			"MinDF 0 must be at least 1\n" + ErrInvalidConfig.Error() + ": C 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultTextConfig()
			tt.mutate(&cfg)
			checkValidateError(t, cfg.Validate(), tt.errContains)
		})
	}
}

// TestDefaultTextConfig checks the defaults field by field: scikit-learn's
// (TestDefaultParamsAreScikitLearns in internal/fit compares them with
// get_params()), and character n-grams of 2 to 4 code points.
func TestDefaultTextConfig(t *testing.T) {
	want := TextConfig{
		Lowercase: LowercaseUnicode, Analyzer: AnalyzerWord, MinNGram: 1, MaxNGram: 1, MinTokenChars: 2,
		CharMinNGram: 2, CharMaxNGram: 4, MinDF: 1, MaxFeatures: 0,
		SublinearTF: false, L2Normalize: true, C: 1, MaxIterations: 100, Tolerance: 1e-4,
	}
	if got := DefaultTextConfig(); !reflect.DeepEqual(got, want) {
		t.Errorf("DefaultTextConfig() = %+v, want %+v", got, want)
	}
}

func TestAnalyzerText(t *testing.T) {
	for _, a := range []Analyzer{AnalyzerWord, AnalyzerChar, AnalyzerWordChar} {
		text, err := a.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText(%v): %v", a, err)
		}
		var got Analyzer
		if err := got.UnmarshalText(text); err != nil || got != a {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", text, got, err, a)
		}
	}
	var a Analyzer
	if err := a.UnmarshalText([]byte("chars")); err == nil || !strings.Contains(err.Error(), `"chars" is not one of word, char, word+char`) {
		t.Errorf("UnmarshalText(chars): error %v", err)
	}
	if _, err := Analyzer(7).MarshalText(); err == nil {
		t.Error("MarshalText(Analyzer(7)) gave no error")
	}
}
