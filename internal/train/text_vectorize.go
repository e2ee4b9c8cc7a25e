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
	tokenizer textTokenizer
	// chars is true for character n-grams (forEachCharNGram), false for
	// word n-grams (forEachNGram).
	chars      bool
	minN, maxN int
	sublinear  bool
	l2         bool
	// vocab holds the n-gram keys (words joined by ngramSeparator, or code
	// points with the padding spaces), ordered by length in tokens and then
	// bytewise; a key's position is its feature index.
	vocab []string
	index map[string]int32
	idf   []float64
}

// forEachKey calls fn with the key of every n-gram of text, as
// forEachNGram or forEachCharNGram do.
func (v *textVectorizer) forEachKey(text string, buf []byte, fn func(key []byte)) ([]byte, error) {
	if v.chars {
		words, err := v.tokenizer.charWords(text)
		if err != nil {
			return buf, err
		}
		return forEachCharNGram(words, v.minN, v.maxN, buf, fn), nil
	}
	words, err := v.tokenizer.words(text)
	if err != nil {
		return buf, err
	}
	return forEachNGram(words, v.minN, v.maxN, buf, fn), nil
}

// keyLength returns the number of tokens, words or code points, of a key.
func (v *textVectorizer) keyLength(key string) int {
	if v.chars {
		return charKeyLength(key)
	}
	return ngramLength(key)
}

// transform returns text's TF-IDF vector. It reuses dst's storage.
func (v *textVectorizer) transform(text string, dst sparseVector) (sparseVector, error) {
	hits := dst.idx[:0]
	if _, err := v.forEachKey(text, nil, func(key []byte) {
		if j, ok := v.index[string(key)]; ok { // no allocation: the compiler looks up []byte keys in place
			hits = append(hits, j)
		}
	}); err != nil {
		return dst, err
	}
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

// vocabularyLimits bound a vectorizer's fit: the n-grams a vocabulary
// without MaxFeatures may keep, and the distinct n-grams that may be
// counted.
type vocabularyLimits struct{ kept, counted int }

// defaultVocabularyLimits are the limits of every fit; tests lower them.
var defaultVocabularyLimits = vocabularyLimits{kept: MaxTextVocabulary, counted: maxTextNGramsCounted}

// fitTextVectorizer learns the vocabulary and the idf weights of word
// n-grams, or of character n-grams if chars, from texts.
func fitTextVectorizer(ctx context.Context, cfg TextConfig, chars bool, texts []string) (*textVectorizer, error) {
	return fitTextVectorizerWithin(ctx, cfg, chars, texts, defaultVocabularyLimits)
}

func fitTextVectorizerWithin(ctx context.Context, cfg TextConfig, chars bool, texts []string, limits vocabularyLimits) (*textVectorizer, error) {
	v := &textVectorizer{
		tokenizer: textTokenizer{lowercase: cfg.Lowercase, minChars: cfg.MinTokenChars},
		chars:     chars,
		minN:      cfg.MinNGram,
		maxN:      cfg.MaxNGram,
		sublinear: cfg.SublinearTF,
		l2:        cfg.L2Normalize,
	}
	if chars {
		v.minN, v.maxN = cfg.CharMinNGram, cfg.CharMaxNGram
	}
	// Past countLimit distinct n-grams the fit cannot succeed (every n-gram
	// counted is kept when MinDF is 1 and MaxFeatures 0) or would hold too
	// much memory: stop counting there.
	countLimit := limits.counted
	if cfg.MinDF == 1 && cfg.MaxFeatures == 0 {
		countLimit = limits.kept
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
		clear(inText)
		var err error
		if buf, err = v.forEachKey(text, buf, func(key []byte) { inText[string(key)]++ }); err != nil {
			return nil, fmt.Errorf("text %d: %w", i, err)
		}
		for key, count := range inText {
			s := stats[key]
			s.df++
			s.total += count
			stats[key] = s
		}
		if len(stats) > countLimit {
			return nil, v.tooLarge(fmt.Sprintf("the first %d of %d texts hold more than %d distinct %s n-grams", i+1, len(texts), countLimit, v.unit()), limits)
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
		return nil, fmt.Errorf("%w: no %s n-gram occurs in %d or more of the %d texts", ErrInvalidData, v.unit(), cfg.MinDF, len(texts))
	}
	if cfg.MaxFeatures == 0 && len(kept) > limits.kept {
		return nil, v.tooLarge(fmt.Sprintf("%d %s n-grams occur in %d or more of the %d texts", len(kept), v.unit(), cfg.MinDF, len(texts)), limits)
	}
	if cfg.MaxFeatures > 0 && len(kept) > cfg.MaxFeatures {
		// The most frequent, ties broken alphabetically, as scikit-learn's
		// max_features does.
		slices.SortFunc(kept, func(a, b candidate) int {
			return cmp.Or(cmp.Compare(b.stats.total, a.stats.total), strings.Compare(a.key, b.key))
		})
		kept = kept[:cfg.MaxFeatures]
	}
	slices.SortFunc(kept, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(v.keyLength(a.key), v.keyLength(b.key)), strings.Compare(a.key, b.key))
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

// tooLarge returns the error of a vocabulary that would exceed its bound;
// found says by how much.
func (v *textVectorizer) tooLarge(found string, limits vocabularyLimits) error {
	return fmt.Errorf("%w: %s, and a text model keeps at most %d %s n-grams; "+
		"cap the vocabulary with max_features (params.max_features), or prune it with min_df (params.min_df)",
		ErrVocabularyTooLarge, found, limits.kept, v.unit())
}

// unit names what the n-grams are made of.
func (v *textVectorizer) unit() string {
	if v.chars {
		return "character"
	}
	return "word"
}

// ngramLength returns the number of words in an n-gram key.
func ngramLength(key string) int {
	return strings.Count(key, ngramSeparator) + 1
}

// textBlocks are the TF-IDF blocks of a text model, their features laid
// side by side in this order.
type textBlocks []*textVectorizer

// fitTextBlocks fits the blocks cfg.Analyzer asks for: words, then
// characters.
func fitTextBlocks(ctx context.Context, cfg TextConfig, texts []string) (textBlocks, error) {
	var blocks textBlocks
	for _, chars := range []bool{false, true} {
		if (!chars && !cfg.Analyzer.words()) || (chars && !cfg.Analyzer.chars()) {
			continue
		}
		v, err := fitTextVectorizer(ctx, cfg, chars, texts)
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, v)
	}
	return blocks, nil
}

// numFeatures returns the total vocabulary size.
func (b textBlocks) numFeatures() int {
	n := 0
	for _, v := range b {
		n += len(v.vocab)
	}
	return n
}

// transform returns text's features: each block's TF-IDF vector, shifted
// past the blocks before it. It may reuse dst's storage.
func (b textBlocks) transform(text string, dst sparseVector) (sparseVector, error) {
	if len(b) == 1 {
		return b[0].transform(text, dst)
	}
	var out sparseVector
	offset := int32(0)
	for _, v := range b {
		var err error
		if dst, err = v.transform(text, dst); err != nil {
			return dst, err
		}
		for k, j := range dst.idx {
			out.idx = append(out.idx, offset+j)
			out.val = append(out.val, dst.val[k])
		}
		offset += int32(len(v.vocab))
	}
	return out, nil
}
