package train

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/streamscore/streamscore/internal/onnx"
)

// Character n-grams are counted as scikit-learn's
// TfidfVectorizer(analyzer="char_wb") counts them: the lowercased text is
// split into words at white space, each word is padded with a space on
// either side, and every run of CharMinNGram to CharMaxNGram code points
// inside a padded word is an n-gram; a padded word shorter than
// CharMinNGram is one n-gram, whole.
//
// The exported graph (charNodes) cannot split and pad words, so it counts
// the same n-grams another way. A com.microsoft Tokenizer splits each text
// into its code points, with mark 1, which adds U+0002 before the first and
// U+0003 after the last. A LabelEncoder maps every separator (those marks
// included) to the id of the space, the code points of the vocabulary to
// theirs and anything else, the padding of short rows too, to
// charUnknownID. TfIdfVectorizer then counts runs of ids. A vocabulary
// n-gram has a space only at its ends, so it matches exactly where Go finds
// it: a run of separators is one boundary as good as one space, and a run
// with a separator inside would cross a word boundary and is in no
// vocabulary.
const (
	charSpaceID   = 0  // the id of every separator; vocabulary code points follow
	charUnknownID = -1 // code points outside the vocabulary, and padding
	// charPad fills the Tokenizer's rows of fewer code points than the
	// longest; it is no code point, so it maps to charUnknownID.
	charPad = "<pad>"
	// charWordStart and charWordEnd are the Tokenizer's marks.
	charWordStart = '\x02'
	charWordEnd   = '\x03'
)

// isCharSeparator reports whether r separates the words of character
// n-grams: white space as Python's str.split() knows it (Go's
// unicode.IsSpace and the information separators U+001C to U+001F), and
// the Tokenizer's two marks, which in a word would be taken for its ends.
// Only that last point departs from scikit-learn, for texts that hold
// U+0002 or U+0003.
func isCharSeparator(r rune) bool {
	return unicode.IsSpace(r) || (0x1C <= r && r <= 0x1F) || r == charWordStart || r == charWordEnd
}

// charWords returns the lowercased text's words for character n-grams:
// its maximal runs of code points that are not separators.
func (t textTokenizer) charWords(text string) ([]string, error) {
	if !utf8.ValidString(text) {
		return nil, fmt.Errorf("%w: text is not valid UTF-8", ErrInvalidData)
	}
	return strings.FieldsFunc(t.lower(text), isCharSeparator), nil
}

// forEachCharNGram calls fn with the key of every character n-gram of
// words, minN to maxN code points long, the padding spaces included: for
// each word, the runs of those lengths in " "+word+" ", and the whole
// padded word if it is shorter than minN, which scikit-learn counts once.
// Keys are built in buf, which is reused between calls: fn must copy a key
// it keeps.
func forEachCharNGram(words []string, minN, maxN int, buf []byte, fn func(key []byte)) []byte {
	var padded []byte // the padded word
	var starts []int  // byte offsets of its code points, then its length
	for _, w := range words {
		padded = append(append(append(padded[:0], ' '), w...), ' ')
		starts = starts[:0]
		for i := range string(padded) {
			starts = append(starts, i)
		}
		runes := len(starts)
		starts = append(starts, len(padded))
		if runes < minN {
			buf = append(buf[:0], padded...)
			fn(buf)
			continue
		}
		for i := range runes {
			for n := minN; n <= maxN && i+n <= runes; n++ {
				buf = append(buf[:0], padded[starts[i]:starts[i+n]]...)
				fn(buf)
			}
		}
	}
	return buf
}

// charKeyLength returns the number of code points of a character n-gram
// key, padding spaces included.
func charKeyLength(key string) int { return utf8.RuneCountInString(key) }

// charIDs numbers the code points of the vocabulary for the exported
// LabelEncoder: the space charSpaceID, the others from 1 in code point
// order.
func (v *textVectorizer) charIDs() map[rune]int64 {
	ids := map[rune]int64{' ': charSpaceID}
	var runes []rune
	for _, key := range v.vocab {
		for _, r := range key {
			if _, ok := ids[r]; !ok {
				ids[r] = 0 // a placeholder until sorted
				runes = append(runes, r)
			}
		}
	}
	slices.Sort(runes)
	for i, r := range runes {
		ids[r] = int64(i + 1)
	}
	return ids
}

