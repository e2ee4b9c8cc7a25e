package train

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/streamscore/streamscore/internal/onnx"
)

func TestTextTokenizerWords(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		minChars int
		want     []string
	}{
		{"empty", "", 1, nil},
		{"only separators", " \t\n.,;!?-—…", 1, nil},
		{"lowercases", "Hello WORLD", 1, []string{"hello", "world"}},
		{"punctuation splits", "free!!!prize,now", 1, []string{"free", "prize", "now"}},
		{"digits are word characters", "earn $5000/week", 1, []string{"earn", "5000", "week"}},
		{"underscore joins, apostrophe splits", "snake_case don't", 1, []string{"snake_case", "don", "t"}},
		{"short words dropped", "a b cd e fgh", 2, []string{"cd", "fgh"}},
		{"min chars counts code points, not bytes", "é ÿ über", 2, []string{"über"}},
		{"unicode letters", "Größe ΣΟΦΙΑ Москва 東京", 1, []string{"größe", "σοφια", "москва", "東京"}},
		{"combining marks split, as in scikit-learn", "cafe\u0301 noe\u0308l", 1, []string{"cafe", "noe", "l"}},
		{"emoji and symbols split", "win💰now ©2026 a+b=c", 1, []string{"win", "now", "2026", "a", "b", "c"}},
		{"non-ASCII digits", "٣٤ ⅣⅤ", 1, []string{"٣٤", "ⅳⅴ"}},
		{"repeated words kept", "spam spam spam", 1, []string{"spam", "spam", "spam"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := textTokenizer{lowercase: LowercaseUnicode, minChars: tt.minChars}.words(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("words(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestTextTokenizerRejectsInvalidUTF8(t *testing.T) {
	_, err := textTokenizer{lowercase: LowercaseUnicode, minChars: 1}.words("ok \xff")
	if !errors.Is(err, ErrInvalidData) {
		t.Errorf("words(invalid UTF-8) error = %v, want ErrInvalidData", err)
	}
}

func TestForEachNGram(t *testing.T) {
	words := []string{"a", "b", "c"}
	tests := []struct {
		minN, maxN int
		want       []string
	}{
		{1, 1, []string{"a", "b", "c"}},
		{1, 2, []string{"a", "a b", "b", "b c", "c"}},
		{2, 2, []string{"a b", "b c"}},
		{2, 3, []string{"a b", "a b c", "b c"}},
		{3, 5, []string{"a b c"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d..%d", tt.minN, tt.maxN), func(t *testing.T) {
			var got []string
			forEachNGram(words, tt.minN, tt.maxN, nil, func(key []byte) { got = append(got, string(key)) })
			if !slices.Equal(got, tt.want) {
				t.Errorf("n-grams = %q, want %q", got, tt.want)
			}
		})
	}
}

// allCodePoints returns every Unicode scalar value but NUL (which C strings,
// and so onnxruntime_go's string tensors, cannot hold), in strings of at
// most perString code points.
func allCodePoints(perString int, wrap func(r rune) string) []string {
	var texts []string
	var b strings.Builder
	n := 0
	for r := rune(1); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) { // surrogates
			continue
		}
		b.WriteString(wrap(r))
		if n++; n == perString {
			texts = append(texts, b.String())
			b.Reset()
			n = 0
		}
	}
	if b.Len() > 0 {
		texts = append(texts, b.String())
	}
	return texts
}

// runStringGraph runs a graph with one string input of shape [len(texts)]
// and one string output, and returns the output and its shape.
func runStringGraph(t *testing.T, g onnx.Graph, texts []string) ([]string, []int64) {
	t.Helper()
	model := &onnx.Model{
		IRVersion:    onnx.IRVersion,
		ProducerName: "streamscore-test",
		Opsets: []onnx.Opset{
			{Domain: onnx.DomainDefault, Version: onnx.OpsetVersion},
			{Domain: domainMicrosoft, Version: opsetMicrosoftVersion},
		},
		Graph: g,
	}
	session := newORTSession(t, model, []string{g.Inputs[0].Name}, []string{g.Outputs[0].Name})
	input := newStringTensor(t, texts, int64(len(texts)))
	defer input.Destroy()
	outputs := []ort.Value{nil}
	if err := session.Run([]ort.Value{input}, outputs); err != nil {
		t.Fatalf("ONNX Runtime: %v", err)
	}
	defer outputs[0].Destroy()
	out := outputs[0].(*ort.StringTensor)
	got, err := out.GetContents()
	if err != nil {
		t.Fatal(err)
	}
	return got, out.GetShape()
}

// TestTextLowercaseMatchesORT checks, for every code point, that Go
// lowercases it as the exported graph's StringNormalizer does, in both
// modes.
func TestTextLowercaseMatchesORT(t *testing.T) {
	texts := allCodePoints(1024, func(r rune) string { return string(r) })
	for _, mode := range []Lowercase{LowercaseUnicode, LowercaseASCII} {
		t.Run(mode.String(), func(t *testing.T) {
			tok := textTokenizer{lowercase: mode, minChars: 1}
			g := onnx.Graph{
				Name:    "lowercase",
				Inputs:  []onnx.ValueInfo{onnx.TensorInfo("texts", onnx.TypeString, onnx.DimParam("C"))},
				Nodes:   []onnx.Node{tok.lowercaseNode("texts", "lowercase")},
				Outputs: []onnx.ValueInfo{onnx.TensorInfo("lowercase", onnx.TypeString, onnx.DimParam("C"))},
			}
			got, _ := runStringGraph(t, g, texts)
			var diffs []string
			changed := 0
			for i, text := range texts {
				gotRunes, wantRunes := []rune(got[i]), []rune(tok.lower(text))
				if len(gotRunes) != len(wantRunes) {
					t.Fatalf("string %d: ONNX Runtime returned %d code points for %d", i, len(gotRunes), len(wantRunes))
				}
				for k, r := range []rune(text) {
					if gotRunes[k] != wantRunes[k] {
						diffs = append(diffs, fmt.Sprintf("U+%04X: ORT U+%04X, Go U+%04X", r, gotRunes[k], wantRunes[k]))
					}
					if wantRunes[k] != r {
						changed++
					}
				}
			}
			if len(diffs) > 0 {
				t.Errorf("%d code points lowercase differently:\n%s", len(diffs), strings.Join(diffs, "\n"))
			}
			t.Logf("%d code points lowercased, all as ONNX Runtime does", changed)
		})
	}
}

// TestWordPatternMatchesIsWordRune checks, in Go's regexp, which reads the
// same RE2 syntax, that the Tokenizer's pattern finds the words that
// textTokenizer does.
func TestWordPatternMatchesIsWordRune(t *testing.T) {
	re := regexp.MustCompile(wordPattern())
	for _, text := range allCodePoints(256, func(r rune) string { return "x" + string(r) + "x " }) {
		want, err := textTokenizer{lowercase: LowercaseUnicode, minChars: 1}.words(text)
		if err != nil {
			t.Fatal(err)
		}
		if got := re.FindAllString(strings.Map(unicode.ToLower, text), -1); !slices.Equal(got, want) {
			t.Fatalf("pattern finds %+q in %+q, textTokenizer %+q", got, text, want)
		}
	}
}

// TestTextTokenizerMatchesORT checks that Go splits texts into the same
// words as the exported graph's StringNormalizer and Tokenizer: every code
// point between two letters, where it either joins them into one word or
// separates them, and a set of awkward texts.
func TestTextTokenizerMatchesORT(t *testing.T) {
	skipInShortMode(t, "the ONNX Runtime parity of the tokenizer")
	everyCodePoint := allCodePoints(256, func(r rune) string { return "x" + string(r) + "x " })
	awkward := append(variedTexts(), "", " ", "#", "# #", "a#b", "ab\u0301c", "x\u200dy", "\u0301abc")
	tokenizers := []textTokenizer{
		{LowercaseUnicode, 1}, {LowercaseUnicode, 2}, {LowercaseUnicode, 3}, {LowercaseASCII, 1},
	}
	for _, tok := range tokenizers {
		for name, texts := range map[string][]string{"every code point": everyCodePoint, "awkward texts": awkward} {
			t.Run(fmt.Sprintf("%s/%v lowercase, min chars %d", name, tok.lowercase, tok.minChars), func(t *testing.T) {
				g := onnx.Graph{
					Name:   "tokenize",
					Inputs: []onnx.ValueInfo{onnx.TensorInfo("texts", onnx.TypeString, onnx.DimParam("N"))},
					Nodes: []onnx.Node{
						tok.lowercaseNode("texts", "lowercase"),
						tok.tokenizerNode("lowercase", "words"),
					},
					Outputs: []onnx.ValueInfo{
						onnx.TensorInfo("words", onnx.TypeString, onnx.DimParam("N"), onnx.DimParam("T")),
					},
				}
				got, shape := runStringGraph(t, g, texts)
				want, wantT := padWords(t, tok, texts)
				if !slices.Equal(shape, []int64{int64(len(texts)), int64(wantT)}) {
					t.Fatalf("ONNX Runtime words have shape %v, want [%d %d]", shape, len(texts), wantT)
				}
				mismatches := 0
				for i := range texts {
					row, wantRow := got[i*wantT:(i+1)*wantT], want[i*wantT:(i+1)*wantT]
					for k := range row {
						if row[k] == wantRow[k] {
							continue
						}
						if mismatches++; mismatches <= 10 {
							t.Errorf("text %d, word %d: ONNX Runtime %+q, Go %+q", i, k, row[k], wantRow[k])
						}
						break
					}
				}
				if mismatches > 10 {
					t.Errorf("... %d texts differ in all", mismatches)
				}
			})
		}
	}
}

// padWords tokenizes texts in Go and lays their words out as the Tokenizer
// does: one row per text, as long as the longest, padded with textPad.
func padWords(t *testing.T, tok textTokenizer, texts []string) ([]string, int) {
	t.Helper()
	rows := make([][]string, len(texts))
	width := 0
	for i, text := range texts {
		words, err := tok.words(text)
		if err != nil {
			t.Fatal(err)
		}
		rows[i] = words
		width = max(width, len(words))
	}
	var out []string
	for _, row := range rows {
		out = append(out, row...)
		for range width - len(row) {
			out = append(out, textPad)
		}
	}
	return out, width
}
