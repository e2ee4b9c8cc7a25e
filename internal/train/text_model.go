package train

import (
	"context"
	"fmt"
	"slices"
)

// TextModel is a binary text classifier, such as spam or ham: TF-IDF
// features of word n-grams, character n-grams or both (TextConfig.Analyzer)
// and a logistic regression on them, as scikit-learn's TfidfVectorizer
// (FeatureUnion for both) and LogisticRegression compute them.
// FitText builds one; PredictProba scores a text in Go, and ONNX exports a
// graph that takes the raw text and gives the same probabilities. A fitted
// model is read-only, so its methods are safe for concurrent use.
type TextModel struct {
	blocks    textBlocks
	coef      []float64 // one per vocabulary n-gram, blocks in order
	intercept float64
	stats     TextFitStats
}

// FitText fits a classifier of texts with binary labels (0 or 1, both
// present). It checks ctx while it builds the vocabulary and at every
// optimizer step, and returns ctx's error if it is cancelled.
func FitText(ctx context.Context, cfg TextConfig, texts []string, labels []float64) (*TextModel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkTextLabels(texts, labels); err != nil {
		return nil, err
	}
	blocks, err := fitTextBlocks(ctx, cfg, texts)
	if err != nil {
		return nil, fmt.Errorf("fit text vectorizer: %w", err)
	}
	x := &csrMatrix{numCols: blocks.numFeatures()}
	var row sparseVector
	for i, text := range texts {
		if row, err = blocks.transform(text, row); err != nil {
			return nil, fmt.Errorf("text %d: %w", i, err)
		}
		x.appendRow(row)
	}
	coef, intercept, stats, err := fitLogistic(ctx, x, labels, cfg)
	if err != nil {
		return nil, err
	}
	return &TextModel{blocks: blocks, coef: coef, intercept: intercept, stats: stats}, nil
}

// errNotFitted is returned by the methods of a TextModel that FitText did
// not make.
var errNotFitted = fmt.Errorf("%w: text model is not fitted", ErrInvalidData)

func checkTextLabels(texts []string, labels []float64) error {
	if len(texts) != len(labels) {
		return fmt.Errorf("%w: %d texts but %d labels", ErrInvalidData, len(texts), len(labels))
	}
	var seen [2]bool
	for i, y := range labels {
		if y != 0 && y != 1 {
			return fmt.Errorf("%w: label of text %d is %v, want 0 or 1", ErrInvalidData, i, y)
		}
		seen[int(y)] = true
	}
	if !seen[0] || !seen[1] {
		return fmt.Errorf("%w: labels must include both classes, 0 and 1", ErrInvalidData)
	}
	return nil
}

// PredictProba returns the probability that text belongs to class 1. A text
// with no vocabulary n-gram, the empty text included, gets the probability
// of the intercept alone. Text must be valid UTF-8, or the error wraps
// ErrInvalidData.
func (m *TextModel) PredictProba(text string) (float64, error) {
	logit, err := m.logit(text)
	if err != nil {
		return 0, err
	}
	return sigmoid64(logit), nil
}

// logit returns the raw score of text: its TF-IDF vector dotted with the
// coefficients, plus the intercept.
func (m *TextModel) logit(text string) (float64, error) {
	if m.blocks == nil {
		return 0, errNotFitted
	}
	x, err := m.blocks.transform(text, sparseVector{})
	if err != nil {
		return 0, err
	}
	z := m.intercept
	for k, j := range x.idx {
		z += x.val[k] * m.coef[j]
	}
	return z, nil
}

// Vocabulary returns the model's n-grams in feature order: word n-grams
// with their words separated by a space, then character n-grams with a
// space for the padding at a word's start or end, as scikit-learn spells
// both.
func (m *TextModel) Vocabulary() []string {
	var vocab []string
	for _, v := range m.blocks {
		vocab = append(vocab, v.vocab...)
	}
	return vocab
}

// Coefficients returns the logistic regression weight of each vocabulary
// n-gram, in feature order.
func (m *TextModel) Coefficients() []float64 { return slices.Clone(m.coef) }

// Intercept returns the logistic regression intercept: the logit of a text
// with no vocabulary n-gram.
func (m *TextModel) Intercept() float64 { return m.intercept }

// Stats returns how the fit ended.
func (m *TextModel) Stats() TextFitStats { return m.stats }
