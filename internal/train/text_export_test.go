package train

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/onnx"
	"github.com/streamscore/streamscore/internal/onnx/onnxtest"
)

// textProbabilityTolerance is how far ONNX Runtime's float32 probabilities
// may be from Go's float64 ones.
const textProbabilityTolerance = 1e-5

// textVariants are configurations that change the exported graph or the
// tokenization.
var textVariants = []struct {
	name   string
	mutate func(*TextConfig)
}{
	{"defaults", func(*TextConfig) {}},
	{"raw counts without normalisation", func(c *TextConfig) { c.SublinearTF, c.L2Normalize = false, false }},
	{"unigrams with one-letter words", func(c *TextConfig) { c.MaxNGram, c.MinTokenChars = 1, 1 }},
	{"bigrams and trigrams only", func(c *TextConfig) { c.MinNGram, c.MaxNGram, c.MinDF = 2, 3, 1 }},
	{"fifty features", func(c *TextConfig) { c.MaxFeatures = 50 }},
	{"ASCII lowercase", func(c *TextConfig) { c.Lowercase = LowercaseASCII }},
	{"character 2..4-grams", func(c *TextConfig) { c.Analyzer = AnalyzerChar }},
	{"character 4..6-grams, raw counts", func(c *TextConfig) {
		c.Analyzer, c.CharMinNGram, c.CharMaxNGram, c.SublinearTF, c.L2Normalize = AnalyzerChar, 4, 6, false, false
	}},
	{"words and characters", func(c *TextConfig) { c.Analyzer, c.MaxFeatures = AnalyzerWordChar, 3000 }},
	{"words and characters, ASCII lowercase", func(c *TextConfig) {
		c.Analyzer, c.Lowercase, c.CharMinNGram, c.CharMaxNGram = AnalyzerWordChar, LowercaseASCII, 3, 5
	}},
}

// TestTextONNXMatchesGo fits models of several configurations and checks
// that ONNX Runtime's probabilities for a few hundred varied texts are
// within textProbabilityTolerance of PredictProba's, and its labels agree,
// whether the texts come in one batch (where the Tokenizer pads rows to the
// longest) or one at a time.
func TestTextONNXMatchesGo(t *testing.T) {
	skipInShortMode(t, "the ONNX Runtime parity of text models")
	train, labels := syntheticTexts(3000, 10)
	texts := variedTexts()
	for _, variant := range textVariants {
		t.Run(variant.name, func(t *testing.T) {
			cfg := DefaultTextConfig()
			variant.mutate(&cfg)
			m := fitTextForTest(t, cfg, train, labels)
			want := make([]float64, len(texts))
			for i, text := range texts {
				p, err := m.PredictProba(text)
				if err != nil {
					t.Fatalf("PredictProba(%q): %v", text, err)
				}
				want[i] = p
			}
			if distinct := countDistinct(want); distinct < len(texts)/2 {
				t.Fatalf("only %d distinct probabilities for %d texts: the vocabulary barely matches", distinct, len(texts))
			}

			ortm := newTextORTModel(t, m)
			t.Run("one batch", func(t *testing.T) {
				proba, labels := ortm.predict(t, texts)
				checkTextPredictions(t, texts, want, proba, labels)
			})
			t.Run("batches of one", func(t *testing.T) {
				proba := make([]float32, len(texts))
				labels := make([]int64, len(texts))
				for i, text := range texts {
					p, l := ortm.predict(t, []string{text})
					proba[i], labels[i] = p[0], l[0]
				}
				checkTextPredictions(t, texts, want, proba, labels)
			})
		})
	}
}

func checkTextPredictions(t *testing.T, texts []string, want []float64, proba []float32, labels []int64) {
	t.Helper()
	worst := 0.0
	for i, text := range texts {
		diff := math.Abs(float64(proba[i]) - want[i])
		worst = max(worst, diff)
		if diff > textProbabilityTolerance {
			t.Errorf("text %d %.60q: ONNX Runtime P(1) = %v, Go %v", i, text, proba[i], want[i])
		}
		wantLabel := int64(0)
		if want[i] > 0.5 {
			wantLabel = 1
		}
		// Near one half, float32 rounding may tip the label either way.
		if labels[i] != wantLabel && math.Abs(want[i]-0.5) > 1e-6 {
			t.Errorf("text %d %.60q: ONNX Runtime label %d, Go P(1) = %v", i, text, labels[i], want[i])
		}
	}
	t.Logf("largest probability difference over %d texts: %.2g", len(texts), worst)
}

