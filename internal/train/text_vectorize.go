package train

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
)

// sparseVector holds the nonzero entries of a vector, by ascending index.
type sparseVector struct {
	idx []int32
	val []float64
}

// textVectorizer turns a text into its TF-IDF vector over a fixed
// vocabulary, the way scikit-learn's TfidfVectorizer does with smooth_idf:
//
//	tf   = count of the n-gram in the text, or 1 + ln(count) if sublinear
//	idf  = ln((1 + n) / (1 + df)) + 1, n training texts, df of them with the n-gram
//	x    = tf × idf, then divided by ‖x‖₂ if l2 (a zero vector stays zero)
type textVectorizer struct {
	tokenizer  textTokenizer
	minN, maxN int
	sublinear  bool
	l2         bool
	// vocab holds the n-gram keys (words joined by ngramSeparator), ordered
	// by length in words and then bytewise; a key's position is its feature
	// index.
	vocab []string
	index map[string]int32
	idf   []float64
}

// transform returns text's TF-IDF vector. It reuses dst's storage.
func (v *textVectorizer) transform(text string, dst sparseVector) (sparseVector, error) {
	words, err := v.tokenizer.words(text)
	if err != nil {
		return dst, err
	}
	hits := dst.idx[:0]
	forEachNGram(words, v.minN, v.maxN, nil, func(key []byte) {
		if j, ok := v.index[string(key)]; ok { // no allocation: the compiler looks up []byte keys in place
			hits = append(hits, j)
		}
	})
	slices.Sort(hits)
	// Compact the sorted hits in place into (index, value) pairs: pair g is
	// written only after hit g+1 and earlier have been read.
	dst.idx, dst.val = hits[:0], dst.val[:0]
	for i := 0; i < len(hits); {
		j, count := hits[i], 0
		for ; i < len(hits) && hits[i] == j; i++ {
			count++
		}
		tf := float64(count)
		if v.sublinear {
			tf = 1 + math.Log(tf)
		}
		dst.idx = append(dst.idx, j)
		dst.val = append(dst.val, tf*v.idf[j])
	}
	if v.l2 {
		if norm := math.Sqrt(dot(dst.val, dst.val)); norm > 0 {
			for k := range dst.val {
				dst.val[k] /= norm
			}
		}
	}
	return dst, nil
}

// ngramStats counts, over the training texts, in how many texts an n-gram
// occurs (df) and how often in all (total).
type ngramStats struct {
	df, total int
}

// fitTextVectorizer learns the vocabulary and the idf weights from texts.
func fitTextVectorizer(ctx context.Context, cfg TextConfig, texts []string) (*textVectorizer, error) {
	v := &textVectorizer{
		tokenizer: textTokenizer{lowercase: cfg.Lowercase, minChars: cfg.MinTokenChars},
		minN:      cfg.MinNGram,
		maxN:      cfg.MaxNGram,
		sublinear: cfg.SublinearTF,
		l2:        cfg.L2Normalize,
	}
	stats := map[string]ngramStats{}
	inText := map[string]int{}
	var buf []byte
	for i, text := range texts {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("build vocabulary: %w", err)
			}
		}
		words, err := v.tokenizer.words(text)
		if err != nil {
			return nil, fmt.Errorf("text %d: %w", i, err)
		}
		clear(inText)
		buf = forEachNGram(words, v.minN, v.maxN, buf, func(key []byte) { inText[string(key)]++ })
		for key, count := range inText {
			s := stats[key]
			s.df++
			s.total += count
			stats[key] = s
		}
	}

	type candidate struct {
		key   string
		stats ngramStats
	}
	var kept []candidate
	for key, s := range stats {
		if s.df >= cfg.MinDF {
			kept = append(kept, candidate{key, s})
		}
	}
	if len(kept) == 0 {
		return nil, fmt.Errorf("%w: no word n-gram occurs in %d or more of the %d texts", ErrInvalidData, cfg.MinDF, len(texts))
	}
	if len(kept) > cfg.MaxFeatures {
		// The most frequent, ties broken alphabetically, as scikit-learn's
		// max_features does.
		slices.SortFunc(kept, func(a, b candidate) int {
			return cmp.Or(cmp.Compare(b.stats.total, a.stats.total), strings.Compare(a.key, b.key))
		})
		kept = kept[:cfg.MaxFeatures]
	}
	slices.SortFunc(kept, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(ngramLength(a.key), ngramLength(b.key)), strings.Compare(a.key, b.key))
	})

	n := float64(len(texts))
	v.vocab = make([]string, len(kept))
	v.idf = make([]float64, len(kept))
	for j, c := range kept {
		v.vocab[j] = c.key
		v.idf[j] = math.Log((1+n)/(1+float64(c.stats.df))) + 1
	}
	v.buildIndex()
	return v, nil
}

func (v *textVectorizer) buildIndex() {
	v.index = make(map[string]int32, len(v.vocab))
	for j, key := range v.vocab {
		v.index[key] = int32(j)
	}
}

// ngramLength returns the number of words in an n-gram key.
func ngramLength(key string) int {
	return strings.Count(key, ngramSeparator) + 1
}
