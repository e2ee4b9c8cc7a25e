package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

// TestFitTextVocabularyAndWeights checks the vocabulary, the idf weights and
// a TF-IDF vector against values worked out by hand with scikit-learn's
// formulas.
func TestFitTextVocabularyAndWeights(t *testing.T) {
	cfg := DefaultTextConfig()
	cfg.MinTokenChars, cfg.MaxNGram, cfg.SublinearTF = 1, 2, true
	texts := []string{"free prize", "Free meeting", "meeting notes"}
	m := fitTextForTest(t, cfg, texts, []float64{1, 1, 0})

	wantVocab := []string{"free", "meeting", "notes", "prize", "free meeting", "free prize", "meeting notes"}
	if got := m.Vocabulary(); !slices.Equal(got, wantVocab) {
		t.Fatalf("Vocabulary() = %q, want %q", got, wantVocab)
	}
	idf2, idf1 := math.Log(4.0/3)+1, math.Log(4.0/2)+1 // df 2 and df 1 of n = 3
	wantIDF := []float64{idf2, idf2, idf1, idf1, idf1, idf1, idf1}
	for j, want := range wantIDF {
		if got := m.blocks[0].idf[j]; math.Abs(got-want) > 1e-12 {
			t.Errorf("idf of %q = %v, want %v", wantVocab[j], got, want)
		}
	}

	// "free" twice, "prize" and "free prize" once; "free free" is unknown.
	x, err := m.blocks.transform("FREE free, prize!", sparseVector{})
	if err != nil {
		t.Fatal(err)
	}
	raw := []float64{(1 + math.Log(2)) * idf2, idf1, idf1}
	norm := math.Sqrt(raw[0]*raw[0] + raw[1]*raw[1] + raw[2]*raw[2])
	if !slices.Equal(x.idx, []int32{0, 3, 5}) {
		t.Fatalf("features %v, want [0 3 5] (free, prize, free prize)", x.idx)
	}
	for k, v := range raw {
		if want := v / norm; math.Abs(x.val[k]-want) > 1e-12 {
			t.Errorf("value of feature %d = %v, want %v", x.idx[k], x.val[k], want)
		}
	}
}

func TestFitTextTFOptions(t *testing.T) {
	texts := []string{"spam spam spam ham", "ham eggs"}
	tests := []struct {
		name        string
		sublinear   bool
		wantSpamVal float64 // value of "spam" in texts[0], not normalised
	}{
		{"raw counts", false, 3 * (math.Log(3.0/2) + 1)},
		{"sublinear", true, (1 + math.Log(3)) * (math.Log(3.0/2) + 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultTextConfig()
			cfg.MinDF, cfg.MaxNGram, cfg.SublinearTF, cfg.L2Normalize = 1, 1, tt.sublinear, false
			m := fitTextForTest(t, cfg, texts, []float64{1, 0})
			x, err := m.blocks.transform(texts[0], sparseVector{})
			if err != nil {
				t.Fatal(err)
			}
			spam := slices.Index(m.Vocabulary(), "spam")
			k := slices.Index(x.idx, int32(spam))
			if k < 0 || math.Abs(x.val[k]-tt.wantSpamVal) > 1e-12 {
				t.Errorf("spam feature = %v (present %v), want %v", x.val, k >= 0, tt.wantSpamVal)
			}
		})
	}
}

// TestFitTextMaxFeatures checks that the vocabulary keeps the n-grams with
// the highest total count, ties broken alphabetically.
func TestFitTextMaxFeatures(t *testing.T) {
	cfg := DefaultTextConfig()
	cfg.MinDF, cfg.MaxNGram, cfg.MaxFeatures = 1, 1, 3
	texts := []string{"dd dd dd cc cc", "bb aa ee", "aa bb ee"}
	// Totals: dd 3, cc 2, aa 2, bb 2, ee 2. dd first, then aa and bb.
	m := fitTextForTest(t, cfg, texts, []float64{1, 0, 0})
	if got, want := m.Vocabulary(), []string{"aa", "bb", "dd"}; !slices.Equal(got, want) {
		t.Errorf("Vocabulary() = %q, want %q", got, want)
	}
}

func TestFitTextMinDF(t *testing.T) {
	cfg := DefaultTextConfig()
	cfg.MinDF, cfg.MaxNGram = 2, 2
	texts := []string{"free prize now", "free prize", "meeting now", "lunch"}
	m := fitTextForTest(t, cfg, texts, []float64{1, 1, 0, 0})
	if got, want := m.Vocabulary(), []string{"free", "now", "prize", "free prize"}; !slices.Equal(got, want) {
		t.Errorf("Vocabulary() = %q, want %q", got, want)
	}
}

