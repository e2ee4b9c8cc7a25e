package train

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// sklearnCodePoints is what Python, scikit-learn's interpreter, knows of
// every code point: which ones its Unicode tables assign, which of those
// \w matches, and how str.lower maps those that it changes.
type sklearnCodePoints struct {
	Unicode  string            `json:"unicode"`
	Assigned [][2]rune         `json:"assigned"`
	Word     [][2]rune         `json:"word"`
	Lower    map[string]string `json:"lower"` // decimal code point → lowercase
}

func pythonCodePoints(t *testing.T) sklearnCodePoints {
	t.Helper()
	const script = `import json, re, sys, unicodedata
word = re.compile(r"(?u)\w")
def ranges(pred):
    out, lo = [], None
    for c in range(1, sys.maxunicode + 2):
        yes = c <= sys.maxunicode and pred(c)
        if yes and lo is None:
            lo = c
        elif not yes and lo is not None:
            out.append([lo, c - 1])
            lo = None
    return out
assigned = lambda c: not 0xD800 <= c < 0xE000 and unicodedata.category(chr(c)) != "Cn"
json.dump({"unicode": unicodedata.unidata_version,
           "assigned": ranges(assigned),
           "word": ranges(lambda c: assigned(c) and word.match(chr(c)) is not None),
           "lower": {str(c): chr(c).lower() for c in range(1, sys.maxunicode + 1)
                     if assigned(c) and chr(c).lower() != chr(c)}}, sys.stdout)`
	out, err := exec.Command("/usr/bin/python3", "-c", script).Output()
	if err != nil {
		t.Fatalf("python3 (python3-sklearn, `make setup`): %v", err)
	}
	var cp sklearnCodePoints
	if err := json.Unmarshal(out, &cp); err != nil {
		t.Fatal(err)
	}
	return cp
}

func inRanges(ranges [][2]rune) []bool {
	in := make([]bool, unicode.MaxRune+1)
	for _, r := range ranges {
		for c := r[0]; c <= r[1]; c++ {
			in[c] = true
		}
	}
	return in
}

// TestWordRunesAreScikitLearns checks, for every code point that Python's
// Unicode tables assign, that isWordRune accepts it exactly when \w of
// scikit-learn's token pattern (?u)\b\w\w+\b matches it, and that the
// Unicode lowercasing maps it as Python's str.lower does, but for İ.
func TestWordRunesAreScikitLearns(t *testing.T) {
	cp := pythonCodePoints(t)
	assigned, word := inRanges(cp.Assigned), inRanges(cp.Word)
	tok := textTokenizer{lowercase: LowercaseUnicode, minChars: 1}
	var wordDiffs, lowerDiffs []string
	checked := 0
	for r := rune(1); r <= unicode.MaxRune; r++ {
		if !assigned[r] {
			continue
		}
		checked++
		if isWordRune(r) != word[r] {
			wordDiffs = append(wordDiffs, fmt.Sprintf("%U: ours %v, \\w %v", r, isWordRune(r), word[r]))
		}
		want, ok := cp.Lower[fmt.Sprint(r)]
		if !ok {
			want = string(r)
		}
		if got := tok.lower(string(r)); got != want && r != 'İ' {
			lowerDiffs = append(lowerDiffs, fmt.Sprintf("%U: ours %+q, str.lower %+q", r, got, want))
		}
	}
	if len(wordDiffs) > 0 {
		t.Errorf("%d code points of Unicode %s are word characters in one and not the other:\n%s",
			len(wordDiffs), cp.Unicode, strings.Join(wordDiffs[:min(len(wordDiffs), 30)], "\n"))
	}
	if len(lowerDiffs) > 0 {
		t.Errorf("%d code points of Unicode %s lowercase differently:\n%s",
			len(lowerDiffs), cp.Unicode, strings.Join(lowerDiffs[:min(len(lowerDiffs), 30)], "\n"))
	}
	if got, want := tok.lower("İ"), cp.Lower[fmt.Sprint('İ')]; got != "i" || want != "i\u0307" {
		t.Errorf("İ lowercases to %+q, str.lower to %+q; the known difference is i against i\u0307", got, want)
	}
	t.Logf("%d code points assigned in Python's Unicode %s (Go's is %s): all alike", checked, cp.Unicode, unicode.Version)
}

// sklearnWords returns, for each text, the n-grams of scikit-learn's word
// analyzer at its defaults but for ngram_range (minN, maxN).
func sklearnWords(t *testing.T, texts []string, minN, maxN int) [][]string {
	t.Helper()
	return sklearnAnalyze(t, "word", "", texts, minN, maxN)
}

