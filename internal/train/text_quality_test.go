// The quality test lives in the external test package because the corpus
// comes from internal/sample, which imports train.
package train_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/train"
)

// textQualityTolerance is how far the Go model's held-out ROC AUC and F1
// may fall from scikit-learn's.
const textQualityTolerance = 0.01

// TestTextQualityMatchesScikitLearn fits the Go text classifier and
// scikit-learn's TfidfVectorizer + LogisticRegression (through
// testdata/text_sklearn_reference.py) with the same settings on the same
// training messages of the demo's spam/ham generator, and checks that their
// ROC AUC and F1 on the held-out messages differ by at most
// textQualityTolerance, and that both learn the same vocabulary. The demo
// messages are nearly separable; the second corpus, with a few hundred
// training messages and a sixth of the labels flipped, is not. Each corpus
// is fitted with word n-grams, character n-grams (scikit-learn's
// analyzer="char_wb") and both (a FeatureUnion), at the defaults, and with
// word bigrams, min_df, max_features and sublinear TF.
func TestTextQualityMatchesScikitLearn(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the scikit-learn quality parity of text models takes seconds; `make test` runs it")
	}
	requirePython(t, "sklearn", "numpy")
	corpora := []struct {
		name              string
		numTrain, numTest int
		flipRate          float64
	}{
		{"demo messages", 4000, 2000, 0},
		{"few messages, noisy labels", 400, 2000, 1.0 / 6},
	}
	analyzers := []struct {
		analyzer   train.Analyzer
		minN, maxN int
	}{
		{train.AnalyzerWord, 0, 0},
		{train.AnalyzerChar, 2, 4},
		{train.AnalyzerWordChar, 3, 5},
	}
	type testCase struct {
		name              string
		numTrain, numTest int
		flipRate          float64
		mutate            func(*train.TextConfig)
	}
	var tests []testCase
	for _, c := range corpora {
		for _, a := range analyzers {
			name := c.name + "/" + a.analyzer.String()
			if a.analyzer != train.AnalyzerWord {
				name += fmt.Sprintf(" %d..%d", a.minN, a.maxN)
			}
			tests = append(tests, testCase{name, c.numTrain, c.numTest, c.flipRate, func(cfg *train.TextConfig) {
				cfg.Analyzer = a.analyzer
				if a.analyzer != train.AnalyzerWord {
					cfg.CharMinNGram, cfg.CharMaxNGram = a.minN, a.maxN
				}
			}})
		}
		// Away from the defaults: bigrams, pruned and capped, sublinear.
		tests = append(tests, testCase{c.name + "/word 1..2, min_df 2, max_features 2000, sublinear", c.numTrain, c.numTest, c.flipRate,
			func(cfg *train.TextConfig) {
				cfg.MaxNGram, cfg.MinDF, cfg.MaxFeatures, cfg.SublinearTF = 2, 2, 2000, true
			}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			texts, labels := sampleMessages(t, tt.numTrain+tt.numTest, tt.flipRate)
			cfg := train.DefaultTextConfig()
			tt.mutate(&cfg)
			m, err := train.FitText(context.Background(), cfg, texts[:tt.numTrain], labels[:tt.numTrain])
			if err != nil {
				t.Fatalf("FitText: %v", err)
			}
			scores := make([]float64, tt.numTest)
			for i, text := range texts[tt.numTrain:] {
				if scores[i], err = m.PredictProba(text); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(t.TempDir(), "corpus.csv")
			writeTextCorpus(t, path, texts, labels, tt.numTrain, scores)
			got := runTextReference(t, cfg, path)

			t.Logf("held-out ROC AUC: go %.4f, scikit-learn %.4f", got.Go.AUC, got.Sklearn.AUC)
			t.Logf("held-out F1:      go %.4f, scikit-learn %.4f", got.Go.F1, got.Sklearn.F1)
			t.Logf("vocabulary: go %d, scikit-learn %d n-grams; largest probability difference %.2g",
				len(m.Vocabulary()), got.Vocabulary, got.MaxProbabilityDifference)
			if math.Abs(got.Go.AUC-got.Sklearn.AUC) > textQualityTolerance {
				t.Errorf("ROC AUC: go %.4f, scikit-learn %.4f; want within %v", got.Go.AUC, got.Sklearn.AUC, textQualityTolerance)
			}
			if math.Abs(got.Go.F1-got.Sklearn.F1) > textQualityTolerance {
				t.Errorf("F1: go %.4f, scikit-learn %.4f; want within %v", got.Go.F1, got.Sklearn.F1, textQualityTolerance)
			}
			if len(m.Vocabulary()) != got.Vocabulary {
				t.Errorf("vocabulary: go %d n-grams, scikit-learn %d", len(m.Vocabulary()), got.Vocabulary)
			}
		})
	}
}

