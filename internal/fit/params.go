package fit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/train"
)

// The parameters of each family, under scikit-learn's names. A parameter
// that is absent takes its default; one that is given is used as given,
// 0 included, or refused when out of range or when it does not apply to
// the model (C of a ridge regression, say): never replaced by the
// default. Every refusal names the parameter ("params.max_iter: ...").

// GBDTParams are the parameters of a gbdt model, under the names of
// scikit-learn's HistGradientBoostingClassifier and Regressor; an absent
// parameter takes scikit-learn's default (train.DefaultConfig). The names
// used before are still read, as aliases: num_trees (max_iter), l2
// (l2_regularization) and seed (random_state). The early-stopping
// parameters are taken with early_stopping false too, as scikit-learn
// takes them, and stored with the version.
type GBDTParams struct {
	MaxIter            int            `json:"max_iter,omitempty"`
	LearningRate       float64        `json:"learning_rate,omitempty"`
	MaxLeafNodes       nullableInt    `json:"max_leaf_nodes,omitzero"` // null: no limit
	MaxDepth           nullableInt    `json:"max_depth,omitzero"`      // null: no limit
	MinSamplesLeaf     int            `json:"min_samples_leaf,omitempty"`
	L2Regularization   float64        `json:"l2_regularization"`
	MaxBins            int            `json:"max_bins,omitempty"`
	EarlyStopping      *earlyStopping `json:"early_stopping,omitempty"`
	ValidationFraction float64        `json:"validation_fraction,omitempty"`
	NIterNoChange      int            `json:"n_iter_no_change,omitempty"`
	Tol                *float64       `json:"tol,omitempty"`
	ClassWeight        *classWeight   `json:"class_weight,omitempty"` // classifiers only
	RandomState        uint64         `json:"random_state"`

	// The names used before, read as aliases and never written.
	NumTrees int     `json:"num_trees,omitempty"`
	L2       float64 `json:"l2,omitempty"`
	Seed     uint64  `json:"seed,omitempty"`
}

// LinearParams are the parameters of a linear model, under the names of
// scikit-learn's LogisticRegression (C, max_iter, tol, class_weight: a
// classifier's only) and Ridge (alpha: a regressor's only; 0 fits ordinary
// least squares, as LinearRegression). An absent parameter takes
// train.DefaultLinearConfig's value, which is scikit-learn's default. A
// ridge regression is solved directly, so max_iter and tol do not apply to
// it either. max_iterations, the name used before, is read as an alias of
// max_iter; c is read as C, since parameter names are matched without
// regard to case.
type LinearParams struct {
	// C is the inverse regularisation strength of a logistic regression.
	C float64 `json:"C,omitempty"`
	// Alpha is the regularisation strength of a ridge regression; a
	// pointer, so that a stored 0 reads back as 0.
	Alpha       *float64     `json:"alpha,omitempty"`
	MaxIter     int          `json:"max_iter,omitempty"`
	Tol         float64      `json:"tol,omitempty"`
	ClassWeight *classWeight `json:"class_weight,omitempty"`

	// The name used before, read as an alias and never written.
	MaxIterations int `json:"max_iterations,omitempty"`
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
	// padding included; they apply to the char and word+char analyzers
	// only, and are refused with the word analyzer.
	CharMinNGram int `json:"char_min_ngram,omitempty"`
	CharMaxNGram int `json:"char_max_ngram,omitempty"`

	// The names used before, read as aliases and never written.
	MinNGram      int `json:"min_ngram,omitempty"`
	MaxNGram      int `json:"max_ngram,omitempty"`
	MaxIterations int `json:"max_iterations,omitempty"`
}

// The bounds of the parameters are train's, which refuses what lies beyond
// them (TestParamBoundsAreTrains checks that both agree); they are checked
// here too, so that a refusal names the parameter as the user spelt it.
const (
	maxGBDTIter   = 100_000
	maxGBDTDepth  = 64
	minGBDTBins   = 2
	maxGBDTBins   = 255
	maxLinearIter = 100_000
	maxTextIter   = 100_000
	maxTextNGram  = 5
	minCharNGram  = 2
	maxCharNGram  = 10
)