// charNodes returns the nodes that count the vocabulary's character
// n-grams in a [N] tensor of lowercased texts, giving float [N, vocabulary]
// in output: Tokenizer into code points ([N, longest text + 2]),
// LabelEncoder to ids, TfIdfVectorizer over the ids. prefix names the
// intermediate values.
//
// The Tokenizer's output holds one string per code point of the longest
// text of the batch, for every text: a batch of long texts costs memory in
// proportion to its size times its longest text.
//
// TfIdfVectorizer's smallest length counted is at most 3, the length of
// the shortest padded word: the whole padded words shorter than minN are
// in the vocabulary, and since they start and end with a space they match
// nothing but such a word.
func (v *textVectorizer) charNodes(input, output, prefix string) []onnx.Node {
	ids := v.charIDs()
	var keys []string
	var values []int64
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if isCharSeparator(r) && r != ' ' {
			keys, values = append(keys, string(r)), append(values, charSpaceID)
		}
	}
	for r, id := range ids {
		keys, values = append(keys, string(r)), append(values, id)
	}
	// Sorted, so the same model always encodes to the same bytes.
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	sortedKeys, sortedValues := make([]string, len(keys)), make([]int64, len(keys))
	for i, k := range order {
		sortedKeys[i], sortedValues[i] = keys[k], values[k]
	}

	pool := make([]int64, 0, len(v.vocab)*v.maxN)
	ngramCounts := make([]int64, v.maxN)
	indexes := make([]int64, len(v.vocab))
	j := 0
	for n := 1; n <= v.maxN; n++ {
		ngramCounts[n-1] = int64(len(pool))
		for ; j < len(v.vocab) && charKeyLength(v.vocab[j]) == n; j++ {
			for _, r := range v.vocab[j] {
				pool = append(pool, ids[r])
			}
			indexes[j] = int64(j)
		}
	}
	return []onnx.Node{
		{
			OpType:  "Tokenizer",
			Domain:  domainMicrosoft,
			Name:    prefix + "code_points",
			Inputs:  []string{input},
			Outputs: []string{prefix + "code_points"},
			Attributes: []onnx.Attribute{
				onnx.Int("mark", 1),
				onnx.String("pad_value", charPad),
				onnx.String("tokenexp", "(?s)."),
				onnx.Int("mincharnum", 1),
			},
		},
		// A no-op for ONNX Runtime, the Cast gives the Tokenizer's output a
		// type the python onnx checker knows: its shape inference of
		// LabelEncoder crashes on an input of unknown type.
		opNode("Cast", []string{prefix + "code_points"}, prefix+"code_point_strings", onnx.Int("to", int64(onnx.TypeString))),
		{
			OpType:  "LabelEncoder",
			Domain:  onnx.DomainML,
			Name:    prefix + "ids",
			Inputs:  []string{prefix + "code_point_strings"},
			Outputs: []string{prefix + "ids"},
			Attributes: []onnx.Attribute{
				onnx.Strings("keys_strings", sortedKeys...),
				onnx.Ints("values_int64s", sortedValues...),
				onnx.Int("default_int64", charUnknownID),
			},
		},
		{
			OpType:  "TfIdfVectorizer",
			Name:    output,
			Inputs:  []string{prefix + "ids"},
			Outputs: []string{output},
			Attributes: []onnx.Attribute{
				onnx.String("mode", "TF"),
				onnx.Int("min_gram_length", int64(min(v.minN, 3))),
				onnx.Int("max_gram_length", int64(v.maxN)),
				onnx.Int("max_skip_count", 0),
				onnx.Ints("ngram_counts", ngramCounts...),
				onnx.Ints("ngram_indexes", indexes...),
				onnx.Ints("pool_int64s", pool...),
			},
		},
	}
}
