package train

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/streamscore/streamscore/internal/textword"
)

// isWordRune (textword's, shared with drift monitoring) reports whether r
// can be part of a word: a letter, a number or the underscore, in Go's
// Unicode tables, which is what \w matches in
// Python's re, and so in scikit-learn's default token pattern
// (?u)\b\w\w+\b. Everything else (spaces, punctuation, symbols, emoji,
// control characters, and combining marks too) separates words, so
// scikit-learn and this tokenizer split a decomposed "e\u0301" or a
// Devanagari vowel sign alike, out of a word. The two agree on every code
// point that Python's Unicode tables assign (TestWordRunesAreScikitLearns);
// Go's are of a later Unicode version, which makes words of the letters
// it added too.
func isWordRune(r rune) bool { return textword.IsWordRune(r) }

// wordPattern returns the RE2 regular expression the exported Tokenizer
// matches words with: one or more of exactly the code points isWordRune
// accepts, spelled out as ranges. The shorter [\p{L}\p{M}\p{N}]+ would
// leave the character set to ONNX Runtime's copy of RE2, whose Unicode
// version differs from Go's (it knows the CJK ideographs of Unicode 15.1,
// for one), so Go and the graph would split some texts differently.
func wordPattern() string {
	var b strings.Builder
	b.WriteByte('[')
	lo := rune(-1)
	flush := func(hi rune) {
		if lo == hi {
			fmt.Fprintf(&b, `\x{%X}`, lo)
		} else {
			fmt.Fprintf(&b, `\x{%X}-\x{%X}`, lo, hi)
		}
		lo = -1
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		switch word := isWordRune(r); {
		case word && lo < 0:
			lo = r
		case !word && lo >= 0:
			flush(r - 1)
		}
	}
	if lo >= 0 {
		flush(unicode.MaxRune)
	}
	b.WriteString("]+")
	return b.String()
}

// ngramSeparator joins the words of an n-gram into one vocabulary key. It
// never occurs inside a word.
const ngramSeparator = " "

// textTokenizer splits texts into words exactly as the exported ONNX graph
// does:
//
//  1. lowercase every code point on its own (StringNormalizer, LOWER): with
//     Go's simple Unicode case mapping, which is also what the C library's
//     towlower applies in the C.UTF-8 locale, or only A to Z, as in the C
//     locale;
//  2. take the maximal runs of word runes (com.microsoft Tokenizer with
//     tokenexp wordPattern()), dropping runs shorter than minChars code
//     points (its mincharnum). A dropped word does not break an n-gram: its
//     neighbours become adjacent, in ONNX Runtime and in scikit-learn alike.
//
// With minChars 2 these are the words of scikit-learn's default analyzer
// (TestTextWordsAreScikitLearns) but where Python's str.lower differs from
// a code point by code point mapping: it lowercases İ (U+0130) to two code
// points, i and a combining dot, which then splits the word, and a
// capital sigma at the end of a word to ς (U+03C2), where this tokenizer,
// like ONNX Runtime, gives σ.
//
// Texts must be valid UTF-8; ONNX Runtime rejects anything else.
// TestTextLowercaseMatchesORT and TestTextTokenizerMatchesORT check both
// steps against ONNX Runtime for every code point.
type textTokenizer struct {
	lowercase Lowercase
	minChars  int
}

// lower lowercases text as the exported StringNormalizer does.
func (t textTokenizer) lower(text string) string {
	if t.lowercase == LowercaseASCII {
		return strings.Map(lowerASCII, text)
	}
	return strings.Map(unicode.ToLower, text)
}

func lowerASCII(r rune) rune { return textword.LowerASCII(r) }

// words returns text's words in order.
func (t textTokenizer) words(text string) ([]string, error) {
	if !utf8.ValidString(text) {
		return nil, fmt.Errorf("%w: text is not valid UTF-8", ErrInvalidData)
	}
	lower := t.lower(text)
	var words []string
	start, runes := -1, 0
	for i, r := range lower {
		if isWordRune(r) {
			if start < 0 {
				start, runes = i, 0
			}
			runes++
			continue
		}
		if start >= 0 && runes >= t.minChars {
			words = append(words, lower[start:i])
		}
		start = -1
	}
	if start >= 0 && runes >= t.minChars {
		words = append(words, lower[start:])
	}
	return words, nil
}

// forEachNGram calls fn with the key of every n-gram of words whose length
// is in [minN, maxN], in order of position and then length, which is the
// order in which TfIdfVectorizer counts them. Keys are built in buf, which
// is reused between calls: fn must copy a key it keeps.
func forEachNGram(words []string, minN, maxN int, buf []byte, fn func(key []byte)) []byte {
	for i := range words {
		buf = buf[:0]
		for n := 1; n <= maxN && i+n <= len(words); n++ {
			if n > 1 {
				buf = append(buf, ngramSeparator...)
			}
			buf = append(buf, words[i+n-1]...)
			if n >= minN {
				fn(buf)
			}
		}
	}
	return buf
}