// params decodes Params for the family into its training configuration.
// Every problem is reported, each as its own ErrInvalidOptions line.
func (o Options) params() (any, error) {
	var (
		cfg  interface{ Validate() error }
		errs []error
	)
	switch o.Family {
	case GBDT:
		var p GBDTParams
		g, decodeErrs := decodeParams(o.Params, &p)
		if decodeErrs != nil {
			return nil, paramsError(decodeErrs...)
		}
		cfg, errs = p.config(o.Task, g)
	case Linear:
		var p LinearParams
		g, decodeErrs := decodeParams(o.Params, &p)
		if decodeErrs != nil {
			return nil, paramsError(decodeErrs...)
		}
		cfg, errs = p.config(o.Task, g)
	case Text:
		var p TextParams
		g, decodeErrs := decodeParams(o.Params, &p)
		if decodeErrs != nil {
			return nil, paramsError(decodeErrs...)
		}
		cfg, errs = p.config(g)
	default:
		return nil, fmt.Errorf("%w: family: %q is not one of gbdt, linear, text", ErrInvalidOptions, o.Family)
	}
	if errs != nil {
		return nil, paramsError(errs...)
	}
	// What the checks above let through, train takes; this is the last
	// guard, should the two ever disagree.
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: params: %w", ErrInvalidOptions, err)
	}
	return cfg, nil
}