// TestFitTextReachesOptimum checks that the fit stops where the gradient of
// the objective is within the tolerance, and that it learns the obvious.
func TestFitTextReachesOptimum(t *testing.T) {
	texts, labels := syntheticTexts(2000, 1)
	cfg := DefaultTextConfig()
	m := fitTextForTest(t, cfg, texts, labels)
	if s := m.Stats(); !s.Converged || s.Iterations < 2 {
		t.Fatalf("Stats() = %+v, want a converged fit", s)
	}

	x := &csrMatrix{numCols: len(m.coef)}
	for _, text := range texts {
		row, err := m.blocks.transform(text, sparseVector{})
		if err != nil {
			t.Fatal(err)
		}
		x.appendRow(row)
	}
	obj := newLogisticObjective(x, labels, cfg.C, nil)
	params := append(m.Coefficients(), m.Intercept())
	grad := make([]float64, len(params))
	obj.gradient(grad, params)
	worst := 0.0
	for _, g := range grad {
		worst = max(worst, math.Abs(g))
	}
	// The line search may stop a little past the threshold's iteration, so
	// allow a margin; an unconverged fit is orders of magnitude off.
	if worst > 10*cfg.Tolerance {
		t.Errorf("gradient infinity norm at the fit = %g, want about %g or less", worst, cfg.Tolerance)
	}
	if got := obj.value(params); math.Abs(got-m.Stats().Loss) > 1e-9*math.Abs(got) {
		t.Errorf("Stats().Loss = %v, objective at the fit = %v", m.Stats().Loss, got)
	}

	spam, err := m.PredictProba("claim your free prize now")
	if err != nil {
		t.Fatal(err)
	}
	ham, err := m.PredictProba("review my pull request before the meeting")
	if err != nil {
		t.Fatal(err)
	}
	if spam < 0.6 || ham > 0.4 {
		t.Errorf("P(spam) = %.3f for a spam text and %.3f for a ham one", spam, ham)
	}
}

func TestFitTextIsDeterministic(t *testing.T) {
	texts, labels := syntheticTexts(500, 2)
	a := fitTextForTest(t, DefaultTextConfig(), texts, labels)
	b := fitTextForTest(t, DefaultTextConfig(), texts, labels)
	if !slices.Equal(a.Vocabulary(), b.Vocabulary()) || !slices.Equal(a.Coefficients(), b.Coefficients()) || a.Intercept() != b.Intercept() {
		t.Error("two fits on the same data differ")
	}
}

// TestTextModelPredictsInterceptWithoutKnownWords checks the texts that
// have no vocabulary n-gram: their probability is the intercept's.
func TestTextModelPredictsInterceptWithoutKnownWords(t *testing.T) {
	texts, labels := syntheticTexts(500, 3)
	m := fitTextForTest(t, DefaultTextConfig(), texts, labels)
	want := sigmoid64(m.Intercept())
	for _, text := range []string{"", "   ", "?!", "zzzz qqqq", "a b c", "💰"} {
		got, err := m.PredictProba(text)
		if err != nil {
			t.Fatalf("PredictProba(%q): %v", text, err)
		}
		if got != want {
			t.Errorf("PredictProba(%q) = %v, want %v from the intercept", text, got, want)
		}
	}
}

func TestTextModelRejectsInvalidUTF8(t *testing.T) {
	texts, labels := syntheticTexts(200, 4)
	m := fitTextForTest(t, DefaultTextConfig(), texts, labels)
	if _, err := m.PredictProba("free \xc3\x28 prize"); !errors.Is(err, ErrInvalidData) {
		t.Errorf("PredictProba(invalid UTF-8) error = %v, want ErrInvalidData", err)
	}
}

func TestFitTextErrors(t *testing.T) {
	texts, labels := syntheticTexts(50, 5)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	badConfig := DefaultTextConfig()
	badConfig.C = 0
	highMinDF := DefaultTextConfig()
	highMinDF.MinDF = 51

	tests := []struct {
		name    string
		ctx     context.Context
		cfg     TextConfig
		texts   []string
		labels  []float64
		wantErr error
		wantMsg string
	}{
		{"invalid config", context.Background(), badConfig, texts, labels, ErrInvalidConfig, "C 0"},
		{"length mismatch", context.Background(), DefaultTextConfig(), texts, labels[1:], ErrInvalidData, "50 texts but 49 labels"},
		{"label not binary", context.Background(), DefaultTextConfig(), texts[:2], []float64{0, 2}, ErrInvalidData, "label of text 1 is 2"},
		{"one class", context.Background(), DefaultTextConfig(), texts[:2], []float64{1, 1}, ErrInvalidData, "both classes"},
		{"no texts", context.Background(), DefaultTextConfig(), nil, nil, ErrInvalidData, "both classes"},
		{"invalid UTF-8", context.Background(), DefaultTextConfig(), []string{"ok ok", "bad \xff"}, []float64{0, 1}, ErrInvalidData, "text 1"},
		{"no n-gram reaches MinDF", context.Background(), highMinDF, texts, labels, ErrInvalidData, "no word n-gram occurs in 51 or more of the 50 texts"},
		{"cancelled", cancelled, DefaultTextConfig(), texts, labels, context.Canceled, "build vocabulary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := FitText(tt.ctx, tt.cfg, tt.texts, tt.labels)
			if m != nil || !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("FitText = %v, %v; want an error wrapping %v containing %q", m, err, tt.wantErr, tt.wantMsg)
			}
		})
	}
}

