package trainer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/train"
)

// ErrInvalidOptions marks options that cannot describe a training. Its
// messages name the offending field as it is spelt in JSON ("label",
// "params.num_trees"), so an API can hand them to the user as they are.
var ErrInvalidOptions = errors.New("invalid model options")

// Family is a kind of model the trainer fits.
type Family string

const (
	// GBDT is histogram-based gradient-boosted trees: binary and multiclass
	// classification, and regression.
	GBDT Family = "gbdt"
	// Linear is logistic regression (classification) or ridge regression: a
	// fast baseline for numeric features.
	Linear Family = "linear"
	// Text is TF-IDF over word n-grams with logistic regression, for one
	// text field; binary classification.
	Text Family = "text"
)

// DefaultHoldout is the fraction of rows held out for evaluation when the
// options set none.
const DefaultHoldout = 0.2

// Options say what to train: the options JSON of the REST API and the model
// section of a training job. The same Options always build the same feature
// mapping (Spec), which the scorer then serves unchanged.
type Options struct {
	Family Family     `json:"family" yaml:"family"`
	Task   model.Task `json:"task,omitempty" yaml:"task"` // classification (default) or regression
	// Features are the numeric fields of a gbdt or linear model, in column
	// order.
	Features []string `json:"features,omitempty" yaml:"features"`
	// Defaults give a feature's value when a record has it null or lacks it;
	// without one such a record is skipped in training and dead-lettered in
	// scoring.
	Defaults map[string]float64 `json:"defaults,omitempty" yaml:"defaults"`
	// TextField is the text field of a text model.
	TextField string `json:"text,omitempty" yaml:"text"`
	// Label is the field to predict: the class (any scalar) of a classifier,
	// a number for a regressor.
	Label string `json:"label" yaml:"label"`
	// Holdout is the fraction of rows, the last ones in time order, kept out
	// of training to evaluate on. Default DefaultHoldout.
	Holdout float64 `json:"holdout,omitempty" yaml:"holdout"`
	// Metric is what a new version must beat the champion on; default auc
	// for classifiers, rmse for regressors.
	Metric string `json:"metric,omitempty" yaml:"metric"`
	// Params are the family's parameters (see GBDTParams, LinearParams,
	// TextParams); unknown names are refused.
	Params json.RawMessage `json:"params,omitempty" yaml:"-"`
}

