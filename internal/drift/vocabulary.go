package drift

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/streamscore/streamscore/internal/textword"
)

// A text feature's vocabulary is kept as a Bloom filter of its words, so
// that a profile stays small whatever the vocabulary's size, and a live
// word is looked up without allocating. Its encoding, the Vocabulary of a
// FeatureProfile, is
//
//	v1:<lowercase>:<min chars>:<k>:<bits>
//
// lowercase is "unicode" or "ascii" and min chars the fewest code points
// a word has: how the model's tokenizer splits a text into words
// (internal/textword's rules, as internal/train applies them). bits is the
// filter, standard base64 of its bytes (a power of two of them, bit j of
// the filter being bit j%8 of byte j/8); k is how many of its bits a word
// sets. A word's bits are h1 + i h2 (i < k) modulo the filter's size,
// h1 and h2 the low and high halves (h2 made odd) of the 64-bit FNV-1a
// hash of the lowercased word's UTF-8 bytes.
//
// The filter has 16 bits a word (k 8 or less), rounded up to a power of
// two, between 1 Ki and MaxVocabularyBits: a live word outside the
// vocabulary passes as in it about 1 time in 2,000, and, at the most
// words a filter takes, MaxVocabularyWords, 1 in 50. A larger vocabulary
// is not kept: the profile then has no vocabulary and the feature no
// out-of-vocabulary rate.

const (
	// MaxVocabularyBits bounds a vocabulary's filter: 64 KiB, 87 KiB of
	// base64.
	MaxVocabularyBits = 1 << 19
	// MaxVocabularyWords is the largest vocabulary kept: 8 bits a word.
	MaxVocabularyWords = MaxVocabularyBits / 8
	minVocabularyBits  = 1 << 10
	bitsPerWord        = 16
	maxWordHashes      = 8
)

// ErrBadVocabulary marks a vocabulary encoding that cannot be read.
var ErrBadVocabulary = errors.New("bad vocabulary encoding")

// TextVocabulary is a text model's vocabulary and how its tokenizer splits
// texts into words: what the reference of a text feature needs to count
// words outside the vocabulary.
type TextVocabulary struct {
	// Words are the vocabulary's words: those of its word n-grams.
	Words []string
	// ASCII is set when the tokenizer lowercases A to Z only; otherwise
	// it lowercases every code point (unicode.ToLower).
	ASCII bool
	// MinChars is the fewest code points a word has; shorter runs of word
	// runes are no words.
	MinChars int
}

// vocabulary is a decoded vocabulary: the filter and the tokenizer.
type vocabulary struct {
	ascii    bool
	minChars int
	k        uint32
	mask     uint32
	bits     []uint64
}

// newVocabulary builds the filter of v's words; nil when there are none
// or more than MaxVocabularyWords.
func newVocabulary(v TextVocabulary) *vocabulary {
	n := len(v.Words)
	if n == 0 || n > MaxVocabularyWords {
		return nil
	}
	m := uint32(minVocabularyBits)
	for m < MaxVocabularyBits && int(m) < bitsPerWord*n {
		m <<= 1
	}
	k := uint32(math.Round(float64(m) / float64(n) * math.Ln2))
	voc := &vocabulary{ascii: v.ASCII, minChars: max(v.MinChars, 1), k: min(max(k, 1), maxWordHashes), mask: m - 1, bits: make([]uint64, m/64)}
	for _, w := range v.Words {
		voc.add(hashWord(w))
	}
	return voc
}

// hashWord is the FNV-1a hash of a word already lowercased.
func hashWord(w string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(w); i++ {
		h = (h ^ uint64(w[i])) * fnvPrime
	}
	return h
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func (v *vocabulary) add(h uint64) {
	h1, h2 := uint32(h), uint32(h>>32)|1
	for i := range v.k {
		b := (h1 + i*h2) & v.mask
		v.bits[b/64] |= 1 << (b % 64)
	}
}

func (v *vocabulary) has(h uint64) bool {
	h1, h2 := uint32(h), uint32(h>>32)|1
	for i := range v.k {
		b := (h1 + i*h2) & v.mask
		if v.bits[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

// count counts text's words and those outside the vocabulary, splitting
// and lowercasing as the model's tokenizer does, without allocating:
// each word is hashed as its lowercased runes are read.
func (v *vocabulary) count(text string) (words, outside int64) {
	h, runes := uint64(fnvOffset), 0
	end := func() {
		if runes >= v.minChars {
			words++
			if !v.has(h) {
				outside++
			}
		}
		h, runes = fnvOffset, 0
	}
	var buf [utf8.UTFMax]byte
	for _, r := range text {
		if v.ascii {
			r = textword.LowerASCII(r)
		} else {
			r = unicode.ToLower(r)
		}
		if !textword.IsWordRune(r) {
			end()
			continue
		}
		runes++
		n := utf8.EncodeRune(buf[:], r)
		for _, c := range buf[:n] {
			h = (h ^ uint64(c)) * fnvPrime
		}
	}
	end()
	return words, outside
}

// encode is the vocabulary's Vocabulary string.
func (v *vocabulary) encode() string {
	raw := make([]byte, len(v.bits)*8)
	for i, w := range v.bits {
		binary.LittleEndian.PutUint64(raw[i*8:], w)
	}
	lower := "unicode"
	if v.ascii {
		lower = "ascii"
	}
	return fmt.Sprintf("v1:%s:%d:%d:%s", lower, v.minChars, v.k, base64.StdEncoding.EncodeToString(raw))
}

// decodeVocabulary reads a Vocabulary string, refusing one that breaks
// any of its bounds: a profile comes from the catalog, which anyone able
// to write to its topic can write to.
func decodeVocabulary(s string) (*vocabulary, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 5 || parts[0] != "v1" {
		return nil, fmt.Errorf("%w: want v1:<lowercase>:<min chars>:<k>:<bits>", ErrBadVocabulary)
	}
	v := &vocabulary{}
	switch parts[1] {
	case "unicode":
	case "ascii":
		v.ascii = true
	default:
		return nil, fmt.Errorf("%w: lowercase %q", ErrBadVocabulary, parts[1])
	}
	minChars, err := strconv.Atoi(parts[2])
	if err != nil || minChars < 1 || minChars > 1000 {
		return nil, fmt.Errorf("%w: min chars %q", ErrBadVocabulary, parts[2])
	}
	k, err := strconv.Atoi(parts[3])
	if err != nil || k < 1 || k > maxWordHashes {
		return nil, fmt.Errorf("%w: k %q", ErrBadVocabulary, parts[3])
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadVocabulary, err)
	}
	m := len(raw) * 8
	if m < minVocabularyBits || m > MaxVocabularyBits || m&(m-1) != 0 {
		return nil, fmt.Errorf("%w: %d bits, not a power of two in [%d, %d]", ErrBadVocabulary, m, minVocabularyBits, MaxVocabularyBits)
	}
	v.minChars, v.k, v.mask = minChars, uint32(k), uint32(m-1)
	v.bits = make([]uint64, m/64)
	for i := range v.bits {
		v.bits[i] = binary.LittleEndian.Uint64(raw[i*8:])
	}
	return v, nil
}
