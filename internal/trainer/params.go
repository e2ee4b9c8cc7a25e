package trainer

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/train"
)

// GBDTParams are the parameters of a gbdt model; zero means the default
// (train.DefaultConfig, which follows scikit-learn).
type GBDTParams struct {
	NumTrees       int     `json:"num_trees,omitempty"`
	MaxDepth       int     `json:"max_depth,omitempty"`
	LearningRate   float64 `json:"learning_rate,omitempty"`
	MaxBins        int     `json:"max_bins,omitempty"`
	MinSamplesLeaf int     `json:"min_samples_leaf,omitempty"`
	L2             float64 `json:"l2,omitempty"`
	Seed           uint64  `json:"seed,omitempty"`
}

// TextParams are the parameters of a text model; zero means the default
// (train.DefaultTextConfig, which follows scikit-learn).
type TextParams struct {
	MinNGram      int     `json:"min_ngram,omitempty"`
	MaxNGram      int     `json:"max_ngram,omitempty"`
	MinDF         int     `json:"min_df,omitempty"`
	MaxFeatures   int     `json:"max_features,omitempty"`
	C             float64 `json:"c,omitempty"`
	MaxIterations int     `json:"max_iterations,omitempty"`
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
		cfg := p.config(o.Task)
		if err := cfg.Validate(); err != nil {
			return nil, wrap(err)
		}
		return cfg, nil
	case Text:
		var p TextParams
		if err := decodeParams(o.Params, &p); err != nil {
			return nil, wrap(err)
		}
		cfg := p.config()
		if err := cfg.Validate(); err != nil {
			return nil, wrap(err)
		}
		return cfg, nil
	case Linear:
		return linearParams(o, wrap)
	}
	return nil, fmt.Errorf("%w: family: %q is not one of gbdt, linear, text", ErrInvalidOptions, o.Family)
}

func (p GBDTParams) config(task model.Task) train.Config {
	cfg := train.DefaultConfig()
	if task == model.Regression {
		cfg.Objective = train.SquaredError
	}
	setIf(&cfg.MaxIter, p.NumTrees)
	setIf(&cfg.MaxDepth, p.MaxDepth)
	setIf(&cfg.LearningRate, p.LearningRate)
	setIf(&cfg.MaxBins, p.MaxBins)
	setIf(&cfg.MinSamplesLeaf, p.MinSamplesLeaf)
	setIf(&cfg.L2Regularization, p.L2)
	setIf(&cfg.Seed, p.Seed)
	return cfg
}

func (p TextParams) config() train.TextConfig {
	cfg := train.DefaultTextConfig()
	setIf(&cfg.MinNGram, p.MinNGram)
	setIf(&cfg.MaxNGram, p.MaxNGram)
	setIf(&cfg.MinDF, p.MinDF)
	setIf(&cfg.MaxFeatures, p.MaxFeatures)
	setIf(&cfg.C, p.C)
	setIf(&cfg.MaxIterations, p.MaxIterations)
	if p.ASCIILowercase {
		cfg.Lowercase = train.LowercaseASCII
	}
	cfg.Analyzer = p.Analyzer
	setIf(&cfg.CharMinNGram, p.CharMinNGram)
	setIf(&cfg.CharMaxNGram, p.CharMaxNGram)
	return cfg
}

// effectiveParams are the parameters a model was trained with, defaults
// included, in the JSON form of the options, to be stored with the version.
func effectiveParams(cfg any) any {
	switch c := cfg.(type) {
	case train.Config:
		return GBDTParams{
			NumTrees: c.MaxIter, MaxDepth: c.MaxDepth, LearningRate: c.LearningRate, MaxBins: c.MaxBins,
			MinSamplesLeaf: c.MinSamplesLeaf, L2: c.L2Regularization, Seed: c.Seed,
		}
	case train.LinearConfig:
		return LinearParams{C: c.C, Alpha: c.Alpha, MaxIterations: c.MaxIterations}
	case train.TextConfig:
		p := TextParams{
			MinNGram: c.MinNGram, MaxNGram: c.MaxNGram, MinDF: c.MinDF, MaxFeatures: c.MaxFeatures,
			C: c.C, MaxIterations: c.MaxIterations, ASCIILowercase: c.Lowercase == train.LowercaseASCII,
			Analyzer: c.Analyzer,
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