// TestFitTextStopsWhenCancelledDuringOptimization cancels the context from
// inside the optimizer's first evaluation.
func TestFitTextStopsWhenCancelledDuringOptimization(t *testing.T) {
	texts, labels := syntheticTexts(200, 6)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	vec, err := fitTextVectorizer(ctx, DefaultTextConfig(), false, texts)
	if err != nil {
		t.Fatal(err)
	}
	x := &csrMatrix{numCols: len(vec.vocab)}
	for _, text := range texts {
		row, err := vec.transform(text, sparseVector{})
		if err != nil {
			t.Fatal(err)
		}
		x.appendRow(row)
	}
	cancel()
	if _, _, _, err := fitLogistic(ctx, x, labels, DefaultTextConfig()); !errors.Is(err, context.Canceled) {
		t.Errorf("fitLogistic after cancel: error %v, want context.Canceled", err)
	}
}

// TestTextVocabularyLimits checks, with the limits lowered, where a
// vocabulary is refused: past the kept limit when neither MinDF nor
// MaxFeatures prunes it, while counting or after MinDF, and past the
// counted limit whatever the parameters.
func TestTextVocabularyLimits(t *testing.T) {
	limits := vocabularyLimits{kept: 10, counted: 30}
	distinct := func(n, times int) []string { // n words, each in times texts of their own
		var texts []string
		for range times {
			for i := range n {
				texts = append(texts, fmt.Sprintf("w%02d", i))
			}
		}
		return texts
	}
	tests := []struct {
		name        string
		mutate      func(*TextConfig)
		texts       []string
		wantVocab   int    // when errContains is empty
		errContains string // empty: fits
	}{
		{"at the limit", func(*TextConfig) {}, distinct(10, 1), 10, ""},
		{"one past it", func(*TextConfig) {}, distinct(11, 1), 0, "the first 11 of 11 texts hold more than 10 distinct word n-grams"},
		{"one past it, capped", func(c *TextConfig) { c.MaxFeatures = 5 }, distinct(11, 1), 5, ""},
		{"past it after min_df", func(c *TextConfig) { c.MinDF = 2 }, append(distinct(11, 2), distinct(19, 1)...), 0,
			"11 word n-grams occur in 2 or more of the 41 texts"},
		{"pruned by min_df to the limit", func(c *TextConfig) { c.MinDF = 2 }, append(distinct(10, 2), distinct(19, 1)...), 10, ""},
		{"past the counting limit, capped", func(c *TextConfig) { c.MaxFeatures = 5 }, distinct(31, 1), 0,
			"the first 31 of 31 texts hold more than 30 distinct word n-grams"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultTextConfig()
			tt.mutate(&cfg)
			v, err := fitTextVectorizerWithin(t.Context(), cfg, false, tt.texts, limits)
			if tt.errContains == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(v.vocab) != tt.wantVocab {
					t.Errorf("vocabulary of %d, want %d", len(v.vocab), tt.wantVocab)
				}
				return
			}
			if !errors.Is(err, ErrVocabularyTooLarge) || !strings.Contains(err.Error(), tt.errContains) ||
				!strings.Contains(err.Error(), "params.max_features") {
				t.Errorf("error %v, want ErrVocabularyTooLarge with %q and params.max_features", err, tt.errContains)
			}
		})
	}
}

// TestFitTextRefusesMoreThanMaxTextVocabulary fits the defaults on texts
// of MaxTextVocabulary + 1 distinct words: refused, where max_features
// lets the same texts fit.
func TestFitTextRefusesMoreThanMaxTextVocabulary(t *testing.T) {
	if testing.Short() {
		t.Skip("counts two million words")
	}
	const perText = 1000
	var texts []string
	var labels []float64
	var b strings.Builder
	for i := range MaxTextVocabulary + 1 {
		fmt.Fprintf(&b, "w%d ", i)
		if (i+1)%perText == 0 || i == MaxTextVocabulary {
			texts = append(texts, b.String())
			labels = append(labels, float64(len(texts)%2))
			b.Reset()
		}
	}
	_, err := FitText(t.Context(), DefaultTextConfig(), texts, labels)
	if !errors.Is(err, ErrVocabularyTooLarge) || !strings.Contains(err.Error(), "params.max_features") {
		t.Fatalf("FitText at the defaults: error %v, want ErrVocabularyTooLarge naming params.max_features", err)
	}
	t.Log(err)
	cfg := DefaultTextConfig()
	cfg.MaxFeatures, cfg.MaxIterations = 1000, 1
	m, err := FitText(t.Context(), cfg, texts, labels)
	if err != nil {
		t.Fatalf("FitText with MaxFeatures 1000: %v", err)
	}
	if n := len(m.Vocabulary()); n != 1000 {
		t.Errorf("vocabulary of %d with MaxFeatures 1000", n)
	}
}