func countDistinct(values []float64) int {
	seen := map[float64]bool{}
	for _, v := range values {
		seen[v] = true
	}
	return len(seen)
}

// TestTextONNXRejectsInvalidUTF8 checks that ONNX Runtime, like
// PredictProba, refuses a text that is not UTF-8 rather than scoring it.
func TestTextONNXRejectsInvalidUTF8(t *testing.T) {
	train, labels := syntheticTexts(500, 11)
	m := fitTextForTest(t, DefaultTextConfig(), train, labels)
	bad := "free prize \xff"
	if _, err := m.PredictProba(bad); !errors.Is(err, ErrInvalidData) {
		t.Errorf("PredictProba: error %v, want ErrInvalidData", err)
	}
	if _, _, err := newTextORTModel(t, m).tryPredict(t, []string{"fine", bad}); err == nil {
		t.Error("ONNX Runtime scored a text that is not UTF-8")
	}
}

// TestTextONNXPassesChecker runs the python onnx checker on every variant.
// onnxtest.Check uses full_check, strict shape inference included: it
// passes, since the checker skips the com.microsoft Tokenizer, whose schema
// it does not have, and infers nothing past it.
func TestTextONNXPassesChecker(t *testing.T) {
	skipInShortMode(t, "the onnx checker run on text models")
	train, labels := syntheticTexts(500, 12)
	for _, variant := range textVariants {
		t.Run(variant.name, func(t *testing.T) {
			cfg := DefaultTextConfig()
			variant.mutate(&cfg)
			model, err := fitTextForTest(t, cfg, train, labels).ONNX(map[string]string{"task": "spam"})
			if err != nil {
				t.Fatal(err)
			}
			b, err := model.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			onnxtest.Check(t, b)
		})
	}
}

func TestTextONNXGraph(t *testing.T) {
	train, labels := syntheticTexts(500, 13)
	cfg := DefaultTextConfig()
	cfg.SublinearTF = true // every node of a word model
	m := fitTextForTest(t, cfg, train, labels)
	model, err := m.ONNX(map[string]string{"task": "spam"})
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, n := range model.Graph.Nodes {
		op := n.OpType
		if n.Domain != onnx.DomainDefault {
			op = n.Domain + "." + op
		}
		ops = append(ops, op)
	}
	want := "Reshape StringNormalizer com.microsoft.Tokenizer TfIdfVectorizer Max Log Min Add Mul MatMul ReduceL2 Max Div Add " +
		"Cast Cast Neg Exp Exp Add Add Reciprocal Reciprocal Concat Cast Greater Cast Squeeze Identity" // the binary head: addBinaryHead
	if got := strings.Join(ops, " "); got != want {
		t.Errorf("operators:\n got %s\nwant %s", got, want)
	}
	if model.Metadata["task"] != "spam" {
		t.Errorf("metadata = %v, want task=spam", model.Metadata)
	}
	in := model.Graph.Inputs
	if len(in) != 1 || in[0].Name != InputText || in[0].Type != onnx.TypeString || fmt.Sprint(in[0].Shape) != fmt.Sprint([]onnx.Dim{onnx.DimParam("N"), onnx.DimValue(1)}) {
		t.Errorf("inputs = %+v, want %s string [N, 1]", in, InputText)
	}
}

func TestTextModelNeedsFitting(t *testing.T) {
	var m TextModel
	if _, err := m.ONNX(nil); !errors.Is(err, ErrInvalidData) {
		t.Errorf("ONNX of a zero TextModel: error %v, want ErrInvalidData", err)
	}
	if _, err := m.PredictProba("free prize"); !errors.Is(err, ErrInvalidData) {
		t.Errorf("PredictProba of a zero TextModel: error %v, want ErrInvalidData", err)
	}
}
