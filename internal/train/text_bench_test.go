package train

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/streamscore/streamscore/internal/onnx"
)

// wideVocabularyTexts returns n texts of 5 to 40 words drawn from a Zipf
// distribution over 50,000 made-up words, with a spam signal in a few of
// them: a vocabulary of tens of thousands of words at the defaults.
func wideVocabularyTexts(n int, seed uint64) ([]string, []float64) {
	rng := rand.New(rand.NewPCG(seed, 0x21f))
	zipf := rand.NewZipf(rng, 1.1, 1, 49_999)
	texts := make([]string, n)
	labels := make([]float64, n)
	for i := range texts {
		spam := rng.Float64() < 0.3
		words := make([]string, 5+rng.IntN(36))
		for w := range words {
			k := zipf.Uint64()
			if spam && rng.Float64() < 0.2 {
				k = uint64(rng.IntN(50)) * 7 // spam favours a few words
			}
			words[w] = fmt.Sprintf("w%d", k)
		}
		texts[i] = strings.Join(words, " ")
		if spam {
			labels[i] = 1
		}
	}
	return texts, labels
}

// textBenchCorpora are the training sets of the benchmarks: the synthetic
// spam/ham corpus, of about a hundred words, and a wide one of tens of
// thousands.
var textBenchCorpora = []struct {
	name     string
	generate func(n int, seed uint64) ([]string, []float64)
}{
	{"spam-ham", syntheticTexts},
	{"wide", wideVocabularyTexts},
}

// BenchmarkFitText fits the default configuration on 20,000 texts.
func BenchmarkFitText(b *testing.B) {
	for _, corpus := range textBenchCorpora {
		b.Run(corpus.name, func(b *testing.B) {
			texts, labels := corpus.generate(20_000, 31)
			var m *TextModel
			cpu := startCPUClock()
			for b.Loop() {
				m = fitTextForTest(b, DefaultTextConfig(), texts, labels)
			}
			b.ReportMetric(cpu.elapsed().Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(len(m.Vocabulary())), "features")
			b.ReportMetric(float64(m.Stats().Iterations), "iterations")
		})
	}
}

// BenchmarkTextPredictProba measures the Go predictor, one text at a time.
func BenchmarkTextPredictProba(b *testing.B) {
	for _, corpus := range textBenchCorpora {
		b.Run(corpus.name, func(b *testing.B) {
			train, labels := corpus.generate(20_000, 32)
			m := fitTextForTest(b, DefaultTextConfig(), train, labels)
			texts, _ := corpus.generate(4096, 33)
			i := 0
			cpu := startCPUClock()
			for b.Loop() {
				if _, err := m.PredictProba(texts[i%len(texts)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			reportRowsPerSecond(b, 1, cpu)
		})
	}
}

// BenchmarkTextORT measures the exported classifier in ONNX Runtime on one
// thread, in batches of 1 and 128, including copying each batch of texts
// into the input tensor, as the scorer does, with both lowercase modes.
func BenchmarkTextORT(b *testing.B) {
	for _, corpus := range textBenchCorpora {
		for _, lowercase := range []Lowercase{LowercaseUnicode, LowercaseASCII} {
			b.Run(fmt.Sprintf("%s/%v", corpus.name, lowercase), func(b *testing.B) {
				train, labels := corpus.generate(20_000, 32)
				cfg := DefaultTextConfig()
				cfg.Lowercase = lowercase
				model, err := fitTextForTest(b, cfg, train, labels).ONNX(nil)
				if err != nil {
					b.Fatal(err)
				}
				texts, _ := corpus.generate(4096, 33)
				for _, batch := range []int{1, 128} {
					b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
						benchmarkTextORT(b, model, texts, batch)
					})
				}
			})
		}
	}
}

func benchmarkTextORT(b *testing.B, model *onnx.Model, texts []string, batch int) {
	session := newORTSession(b, model, []string{InputText}, []string{OutputLabel, OutputProbabilities})
	input := newStringTensor(b, texts[:batch], int64(batch), 1)
	labelOut := newTensor[int64](b, int64(batch))
	probaOut := newTensor[float32](b, int64(batch), 2)
	b.Cleanup(func() {
		input.Destroy()
		labelOut.Destroy()
		probaOut.Destroy()
	})
	i := 0
	cpu := startCPUClock()
	for b.Loop() {
		if i+batch > len(texts) {
			i = 0
		}
		if err := input.SetContents(texts[i : i+batch]); err != nil {
			b.Fatal(err)
		}
		if err := session.Run([]ort.Value{input}, []ort.Value{labelOut, probaOut}); err != nil {
			b.Fatalf("ONNX Runtime: %v", err)
		}
		i += batch
	}
	reportRowsPerSecond(b, batch, cpu)
}

// BenchmarkTextAnalyzers compares word, character and combined n-grams on
// the spam-ham corpus: the Go predictor one text at a time, and ONNX
// Runtime on one thread in batches of 128.
func BenchmarkTextAnalyzers(b *testing.B) {
	for _, analyzer := range []Analyzer{AnalyzerWord, AnalyzerChar, AnalyzerWordChar} {
		b.Run(analyzer.String(), func(b *testing.B) {
			train, labels := syntheticTexts(20_000, 32)
			cfg := DefaultTextConfig()
			cfg.Analyzer = analyzer
			m := fitTextForTest(b, cfg, train, labels)
			texts, _ := syntheticTexts(4096, 33)
			b.Run("go", func(b *testing.B) {
				i := 0
				cpu := startCPUClock()
				for b.Loop() {
					if _, err := m.PredictProba(texts[i%len(texts)]); err != nil {
						b.Fatal(err)
					}
					i++
				}
				reportRowsPerSecond(b, 1, cpu)
			})
			b.Run("ort/batch=128", func(b *testing.B) {
				model, err := m.ONNX(nil)
				if err != nil {
					b.Fatal(err)
				}
				benchmarkTextORT(b, model, texts, 128)
			})
		})
	}
}
