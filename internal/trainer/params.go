package trainer

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/train"
)

// GBDTParams are the parameters of a gbdt model, under the names of
// scikit-learn's HistGradientBoostingClassifier and Regressor; an absent
// parameter takes scikit-learn's default (train.DefaultConfig). The names
// used before are still read, as aliases: num_trees (max_iter), l2
// (l2_regularization) and seed (random_state).
type GBDTParams struct {
	MaxIter            int            `json:"max_iter,omitempty"`
	LearningRate       float64        `json:"learning_rate,omitempty"`
	MaxLeafNodes       nullableInt    `json:"max_leaf_nodes,omitzero"` // null: no limit
	MaxDepth           nullableInt    `json:"max_depth,omitzero"`      // null: no limit
	MinSamplesLeaf     int            `json:"min_samples_leaf,omitempty"`
	L2Regularization   float64        `json:"l2_regularization,omitempty"`
	MaxBins            int            `json:"max_bins,omitempty"`
	EarlyStopping      *earlyStopping `json:"early_stopping,omitempty"`
	ValidationFraction float64        `json:"validation_fraction,omitempty"`
	NIterNoChange      int            `json:"n_iter_no_change,omitempty"`
	Tol                *float64       `json:"tol,omitempty"`
	ClassWeight        *classWeight   `json:"class_weight,omitempty"`
	RandomState        uint64         `json:"random_state,omitempty"`

	// The names used before, read as aliases and never written.
	NumTrees int     `json:"num_trees,omitempty"`
	L2       float64 `json:"l2,omitempty"`
	Seed     uint64  `json:"seed,omitempty"`
}

// TextParams are the parameters of a text model, under the names of
// scikit-learn's TfidfVectorizer and LogisticRegression where they exist;
// an absent parameter takes train.DefaultTextConfig's value, which is
// scikit-learn's default. max_features null (None, the default) keeps
// every n-gram, up to train.MaxTextVocabulary: a fit whose vocabulary
// would be larger is refused, naming max_features. The names
// used before are still read, as aliases: min_ngram and max_ngram
// (ngram_range) and max_iterations (max_iter); c is read as C, since
// parameter names are matched without regard to case.
type TextParams struct {
	NGramRange  []int        `json:"ngram_range,omitempty"`
	MinDF       int          `json:"min_df,omitempty"`
	MaxFeatures nullableInt  `json:"max_features,omitzero"` // null: every n-gram
	SublinearTF *bool        `json:"sublinear_tf,omitempty"`
	C           float64      `json:"C,omitempty"`
	MaxIter     int          `json:"max_iter,omitempty"`
	Tol         float64      `json:"tol,omitempty"`
	ClassWeight *classWeight `json:"class_weight,omitempty"`
	// ASCIILowercase lowercases only ASCII letters: faster to score, for
	// texts that are mostly English.
	ASCIILowercase bool `json:"ascii_lowercase,omitempty"`
	// Analyzer is "word" (the default), "char" or "word+char": word
	// n-grams, character n-grams of words padded with spaces (scikit-learn's
	// char_wb), or both side by side.
	Analyzer train.Analyzer `json:"analyzer,omitempty"`
	// CharMinNGram and CharMaxNGram bound the character n-grams' length,
	// padding included; they apply to the char and word+char analyzers.
	CharMinNGram int `json:"char_min_ngram,omitempty"`
	CharMaxNGram int `json:"char_max_ngram,omitempty"`

	// The names used before, read as aliases and never written.
	MinNGram      int `json:"min_ngram,omitempty"`
	MaxNGram      int `json:"max_ngram,omitempty"`
	MaxIterations int `json:"max_iterations,omitempty"`
}

// params decodes Params for the family into its training configuration.
func (o Options) params() (any, error) {
	wrap := func(err error) error {
		return fmt.Errorf("%w: params: %w", ErrInvalidOptions, err)
	}
	switch o.Family {
	case GBDT:
		var p GBDTParams
		if err := decodeParams(o.Params, &p); err != nil {
			return nil, wrap(err)
		}
		cfg, err := p.config(o.Task)
		if err != nil {
			return nil, wrap(err)
		}
		if err := cfg.Validate(); err != nil {
			return nil, wrap(err)
		}
		return cfg, nil
	case Text:
		var p TextParams
		if err := decodeParams(o.Params, &p); err != nil {
			return nil, wrap(err)
		}
		cfg, err := p.config()
		if err != nil {
			return nil, wrap(err)
		}
		if err := cfg.Validate(); err != nil {
			return nil, wrap(err)
		}
		return cfg, nil
	case Linear:
		return linearParams(o, wrap)
	}
	return nil, fmt.Errorf("%w: family: %q is not one of gbdt, linear, text", ErrInvalidOptions, o.Family)
}

