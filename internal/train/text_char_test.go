package train

import (
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/streamscore/streamscore/internal/onnx"
)

func TestForEachCharNGram(t *testing.T) {
	tests := []struct {
		name       string
		words      []string
		minN, maxN int
		want       []string
	}{
		{"padded runs", []string{"abc"}, 2, 3, []string{" a", " ab", "ab", "abc", "bc", "bc ", "c "}},
		{"each word on its own", []string{"ab", "cd"}, 2, 2, []string{" a", "ab", "b ", " c", "cd", "d "}},
		{"word shorter than max", []string{"a"}, 2, 5, []string{" a", " a ", "a "}},
		{"word shorter than min is one n-gram", []string{"a", "bc"}, 4, 4, []string{" a ", " bc "}},
		{"code points, not bytes", []string{"éü"}, 3, 3, []string{" éü", "éü "}},
		{"no words", nil, 2, 4, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			forEachCharNGram(tt.words, tt.minN, tt.maxN, nil, func(key []byte) { got = append(got, string(key)) })
			if !slices.Equal(got, tt.want) {
				t.Errorf("n-grams = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCharWords(t *testing.T) {
	tok := textTokenizer{lowercase: LowercaseUnicode, minChars: 5} // minChars does not apply
	got, err := tok.charWords(" Free\t\tPRIZE\u00a0now!\x1cé\x02x\x03 \n")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"free", "prize", "now!", "é", "x"}; !slices.Equal(got, want) {
		t.Errorf("charWords = %q, want %q", got, want)
	}
	if _, err := tok.charWords("ok \xff"); err == nil {
		t.Error("charWords accepted a text that is not UTF-8")
	}
}

// charTestTexts are the texts the character n-gram tests compare on.
func charTestTexts() []string {
	return append(variedTexts(), "a", "ab abc abcd", "x\ty", "\t", "  ", "é", "ÿ ÿÿ ÿÿÿ")
}

// TestCharNGramsMatchScikitLearn checks that forEachCharNGram finds in
// every test text the n-grams that scikit-learn's char_wb analyzer does, as
// many times, given the same lowercased text. The texts with U+0002 or
// U+0003, which Go takes for separators and scikit-learn does not, are
// left out.
func TestCharNGramsMatchScikitLearn(t *testing.T) {
	skipInShortMode(t, "the scikit-learn parity of character n-grams")
	tok := textTokenizer{lowercase: LowercaseUnicode}
	var texts []string
	for _, text := range charTestTexts() {
		if !strings.ContainsAny(text, "\x02\x03") {
			texts = append(texts, tok.lower(text))
		}
	}
	for _, r := range [][2]int{{2, 4}, {4, 6}, {2, 2}} {
		t.Run(fmt.Sprintf("%d..%d", r[0], r[1]), func(t *testing.T) {
			want := sklearnCharNGrams(t, texts, r[0], r[1])
			for i, text := range texts {
				words, err := tok.charWords(text)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				forEachCharNGram(words, r[0], r[1], nil, func(key []byte) { got = append(got, string(key)) })
				slices.Sort(got)
				slices.Sort(want[i])
				if !slices.Equal(got, want[i]) {
					t.Errorf("text %d %.60q: go %d n-grams, scikit-learn %d:\n go %.200q\nsk %.200q", i, text, len(got), len(want[i]), got, want[i])
				}
			}
		})
	}
}

// sklearnCharNGrams returns the n-grams of scikit-learn's char_wb analyzer
// for each text, without lowercasing.
func sklearnCharNGrams(t *testing.T, texts []string, minN, maxN int) [][]string {
	t.Helper()
	return sklearnAnalyze(t, "char_wb", `analyzer="char_wb", lowercase=False`, texts, minN, maxN)
}

// TestCharSeparatorsMatchPython checks that isCharSeparator accepts the
// white space of Python's str.split(), which scikit-learn's char_wb
// analyzer splits words at, and besides only the Tokenizer's two marks.
func TestCharSeparatorsMatchPython(t *testing.T) {
	out, err := exec.Command("/usr/bin/python3", "-c",
		"import sys; print(' '.join(str(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()))").Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	var python []rune
	for _, f := range strings.Fields(string(out)) {
		c, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		python = append(python, rune(c))
	}
	var got []rune
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if isCharSeparator(r) && r != charWordStart && r != charWordEnd {
			got = append(got, r)
		}
	}
	if !slices.Equal(got, python) {
		t.Errorf("separators %U, Python's white space %U", got, python)
	}
}

// TestCharCountsMatchORT checks that the exported character n-gram nodes
// count in every test text, in one batch and one text at a time, exactly
// the n-grams that Go counts, for a vocabulary of every n-gram of those
// texts.
func TestCharCountsMatchORT(t *testing.T) {
	skipInShortMode(t, "the ONNX Runtime parity of character counts")
	texts := charTestTexts()
	for _, r := range [][2]int{{2, 4}, {4, 6}} {
		t.Run(fmt.Sprintf("%d..%d", r[0], r[1]), func(t *testing.T) {
			cfg := DefaultTextConfig()
			cfg.Analyzer, cfg.CharMinNGram, cfg.CharMaxNGram, cfg.MinDF, cfg.MaxFeatures = AnalyzerChar, r[0], r[1], 1, 0
			v, err := fitTextVectorizer(t.Context(), cfg, true, texts[:len(texts)-40]) // leave some n-grams out
			if err != nil {
				t.Fatal(err)
			}
			g := onnx.Graph{
				Name:   "char_counts",
				Inputs: []onnx.ValueInfo{onnx.TensorInfo("texts", onnx.TypeString, onnx.DimParam("N"))},
				Nodes: append([]onnx.Node{v.tokenizer.lowercaseNode("texts", "lowercase")},
					v.charNodes("lowercase", "counts", "char_")...),
				Outputs: []onnx.ValueInfo{onnx.TensorInfo("counts", onnx.TypeFloat, onnx.DimParam("N"), onnx.DimValue(int64(len(v.vocab))))},
			}
			model := &onnx.Model{
				IRVersion:    onnx.IRVersion,
				ProducerName: "streamscore-test",
				Opsets: []onnx.Opset{
					{Domain: onnx.DomainDefault, Version: onnx.OpsetVersion},
					{Domain: domainMicrosoft, Version: opsetMicrosoftVersion},
					{Domain: onnx.DomainML, Version: onnx.OpsetMLVersion},
				},
				Graph: g,
			}
			session := newORTSession(t, model, []string{"texts"}, []string{"counts"})
			run := func(batch []string) []float32 {
				input := newStringTensor(t, batch, int64(len(batch)))
				defer input.Destroy()
				outputs := []ort.Value{nil}
				if err := session.Run([]ort.Value{input}, outputs); err != nil {
					t.Fatalf("ONNX Runtime: %v", err)
				}
				defer outputs[0].Destroy()
				return slices.Clone(outputs[0].(*ort.Tensor[float32]).GetData())
			}
			want := make([][]float32, len(texts))
			for i, text := range texts {
				want[i] = make([]float32, len(v.vocab))
				if _, err := v.forEachKey(text, nil, func(key []byte) {
					if j, ok := v.index[string(key)]; ok {
						want[i][j]++
					}
				}); err != nil {
					t.Fatal(err)
				}
			}
			batch := run(texts)
			counted := 0
			for i, text := range texts {
				for name, got := range map[string][]float32{
					"one batch":    batch[i*len(v.vocab) : (i+1)*len(v.vocab)],
					"batch of one": run([]string{text}),
				} {
					if !slices.Equal(got, want[i]) {
						t.Errorf("%s, text %d %.60q: ONNX Runtime counts differ from Go's", name, i, text)
					}
				}
				for _, c := range want[i] {
					counted += int(c)
				}
			}
			t.Logf("%d vocabulary n-grams, %d occurrences in %d texts, all counted alike", len(v.vocab), counted, len(texts))
		})
	}
}