// paramsError marks each problem as invalid options, one per line.
func paramsError(errs ...error) error {
	out := make([]error, len(errs))
	for i, err := range errs {
		out[i] = fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	return errors.Join(out...)
}

func (p GBDTParams) config(task model.Task, g given) (train.Config, []error) {
	cfg := train.DefaultConfig()
	if task == model.Regression {
		cfg.Objective = train.SquaredError
	}
	var c paramCheck
	if name := aliased(&c, g, &p.MaxIter, p.NumTrees, "max_iter", "num_trees"); name != "" {
		cfg.MaxIter = p.MaxIter
		c.intIn(name, p.MaxIter, 1, maxGBDTIter)
	}
	if g["learning_rate"] {
		cfg.LearningRate = p.LearningRate
		c.check(p.LearningRate > 0 && p.LearningRate <= 1, "learning_rate", "%v is not in (0, 1]", p.LearningRate)
	}
	if g["max_leaf_nodes"] {
		cfg.MaxLeafNodes = p.MaxLeafNodes.limit()
		c.check(p.MaxLeafNodes.null || p.MaxLeafNodes.value >= 2, "max_leaf_nodes", "%d is not at least 2 (null: no limit)", p.MaxLeafNodes.value)
	}
	if g["max_depth"] {
		cfg.MaxDepth = p.MaxDepth.limit()
		c.check(p.MaxDepth.null || p.MaxDepth.value >= 1 && p.MaxDepth.value <= maxGBDTDepth, "max_depth",
			"%d is not in [1, %d] (null: no limit)", p.MaxDepth.value, maxGBDTDepth)
	}
	if g["min_samples_leaf"] {
		cfg.MinSamplesLeaf = p.MinSamplesLeaf
		c.intIn("min_samples_leaf", p.MinSamplesLeaf, 1, -1)
	}
	if name := aliased(&c, g, &p.L2Regularization, p.L2, "l2_regularization", "l2"); name != "" {
		cfg.L2Regularization = p.L2Regularization
		c.check(p.L2Regularization >= 0, name, "%v is not at least 0", p.L2Regularization)
	}
	if g["max_bins"] {
		cfg.MaxBins = p.MaxBins
		c.intIn("max_bins", p.MaxBins, minGBDTBins, maxGBDTBins)
	}
	if g["early_stopping"] {
		cfg.EarlyStopping = p.EarlyStopping.mode
	}
	if g["validation_fraction"] {
		cfg.ValidationFraction = p.ValidationFraction
		c.check(p.ValidationFraction > 0 && p.ValidationFraction < 1, "validation_fraction", "%v is not in (0, 1)", p.ValidationFraction)
	}
	if g["n_iter_no_change"] {
		cfg.NIterNoChange = p.NIterNoChange
		c.intIn("n_iter_no_change", p.NIterNoChange, 1, -1)
	}
	if g["tol"] {
		cfg.Tol = *p.Tol
		c.check(*p.Tol >= 0, "tol", "%v is not at least 0", *p.Tol)
	}
	if g["class_weight"] {
		if task == model.Regression {
			c.fail("class_weight", "applies to a classifier; a regressor (HistGradientBoostingRegressor) takes none")
		} else {
			cfg.ClassWeight = p.ClassWeight.config()
		}
	}
	if name := aliased(&c, g, &p.RandomState, p.Seed, "random_state", "seed"); name != "" {
		cfg.Seed = p.RandomState
	}
	return cfg, c.errs
}

func (p LinearParams) config(task model.Task, g given) (train.LinearConfig, []error) {
	cfg := train.DefaultLinearConfig()
	var c paramCheck
	maxIter := aliased(&c, g, &p.MaxIter, p.MaxIterations, "max_iter", "max_iterations")
	if task == model.Regression {
		cfg.Objective = train.SquaredError
		for _, name := range []string{"C", "class_weight", maxIter, "tol"} {
			if g[name] {
				c.fail(name, "applies to a classifier (LogisticRegression); a ridge regression, solved directly, takes alpha only")
			}
		}
		if g["alpha"] {
			cfg.Alpha = *p.Alpha
			c.check(*p.Alpha >= 0, "alpha", "%v is not at least 0 (0 fits ordinary least squares)", *p.Alpha)
		}
		return cfg, c.errs
	}
	if g["alpha"] {
		c.fail("alpha", "applies to a ridge regression; a classifier's regularisation is C, its inverse")
	}
	if g["C"] {
		cfg.C = p.C
		c.check(p.C > 0, "C", "%v is not above 0", p.C)
	}
	if maxIter != "" {
		cfg.MaxIterations = p.MaxIter
		c.intIn(maxIter, p.MaxIter, 1, maxLinearIter)
	}
	if g["tol"] {
		cfg.Tolerance = p.Tol
		c.check(p.Tol > 0, "tol", "%v is not above 0", p.Tol)
	}
	if g["class_weight"] {
		cfg.ClassWeight = p.ClassWeight.config()
	}
	return cfg, c.errs
}

func (p TextParams) config(g given) (train.TextConfig, []error) {
	cfg := train.DefaultTextConfig()
	var c paramCheck
	// ngram_range, or its old halves min_ngram and max_ngram.
	minName, maxName, rangeName := "", "", ""
	switch {
	case g["ngram_range"] && (g["min_ngram"] || g["max_ngram"]):
		old := "min_ngram"
		if !g["min_ngram"] {
			old = "max_ngram"
		}
		c.fail(old, "renamed ngram_range; give only ngram_range")
	case g["ngram_range"]:
		if len(p.NGramRange) != 2 {
			c.fail("ngram_range", "want [min_n, max_n], not %d numbers", len(p.NGramRange))
			break
		}
		cfg.MinNGram, cfg.MaxNGram = p.NGramRange[0], p.NGramRange[1]
		minName, maxName, rangeName = "ngram_range[0]", "ngram_range[1]", "ngram_range"
	default:
		if g["min_ngram"] {
			cfg.MinNGram, minName, rangeName = p.MinNGram, "min_ngram", "min_ngram"
		}
		if g["max_ngram"] {
			cfg.MaxNGram, maxName, rangeName = p.MaxNGram, "max_ngram", "max_ngram"
		}
	}
	c.span(rangeName, minName, maxName, cfg.MinNGram, cfg.MaxNGram, 1, maxTextNGram)
	if g["min_df"] {
		cfg.MinDF = p.MinDF
		c.intIn("min_df", p.MinDF, 1, -1)
	}
	if g["max_features"] {
		cfg.MaxFeatures = p.MaxFeatures.limit()
		c.check(p.MaxFeatures.null || p.MaxFeatures.value >= 1 && p.MaxFeatures.value <= train.MaxTextVocabulary, "max_features",
			"%d is not in [1, %d] (null: every n-gram)", p.MaxFeatures.value, train.MaxTextVocabulary)
	}
	if g["sublinear_tf"] {
		cfg.SublinearTF = *p.SublinearTF
	}
	if g["C"] {
		cfg.C = p.C
		c.check(p.C > 0, "C", "%v is not above 0", p.C)
	}
	if name := aliased(&c, g, &p.MaxIter, p.MaxIterations, "max_iter", "max_iterations"); name != "" {
		cfg.MaxIterations = p.MaxIter
		c.intIn(name, p.MaxIter, 1, maxTextIter)
	}
	if g["tol"] {
		cfg.Tolerance = p.Tol
		c.check(p.Tol > 0, "tol", "%v is not above 0", p.Tol)
	}
	if g["class_weight"] {
		cfg.ClassWeight = p.ClassWeight.config()
	}
	if p.ASCIILowercase {
		cfg.Lowercase = train.LowercaseASCII
	}
	cfg.Analyzer = p.Analyzer
	chars := p.Analyzer == train.AnalyzerChar || p.Analyzer == train.AnalyzerWordChar
	for _, name := range []string{"char_min_ngram", "char_max_ngram"} {
		if g[name] && !chars {
			c.fail(name, "applies to the char and word+char analyzers, not %s", p.Analyzer)
		}
	}
	if chars {
		minName, maxName, rangeName = "", "", ""
		if g["char_min_ngram"] {
			cfg.CharMinNGram, minName, rangeName = p.CharMinNGram, "char_min_ngram", "char_min_ngram"
		}
		if g["char_max_ngram"] {
			cfg.CharMaxNGram, maxName, rangeName = p.CharMaxNGram, "char_max_ngram", "char_max_ngram"
		}
		c.span(rangeName, minName, maxName, cfg.CharMinNGram, cfg.CharMaxNGram, minCharNGram, maxCharNGram)
	}
	return cfg, c.errs
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
			alpha := c.Alpha
			return LinearParams{Alpha: &alpha}
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

// paramCheck collects the problems of params, each naming its parameter.
type paramCheck struct{ errs []error }

func (c *paramCheck) fail(name, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("params.%s: %s", name, fmt.Sprintf(format, args...)))
}

func (c *paramCheck) check(ok bool, name, format string, args ...any) {
	if !ok {
		c.fail(name, format, args...)
	}
}

// intIn checks lo <= v <= hi; hi < 0 means no upper bound.
func (c *paramCheck) intIn(name string, v, lo, hi int) {
	switch {
	case hi < 0:
		c.check(v >= lo, name, "%d is not at least %d", v, lo)
	default:
		c.check(v >= lo && v <= hi, name, "%d is not in [%d, %d]", v, lo, hi)
	}
}

// span checks an n-gram range lo <= min <= max <= hi, naming the bound
// given (minName, maxName: "" when it was not) or, when they cross,
// rangeName.
func (c *paramCheck) span(rangeName, minName, maxName string, minV, maxV, lo, hi int) {
	minOK := minV >= lo && minV <= hi
	maxOK := maxV >= lo && maxV <= hi
	if minName != "" && !minOK {
		c.fail(minName, "%d is not in [%d, %d]", minV, lo, hi)
	}
	if maxName != "" && !maxOK {
		c.fail(maxName, "%d is not in [%d, %d]", maxV, lo, hi)
	}
	if rangeName != "" && minOK && maxOK && minV > maxV {
		c.fail(rangeName, "the smallest n-gram length, %d, is above the largest, %d", minV, maxV)
	}
}

// aliased merges an old parameter name into its scikit-learn name: the old
// value is taken when only it was given. It returns the name the value was
// given under, "" when neither was, or when both were, which is refused.
func aliased[T any](c *paramCheck, g given, newValue *T, oldValue T, newName, oldName string) string {
	switch {
	case g[newName] && g[oldName]:
		c.fail(oldName, "renamed %s; give only %s", newName, newName)
		return ""
	case g[oldName]:
		*newValue = oldValue
		return oldName
	case g[newName]:
		return newName
	}
	return ""
}

// given is the set of parameters a params object names, by their names as
// the params struct spells them.
type given map[string]bool

// decodeParams decodes a params object into dst, a pointer to a params
// struct, one parameter at a time so that every error names it, and
// returns the names given. Names are matched as encoding/json matches them,
// without regard to case. Unknown names, a name given twice, and null
// for a parameter that has no None are refused: every problem is returned.
func decodeParams(raw json.RawMessage, dst any) (given, []error) {
	g := given{}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return g, nil
	}
	if raw[0] != '{' {
		return g, []error{errors.New("params: want an object of parameters")}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return g, []error{fmt.Errorf("params: %w", describeJSONError(err))}
	}
	v := reflect.ValueOf(dst).Elem()
	fields := map[string]int{} // JSON name to field index
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		fields[name] = i
	}
	spelt := map[string]string{} // the name given as the user spelt it
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(obj)) {
		name, ok := fieldName(fields, key)
		if !ok {
			errs = append(errs, fmt.Errorf("params.%s: unknown field", key))
			continue
		}
		if other, twice := spelt[name]; twice {
			errs = append(errs, fmt.Errorf("params.%s: given twice, as %s and %s", name, other, key))
			continue
		}
		spelt[name] = key
		g[name] = true
		field := v.Field(fields[name])
		value := bytes.TrimSpace(obj[key])
		if string(value) == "null" && !nullable(field.Type()) {
			errs = append(errs, fmt.Errorf("params.%s: null is not one of its values; leave it out for the default", name))
			continue
		}
		if err := json.Unmarshal(value, field.Addr().Interface()); err != nil {
			errs = append(errs, paramDecodeError(name, err))
		}
	}
	return g, errs
}

// fieldName finds the parameter key names: its exact name, or else one
// equal to it without regard to case, as encoding/json matches.
func fieldName(fields map[string]int, key string) (string, bool) {
	if _, ok := fields[key]; ok {
		return key, true
	}
	for name := range fields {
		if strings.EqualFold(name, key) {
			return name, true
		}
	}
	return "", false
}

// nullable reports whether a parameter type reads null as a value: no
// limit (nullableInt) or no class weights.
func nullable(t reflect.Type) bool {
	return t == reflect.TypeFor[nullableInt]() || t == reflect.TypeFor[*classWeight]()
}

// paramDecodeError names the parameter in an error of encoding/json or of
// a parameter type's UnmarshalJSON.
func paramDecodeError(name string, err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Errorf("params.%s: is a JSON %s, want %s", name, typeErr.Value, typeErr.Type)
	}
	if msg, ok := strings.CutPrefix(err.Error(), name+": "); ok { // train.Analyzer's names itself
		return fmt.Errorf("params.%s: %s", name, msg)
	}
	return fmt.Errorf("params.%s: %w", name, err)
}