func (p GBDTParams) config(task model.Task) (train.Config, error) {
	cfg := train.DefaultConfig()
	if task == model.Regression {
		cfg.Objective = train.SquaredError
	}
	for _, err := range []error{
		renamed(&p.MaxIter, p.NumTrees, "max_iter", "num_trees"),
		renamed(&p.L2Regularization, p.L2, "l2_regularization", "l2"),
		renamed(&p.RandomState, p.Seed, "random_state", "seed"),
	} {
		if err != nil {
			return cfg, err
		}
	}
	setIf(&cfg.MaxIter, p.MaxIter)
	setIf(&cfg.LearningRate, p.LearningRate)
	p.MaxLeafNodes.apply(&cfg.MaxLeafNodes)
	p.MaxDepth.apply(&cfg.MaxDepth)
	setIf(&cfg.MinSamplesLeaf, p.MinSamplesLeaf)
	setIf(&cfg.L2Regularization, p.L2Regularization)
	setIf(&cfg.MaxBins, p.MaxBins)
	if p.EarlyStopping != nil {
		cfg.EarlyStopping = p.EarlyStopping.mode
	}
	setIf(&cfg.ValidationFraction, p.ValidationFraction)
	setIf(&cfg.NIterNoChange, p.NIterNoChange)
	if p.Tol != nil {
		cfg.Tol = *p.Tol
	}
	if p.ClassWeight != nil && p.ClassWeight.balanced && task == model.Regression {
		return cfg, fmt.Errorf("class_weight: a regressor takes none")
	}
	cfg.ClassWeight = p.ClassWeight.config()
	setIf(&cfg.Seed, p.RandomState)
	return cfg, nil
}

func (p TextParams) config() (train.TextConfig, error) {
	cfg := train.DefaultTextConfig()
	if p.NGramRange != nil && (p.MinNGram != 0 || p.MaxNGram != 0) {
		return cfg, fmt.Errorf("min_ngram, max_ngram: renamed ngram_range; give only ngram_range")
	}
	if p.NGramRange != nil {
		if len(p.NGramRange) != 2 {
			return cfg, fmt.Errorf("ngram_range: want [min_n, max_n], not %d numbers", len(p.NGramRange))
		}
		p.MinNGram, p.MaxNGram = p.NGramRange[0], p.NGramRange[1]
	}
	if err := renamed(&p.MaxIter, p.MaxIterations, "max_iter", "max_iterations"); err != nil {
		return cfg, err
	}
	setIf(&cfg.MinNGram, p.MinNGram)
	setIf(&cfg.MaxNGram, p.MaxNGram)
	setIf(&cfg.MinDF, p.MinDF)
	p.MaxFeatures.apply(&cfg.MaxFeatures)
	if p.SublinearTF != nil {
		cfg.SublinearTF = *p.SublinearTF
	}
	setIf(&cfg.C, p.C)
	setIf(&cfg.MaxIterations, p.MaxIter)
	setIf(&cfg.Tolerance, p.Tol)
	cfg.ClassWeight = p.ClassWeight.config()
	if p.ASCIILowercase {
		cfg.Lowercase = train.LowercaseASCII
	}
	cfg.Analyzer = p.Analyzer
	setIf(&cfg.CharMinNGram, p.CharMinNGram)
	setIf(&cfg.CharMaxNGram, p.CharMaxNGram)
	return cfg, nil
}

// effectiveParams are the parameters a model was trained with, defaults
// included, under their scikit-learn names, to be stored with the version.
func effectiveParams(cfg any) any {
	switch c := cfg.(type) {
	case train.Config:
		tol := c.Tol
		p := GBDTParams{
			MaxIter: c.MaxIter, LearningRate: c.LearningRate, MaxLeafNodes: limit(c.MaxLeafNodes), MaxDepth: limit(c.MaxDepth),
			MinSamplesLeaf: c.MinSamplesLeaf, L2Regularization: c.L2Regularization, MaxBins: c.MaxBins,
			EarlyStopping: &earlyStopping{c.EarlyStopping}, ValidationFraction: c.ValidationFraction,
			NIterNoChange: c.NIterNoChange, Tol: &tol, RandomState: c.Seed,
		}
		if c.Objective != train.SquaredError {
			p.ClassWeight = classWeightOf(c.ClassWeight)
		}
		return p
	case train.LinearConfig:
		if c.Objective == train.SquaredError {
			return LinearParams{Alpha: c.Alpha}
		}
		return LinearParams{C: c.C, MaxIter: c.MaxIterations, Tol: c.Tolerance, ClassWeight: classWeightOf(c.ClassWeight)}
	case train.TextConfig:
		sublinear := c.SublinearTF
		p := TextParams{
			NGramRange: []int{c.MinNGram, c.MaxNGram}, MinDF: c.MinDF, MaxFeatures: limit(c.MaxFeatures), SublinearTF: &sublinear,
			C: c.C, MaxIter: c.MaxIterations, Tol: c.Tolerance, ClassWeight: classWeightOf(c.ClassWeight),
			ASCIILowercase: c.Lowercase == train.LowercaseASCII, Analyzer: c.Analyzer,
		}
		if c.Analyzer != train.AnalyzerWord { // a word model's parameters read as before
			p.CharMinNGram, p.CharMaxNGram = c.CharMinNGram, c.CharMaxNGram
		}
		return p
	}
	return cfg
}

// setIf overwrites a default with a value that was given.
func setIf[T comparable](dst *T, v T) {
	var zero T
	if v != zero {
		*dst = v
	}
}

func decodeParams(raw json.RawMessage, dst any) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	return decodeStrict(raw, dst)
}
