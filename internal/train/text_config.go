package train

import (
	"errors"
	"fmt"
	"math"
)

// MaxTextVocabulary is the most n-grams a text model's vocabulary may
// hold, per block (words, characters). MaxFeatures may not exceed it, and a
// fit without MaxFeatures whose vocabulary would is refused with
// ErrVocabularyTooLarge rather than capped, so that a model is never
// silently fitted on other features than scikit-learn's. The exported
// graph's TfIdfVectorizer gives a dense row of this many floats per text,
// so scoring takes time and memory in proportion: at the bound, 8 MB per
// text for each of the few tensors of that width, which a batch of 16
// already makes hundreds of megabytes. The ONNX model itself, about 22
// bytes an n-gram (SpamAssassin's 55,909 words: 1.2 MB), stays under
// 50 MB, far below the catalog's MaxArtifactSize.
const MaxTextVocabulary = 2_000_000

// maxTextNGramsCounted bounds the distinct n-grams counted while the
// vocabulary is learnt, before MinDF and MaxFeatures prune them. A test
// process counting 2,000,001 distinct words peaked at 570 MB of RSS, so
// counting stops, with ErrVocabularyTooLarge, at about 1 GB.
const maxTextNGramsCounted = 2 * MaxTextVocabulary

// ErrVocabularyTooLarge is returned by FitText when the texts hold more
// distinct n-grams than a text model may: more than MaxTextVocabulary kept
// with no MaxFeatures, or more than maxTextNGramsCounted counted.
var ErrVocabularyTooLarge = errors.New("text vocabulary too large")

// Limits checked by TextConfig.Validate.
const (
	maxTextNGram       = 5 // longer word n-grams are too sparse to help
	maxTextIterations  = 100_000
	maxTextTokenLength = 1_000 // mincharnum beyond any real word
	maxTextCharNGram   = 10    // char_wb n-grams longer than this mostly repeat whole words
)

// Lowercase chooses how texts are lowercased before they are split into
// words.
type Lowercase int

const (
	// LowercaseUnicode lowercases every cased letter with the simple Unicode
	// case mapping, as scikit-learn's str.lower does but for the few letters
	// that lowercase to two (İ). The exported StringNormalizer works in the
	// C.UTF-8 locale, which ONNX Runtime loads anew on every run: about
	// 0.6 ms per batch, whatever its size.
	LowercaseUnicode Lowercase = iota + 1
	// LowercaseASCII lowercases A to Z only, so "ÜBER" becomes "Über". Its
	// StringNormalizer works in the C locale, which costs nothing to load,
	// and the result does not depend on the C library's Unicode tables.
	LowercaseASCII
)

// String returns the mode's name.
func (l Lowercase) String() string {
	switch l {
	case LowercaseUnicode:
		return "unicode"
	case LowercaseASCII:
		return "ascii"
	}
	return fmt.Sprintf("Lowercase(%d)", int(l))
}

// Analyzer chooses the n-grams a text model's TF-IDF features count.
type Analyzer int

const (
	// AnalyzerWord counts word n-grams (MinNGram to MaxNGram words), as
	// scikit-learn's TfidfVectorizer(analyzer="word") does. It is the zero
	// value, so configurations written before character n-grams existed
	// keep their meaning.
	AnalyzerWord Analyzer = iota
	// AnalyzerChar counts character n-grams inside words padded with a
	// space (CharMinNGram to CharMaxNGram characters), as
	// TfidfVectorizer(analyzer="char_wb") does; see forEachCharNGram.
	AnalyzerChar
	// AnalyzerWordChar concatenates the two blocks, words first, each
	// TF-IDF weighted and normalised on its own, as scikit-learn's
	// FeatureUnion of the two vectorizers does.
	AnalyzerWordChar
)

// String returns the analyzer's name, as the trainer's options spell it.
func (a Analyzer) String() string {
	switch a {
	case AnalyzerWord:
		return "word"
	case AnalyzerChar:
		return "char"
	case AnalyzerWordChar:
		return "word+char"
	}
	return fmt.Sprintf("Analyzer(%d)", int(a))
}

// MarshalText returns the analyzer's name.
func (a Analyzer) MarshalText() ([]byte, error) {
	if !a.words() && !a.chars() {
		return nil, fmt.Errorf("unknown analyzer %v", a)
	}
	return []byte(a.String()), nil
}

// UnmarshalText sets the analyzer from its name: word, char or word+char.
func (a *Analyzer) UnmarshalText(text []byte) error {
	for _, known := range []Analyzer{AnalyzerWord, AnalyzerChar, AnalyzerWordChar} {
		if string(text) == known.String() {
			*a = known
			return nil
		}
	}
	return fmt.Errorf("analyzer: %q is not one of word, char, word+char", text)
}

// words reports whether the analyzer counts word n-grams.
func (a Analyzer) words() bool { return a == AnalyzerWord || a == AnalyzerWordChar }

// chars reports whether the analyzer counts character n-grams.
func (a Analyzer) chars() bool { return a == AnalyzerChar || a == AnalyzerWordChar }