// ParseOptions decodes options JSON strictly and validates them.
func ParseOptions(data []byte) (Options, error) {
	var o Options
	if err := decodeStrict(data, &o); err != nil {
		return Options{}, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	o = o.WithDefaults()
	return o, o.Validate()
}

// WithDefaults fills in the task, holdout and metric when they are unset.
func (o Options) WithDefaults() Options {
	if o.Task == "" {
		o.Task = model.Classification
	}
	if o.Holdout == 0 {
		o.Holdout = DefaultHoldout
	}
	if o.Metric == "" {
		o.Metric = MetricAUC
		if o.Task == model.Regression {
			o.Metric = MetricRMSE
		}
	}
	return o
}

// Validate reports every problem at once, each naming its field.
func (o Options) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalidOptions, field, fmt.Sprintf(format, args...)))
	}
	switch o.Family {
	case GBDT, Linear, Text:
	case "":
		bad("family", "is required (gbdt, linear or text)")
	default:
		bad("family", "%q is not one of gbdt, linear, text", o.Family)
	}
	switch o.Task {
	case model.Classification:
	case model.Regression:
		if o.Family == Text {
			bad("task", "a text model is a classifier")
		}
	default:
		bad("task", "%q is not classification or regression", o.Task)
	}
	if o.Label == "" {
		bad("label", "is required")
	}
	if o.Family == Text {
		if o.TextField == "" {
			bad("text", "a text model needs the text field")
		}
		if len(o.Features) > 0 {
			bad("features", "a text model takes one text field, not features")
		}
	} else if o.Family != "" {
		if len(o.Features) == 0 {
			bad("features", "at least one numeric field is required")
		}
		if o.TextField != "" {
			bad("text", "only a text model takes a text field")
		}
	}
	seen := make(map[string]bool, len(o.Features))
	for i, f := range o.Features {
		switch {
		case f == "":
			bad(fmt.Sprintf("features[%d]", i), "is empty")
		case f == o.Label:
			bad(fmt.Sprintf("features[%d]", i), "%q is the label", f)
		case seen[f]:
			bad(fmt.Sprintf("features[%d]", i), "%q is repeated", f)
		}
		seen[f] = true
	}
	for f := range o.Defaults {
		if !seen[f] {
			bad("defaults."+f, "is not one of the features")
		}
	}
	if o.TextField != "" && o.TextField == o.Label {
		bad("text", "%q is the label", o.TextField)
	}
	if o.Holdout <= 0 || o.Holdout >= 1 {
		bad("holdout", "%v not in (0, 1)", o.Holdout)
	}
	if err := checkMetric(o.Task, o.Metric); err != nil {
		bad("metric", "%s", err)
	}
	if len(errs) == 0 {
		if _, err := o.params(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Spec is the feature mapping a model trained with these options serves
// with. Labels are the class names, in score order, for a classifier.
func (o Options) Spec(name string, labels []string) model.Spec {
	spec := model.Spec{Name: name, Task: o.Task, Labels: labels}
	if o.Family == Text {
		spec.Inputs = []model.Input{{Name: train.InputText, Type: model.StringInput, Fields: []model.Feature{{Field: o.TextField}}}}
	} else {
		cols := make([]model.Feature, len(o.Features))
		for i, f := range o.Features {
			cols[i] = model.Feature{Field: f}
			if d, ok := o.Defaults[f]; ok {
				cols[i].Default = &d
			}
		}
		spec.Inputs = []model.Input{{Name: train.InputFeatures, Type: model.FloatInput, Fields: cols}}
	}
	if o.Task == model.Regression {
		spec.Outputs = model.Outputs{Value: train.OutputVariable}
	} else {
		spec.Outputs = model.Outputs{Scores: train.OutputProbabilities}
	}
	return spec
}

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
	setIf(&cfg.NumTrees, p.NumTrees)
	setIf(&cfg.MaxDepth, p.MaxDepth)
	setIf(&cfg.LearningRate, p.LearningRate)
	setIf(&cfg.MaxBins, p.MaxBins)
	setIf(&cfg.MinSamplesLeaf, p.MinSamplesLeaf)
	setIf(&cfg.L2, p.L2)
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
			NumTrees: c.NumTrees, MaxDepth: c.MaxDepth, LearningRate: c.LearningRate, MaxBins: c.MaxBins,
			MinSamplesLeaf: c.MinSamplesLeaf, L2: c.L2, Seed: c.Seed,
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

// decodeStrict decodes one JSON value, refusing unknown fields and trailing
// data, and turns encoding/json's messages into ones that name the field.
func decodeStrict(data []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return describeJSONError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// describeJSONError rewrites encoding/json's errors as "field: problem".
func describeJSONError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return fmt.Errorf("%s: is a JSON %s, want %s", typeErr.Field, typeErr.Value, typeErr.Type)
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("malformed JSON at byte %d: %w", syntaxErr.Offset, err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fmt.Errorf("%s: unknown field", name)
	case errors.Is(err, io.EOF):
		return errors.New("the body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("malformed JSON: it ends early")
	}
	return err
}

// UnmarshalYAML reads options from a job file, where params are YAML too:
// they are carried over as JSON, so both spellings decode the same way.
func (o *Options) UnmarshalYAML(node *yaml.Node) error {
	type plain Options // without this method
	var raw struct {
		plain  `yaml:",inline"`
		Params map[string]any `yaml:"params"`
	}
	if err := node.Decode(&raw); err != nil {
		return err
	}
	*o = Options(raw.plain)
	if raw.Params != nil {
		params, err := json.Marshal(raw.Params)
		if err != nil {
			return fmt.Errorf("params: %w", err)
		}
		o.Params = params
	}
	return nil
}