type textReferenceResult struct {
	Sklearn, Go              struct{ AUC, F1 float64 }
	Vocabulary               int
	MaxProbabilityDifference float64 `json:"max_probability_difference"`
}

func runTextReference(t *testing.T, cfg train.TextConfig, corpusPath string) textReferenceResult {
	t.Helper()
	sublinear := 0
	if cfg.SublinearTF {
		sublinear = 1
	}
	cmd := exec.Command("/usr/bin/python3", filepath.Join("testdata", "text_sklearn_reference.py"), corpusPath)
	cmd.Env = append(os.Environ(),
		"OMP_NUM_THREADS=1", // see runReference in quality_test.go
		fmt.Sprintf("MIN_NGRAM=%d", cfg.MinNGram),
		fmt.Sprintf("MAX_NGRAM=%d", cfg.MaxNGram),
		fmt.Sprintf("MIN_DF=%d", cfg.MinDF),
		fmt.Sprintf("MAX_FEATURES=%d", cfg.MaxFeatures),
		fmt.Sprintf("SUBLINEAR_TF=%d", sublinear),
		fmt.Sprintf("C=%v", cfg.C),
		"ANALYZER="+cfg.Analyzer.String(),
		fmt.Sprintf("CHAR_MIN_NGRAM=%d", cfg.CharMinNGram),
		fmt.Sprintf("CHAR_MAX_NGRAM=%d", cfg.CharMaxNGram),
	)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if exitErr, ok := err.(*exec.ExitError); ok {
			stderr = string(exitErr.Stderr)
		}
		t.Fatalf("text_sklearn_reference.py: %v\n%s", err, stderr)
	}
	var result textReferenceResult
	if err := json.Unmarshal(out, &result); err != nil {
		t.Fatalf("text_sklearn_reference.py printed %q: %v", out, err)
	}
	return result
}

// sampleMessages returns n messages of the demo's generator, 30% spam, and
// their labels, flipRate of them flipped at random.
func sampleMessages(t *testing.T, n int, flipRate float64) ([]string, []float64) {
	t.Helper()
	gen := sample.NewTexts(42, 0.3)
	flips := rand.New(rand.NewPCG(42, 1))
	texts := make([]string, n)
	labels := make([]float64, n)
	for i := range texts {
		rec, spam := gen.Next()
		text, ok := rec["text"].(string)
		if !ok {
			t.Fatalf("sample message %d has text %T, want string", i, rec["text"])
		}
		texts[i] = text
		if spam != (flips.Float64() < flipRate) {
			labels[i] = 1
		}
	}
	return texts, labels
}

// writeTextCorpus writes the CSV that text_sklearn_reference.py reads: the
// first numTrain messages are the train split, the rest the test split with
// their Go scores.
func writeTextCorpus(t *testing.T, path string, texts []string, labels []float64, numTrain int, scores []float64) {
	t.Helper()
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(file)
	records := [][]string{{"split", "label", "text", "go_score"}}
	for i, text := range texts {
		split, score := "train", ""
		if i >= numTrain {
			split, score = "test", strconv.FormatFloat(scores[i-numTrain], 'g', -1, 64)
		}
		records = append(records, []string{split, strconv.FormatFloat(labels[i], 'g', -1, 64), text, score})
	}
	if err := w.WriteAll(records); err != nil {
		t.Fatal(err)
	}
	if err := file.Close(); err != nil {
		t.Fatal(err)
	}
}

func requirePython(t *testing.T, modules ...string) {
	t.Helper()
	for _, m := range modules {
		if out, err := exec.Command("/usr/bin/python3", "-c", "import "+m).CombinedOutput(); err != nil {
			t.Fatalf("python module %s unavailable (run `make setup` or scripts/setup.sh): %v\n%s", m, err, out)
		}
	}
}