// TextConfig holds the parameters of FitText: how texts become TF-IDF
// vectors, and how the logistic regression on them is fitted. Start from
// DefaultTextConfig.
type TextConfig struct {
	// Lowercase chooses how texts are lowercased.
	Lowercase Lowercase
	// Analyzer chooses word n-grams, character n-grams or both.
	Analyzer Analyzer
	// MinNGram and MaxNGram bound the length, in words, of the n-grams the
	// vocabulary holds: 1 and 2 mean unigrams and bigrams.
	MinNGram, MaxNGram int
	// MinTokenChars drops words shorter than this many characters (Unicode
	// code points) before n-grams are formed. 2, as in scikit-learn's default
	// token pattern (?u)\b\w\w+\b, drops "a" and "I".
	MinTokenChars int
	// CharMinNGram and CharMaxNGram bound the length, in characters
	// (Unicode code points) and counting the padding spaces, of the
	// character n-grams of AnalyzerChar and AnalyzerWordChar. The minimum
	// is at least 2: scikit-learn counts the 1-gram " " twice for every
	// word, where the exported graph sees one space between two words (see
	// charNodes).
	CharMinNGram, CharMaxNGram int
	// MinDF keeps only n-grams that appear in at least this many training
	// texts.
	MinDF int
	// MaxFeatures caps the vocabulary: the n-grams that occur most often in
	// the training texts are kept, ties broken alphabetically. 0 keeps every
	// n-gram that MinDF does, up to MaxTextVocabulary (scikit-learn's
	// max_features=None). With AnalyzerWordChar, MinDF and MaxFeatures
	// apply to each block.
	MaxFeatures int
	// SublinearTF replaces a term count c by 1 + ln(c).
	SublinearTF bool
	// L2Normalize scales each text's TF-IDF vector to unit Euclidean length.
	L2Normalize bool
	// C is the inverse L2 regularisation strength of the logistic regression:
	// the fit minimises (sum of log losses) + ‖w‖²/(2C), the objective of
	// scikit-learn's LogisticRegression with its lbfgs solver. The intercept
	// is not penalised.
	C float64
	// MaxIterations caps the L-BFGS iterations.
	MaxIterations int
	// Tolerance stops L-BFGS once no component of the gradient of the
	// objective exceeds it in absolute value.
	Tolerance float64
	// ClassWeight weighs each text's log loss by its class, as
	// LogisticRegression's class_weight does.
	ClassWeight ClassWeight
	// Progress, if not nil, is called after each L-BFGS iteration with the
	// iterations done and MaxIterations, from the goroutine that called
	// FitText. A fit that converges early stops reporting before done
	// reaches total. It is not checked by Validate.
	Progress func(done, total int)
}

// DefaultTextConfig returns scikit-learn's defaults of TfidfVectorizer and
// LogisticRegression: Unicode lowercasing; every word of at least two
// characters (token_pattern (?u)\b\w\w+\b) that the training texts hold,
// as unigrams (ngram_range (1, 1), min_df 1, max_features None); raw term
// counts, smooth idf and L2-normalised rows; C 1, 100 iterations,
// tolerance 1e-4. Character n-grams, when an analyzer asks for them, are
// of 2 to 4 characters: scikit-learn's (1, 1) would count single letters.
func DefaultTextConfig() TextConfig {
	return TextConfig{
		Lowercase:     LowercaseUnicode,
		Analyzer:      AnalyzerWord,
		MinNGram:      1,
		MaxNGram:      1,
		MinTokenChars: 2,
		CharMinNGram:  2,
		CharMaxNGram:  4,
		MinDF:         1,
		MaxFeatures:   0,
		SublinearTF:   false,
		L2Normalize:   true,
		C:             1,
		MaxIterations: 100,
		Tolerance:     1e-4,
	}
}

// Validate reports every parameter that is out of range, joined into one
// error that wraps ErrInvalidConfig.
func (c TextConfig) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...)))
		}
	}
	check(c.Lowercase == LowercaseUnicode || c.Lowercase == LowercaseASCII, "unknown lowercase mode %v", c.Lowercase)
	check(c.Analyzer.words() || c.Analyzer.chars(), "unknown analyzer %v", c.Analyzer)
	if c.Analyzer.chars() {
		check(c.CharMinNGram >= 2 && c.CharMinNGram <= maxTextCharNGram, "CharMinNGram %d not in [2, %d]", c.CharMinNGram, maxTextCharNGram)
		check(c.CharMaxNGram >= c.CharMinNGram && c.CharMaxNGram <= maxTextCharNGram, "CharMaxNGram %d not in [CharMinNGram, %d]", c.CharMaxNGram, maxTextCharNGram)
	}
	check(c.MinNGram >= 1 && c.MinNGram <= maxTextNGram, "MinNGram %d not in [1, %d]", c.MinNGram, maxTextNGram)
	check(c.MaxNGram >= c.MinNGram && c.MaxNGram <= maxTextNGram, "MaxNGram %d not in [MinNGram, %d]", c.MaxNGram, maxTextNGram)
	check(c.MinTokenChars >= 1 && c.MinTokenChars <= maxTextTokenLength, "MinTokenChars %d not in [1, %d]", c.MinTokenChars, maxTextTokenLength)
	check(c.MinDF >= 1, "MinDF %d must be at least 1", c.MinDF)
	check(c.MaxFeatures >= 0 && c.MaxFeatures <= MaxTextVocabulary, "MaxFeatures %d not in [0 (no cap), %d]", c.MaxFeatures, MaxTextVocabulary)
	check(c.C > 0 && !math.IsInf(c.C, 1), "C %v must be finite and > 0", c.C)
	check(c.MaxIterations >= 1 && c.MaxIterations <= maxTextIterations, "MaxIterations %d not in [1, %d]", c.MaxIterations, maxTextIterations)
	check(c.Tolerance > 0 && !math.IsInf(c.Tolerance, 1), "Tolerance %v must be finite and > 0", c.Tolerance)
	errs = append(errs, c.ClassWeight.validate(2)...)
	return errors.Join(errs...)
}