// sklearnAnalyze returns, for each text, the n-grams of the analyzer of a
// TfidfVectorizer(ngram_range=(minN, maxN), extra) named what, where extra
// are more keyword arguments in Python ("" for none).
func sklearnAnalyze(t *testing.T, what, extra string, texts []string, minN, maxN int) [][]string {
	t.Helper()
	if extra != "" {
		extra = ", " + extra
	}
	script := `import json, sys
from sklearn.feature_extraction.text import TfidfVectorizer
analyze = TfidfVectorizer(ngram_range=(int(sys.argv[1]), int(sys.argv[2]))` + extra + `).build_analyzer()
json.dump([analyze(text) for text in json.load(sys.stdin)], sys.stdout)`
	in, err := json.Marshal(texts)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", "-c", script, strconv.Itoa(minN), strconv.Itoa(maxN))
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scikit-learn's %s analyzer (python3-sklearn, `make setup`): %v", what, err)
	}
	var grams [][]string
	if err := json.Unmarshal(out, &grams); err != nil {
		t.Fatal(err)
	}
	if len(grams) != len(texts) {
		t.Fatalf("scikit-learn analyzed %d texts of %d", len(grams), len(texts))
	}
	return grams
}

// ourWords returns text's n-grams as the default configuration counts
// them, but for the n-gram range, sorted.
func ourWords(t *testing.T, text string, minN, maxN int) []string {
	t.Helper()
	cfg := DefaultTextConfig()
	words, err := textTokenizer{lowercase: cfg.Lowercase, minChars: cfg.MinTokenChars}.words(text)
	if err != nil {
		t.Fatal(err)
	}
	var grams []string
	forEachNGram(words, minN, maxN, nil, func(key []byte) { grams = append(grams, string(key)) })
	slices.Sort(grams)
	return grams
}

// TestTextWordsAreScikitLearns checks that the default tokenizer finds in
// awkward texts the n-grams of scikit-learn's default analyzer,
// TfidfVectorizer().build_analyzer(), and with ngram_range (1, 3), where
// short words dropped between two others join them. Texts with İ or Σ,
// which Python lowercases with rules of its own (see textTokenizer), are
// compared apart, with their differences written out.
func TestTextWordsAreScikitLearns(t *testing.T) {
	skipInShortMode(t, "the scikit-learn parity of word tokens")
	awkward := []string{
		"snake_case __init__ _x_ __ _ a_b don't",    // the underscore is a word character
		"cafe\u0301 noe\u0308l ab\u0301c \u0301abc", // combining marks split words
		"हिन्दी भाषा নমস্কার",                       // so do the vowel signs of Indic scripts
		"ǅemal ǈubljana ΆΈΉ ß ẞẞ ﬁﬁ",
		"ＦＲＥＥ ｐｒｉｚｅ 日本語のテキスト 東京",
		"x\u200dy a\u200cb tab\tsep\u00a0nbsp",
		"٣٤ ⅣⅤ ½½ ²² x²y ①② Ⅻ ⓐⓑ",
		"e-mail e.mail bob@mail.example.com http://www.example.com/a_b?c=d&e=f",
		"123 4.5 6,7 a1 1a 1_1 $5000/week 100%",
		"emoji😀😀test 💰win💰 a+b=c",
		"I am a b c de f gh", // words of one letter dropped inside n-grams
	}
	var texts []string
	for _, text := range append(awkward, variedTexts()...) {
		if !strings.ContainsAny(text, "İΣ") {
			texts = append(texts, text)
		}
	}
	for _, r := range [][2]int{{1, 1}, {1, 3}} {
		t.Run(fmt.Sprintf("ngram_range (%d, %d)", r[0], r[1]), func(t *testing.T) {
			want := sklearnWords(t, texts, r[0], r[1])
			for i, text := range texts {
				got := ourWords(t, text, r[0], r[1])
				slices.Sort(want[i])
				if !slices.Equal(got, want[i]) {
					t.Errorf("text %d %.60q:\n go %.200q\nsk %.200q", i, text, got, want[i])
				}
			}
		})
	}

	known := []struct {
		text         string
		ours, theirs []string
	}{
		{"İstanbul", []string{"istanbul"}, []string{"stanbul"}},                    // i̇stanbul: the dot splits it
		{"ΟΔΟΣ ΣΊΣΥΦΟΣ", []string{"οδοσ", "σίσυφοσ"}, []string{"οδος", "σίσυφος"}}, // final sigma
	}
	texts = nil
	for _, k := range known {
		texts = append(texts, k.text)
	}
	sk := sklearnWords(t, texts, 1, 1)
	for i, k := range known {
		if got := ourWords(t, k.text, 1, 1); !slices.Equal(got, k.ours) {
			t.Errorf("%q: go %q, want %q", k.text, got, k.ours)
		}
		slices.Sort(sk[i])
		if !slices.Equal(sk[i], k.theirs) {
			t.Errorf("%q: scikit-learn %q, the known difference says %q", k.text, sk[i], k.theirs)
		}
	}
}
