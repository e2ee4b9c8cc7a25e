package fit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/streamscore/streamscore/internal/model"
)

// ErrInvalidOptions marks options that cannot describe a training. Its
// messages name the offending field as it is spelt in JSON ("label",
// "params.max_iter"), so an API can hand them to the user as they are.
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
	// Features are the paths of a gbdt or linear model's features, in
	// column order: record fields ("location.lat"), map values by key
	// ("attributes.firmware", `attributes["fw.version"]`), array elements
	// ("window[3]"), through nullable unions. A number, boolean or
	// timestamp is one column; a string or enum, or an int or long listed
	// in Categorical, is one column of category codes; a whole array
	// listed in Arrays is Length columns; a timestamp listed in TimeParts
	// is a column per part.
	Features []string `json:"features,omitempty" yaml:"features"`
	// Defaults give a numeric feature's value when a record has it null or
	// lacks it; without one such a record is skipped in training and
	// dead-lettered in scoring. A categorical feature takes none: its null
	// is a category code of its own.
	Defaults map[string]float64 `json:"defaults,omitempty" yaml:"defaults"`
	// Categorical tunes categorical features, by path (see Categorical),
	// and makes an int or long feature categorical.
	Categorical CategoricalOptions `json:"categorical,omitempty" yaml:"categorical"`
	// MaxCategories bounds every categorical feature's table unless its
	// Categorical entry says otherwise: DefaultMaxCategories when nil, and
	// never more than a gbdt's max_bins - 2.
	MaxCategories *int `json:"max_categories,omitempty" yaml:"max_categories"`
	// Arrays read whole arrays as columns, by path (see ArrayColumns).
	Arrays ArrayOptions `json:"arrays,omitempty" yaml:"arrays"`
	// TimeParts read timestamps as parts of the UTC time, by path:
	// PartHourOfDay, PartDayOfWeek, one column each in the order given,
	// instead of the Unix milliseconds.
	TimeParts map[string][]string `json:"time_parts,omitempty" yaml:"time_parts"`
	// Subject, for a REST model, is the schema registry subject whose
	// latest schema the paths are checked against when the model is
	// created, and which says which features are categorical (strings and
	// enums); a training job checks its topic's "{topic}-value" instead.
	Subject string `json:"subject,omitempty" yaml:"subject"`
	// TextField is the text field of a text model.
	TextField string `json:"text,omitempty" yaml:"text"`
	// Label is the field to predict: the class (any scalar) of a classifier,
	// a number for a regressor.
	Label string `json:"label" yaml:"label"`
	// Holdout is the fraction of rows, the last ones in time order, kept out
	// of training to evaluate on: DefaultHoldout when unset, and 0 (given as
	// such in JSON or YAML, or by WithHoldout) trains on every row and
	// evaluates on none. See holdout.go.
	Holdout float64 `json:"holdout,omitempty" yaml:"holdout"`
	// HoldoutFrom, when set, makes the records stamped at or after it the
	// holdout instead of a fraction: a training job's only, since rows sent
	// to the REST API carry no time, and one without a window, which would
	// slide past it. The zero time (0001-01-01T00:00:00Z) cannot be told
	// from none: given, it is refused.
	HoldoutFrom time.Time `json:"holdout_from,omitzero" yaml:"holdout_from"`
	// Sample bounds the rows a training keeps (see Sample).
	Sample *Sample `json:"sample,omitempty" yaml:"sample"`
	// Metric is what a new version must beat the champion on; default auc
	// for classifiers, rmse for regressors.
	Metric string `json:"metric,omitempty" yaml:"metric"`
	// Params are the family's parameters (see GBDTParams, LinearParams,
	// TextParams); unknown names are refused.
	Params json.RawMessage `json:"params,omitempty" yaml:"-"`

	// holdoutSet tells a holdout given as 0 (train on every row) from one
	// not given (DefaultHoldout). Holdout stays a float64, so that callers
	// using it as a fraction keep working. holdoutDefault marks a Holdout
	// that WithDefaults filled in, which a HoldoutFrom or a test source set
	// afterwards replaces without conflict. holdoutFromZero marks a
	// holdout_from given as the zero time, which Validate refuses.
	holdoutSet, holdoutDefault, holdoutFromZero bool
}

// HoldoutGiven reports whether a holdout fraction was given, 0 included.
func (o Options) HoldoutGiven() bool {
	return o.holdoutSet || (o.Holdout != 0 && !o.holdoutDefault)
}

// plainOptions is Options without its JSON methods, to decode strictly.
type plainOptions Options

// ParseOptions decodes options JSON strictly and validates them.
func ParseOptions(data []byte) (Options, error) {
	var o Options
	if err := decodeStrict(data, (*plainOptions)(&o)); err != nil {
		return Options{}, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	o.holdoutSet, o.holdoutFromZero = holdoutGiven(data)
	o = o.WithDefaults()
	return o, o.Validate()
}

// UnmarshalJSON decodes options, telling "holdout": 0 from no holdout.
func (o *Options) UnmarshalJSON(data []byte) error {
	if err := json.Unmarshal(data, (*plainOptions)(o)); err != nil {
		return err
	}
	o.holdoutSet, o.holdoutFromZero = holdoutGiven(data)
	return nil
}

// MarshalJSON writes a holdout of 0 that was given, which omitempty would
// drop and a reader would then take for the default.
func (o Options) MarshalJSON() ([]byte, error) {
	out := struct {
		plainOptions
		Holdout *float64 `json:"holdout,omitempty"`
	}{plainOptions: plainOptions(o)}
	if o.holdoutSet || o.Holdout != 0 {
		out.Holdout = &o.Holdout
	}
	return json.Marshal(out)
}

// holdoutGiven reports whether options JSON names a holdout at all, and
// whether it gives holdout_from as the zero time.
func holdoutGiven(data []byte) (holdout, zeroFrom bool) {
	var probe struct {
		Holdout     *float64   `json:"holdout"`
		HoldoutFrom *time.Time `json:"holdout_from"`
	}
	if json.Unmarshal(data, &probe) != nil {
		return false, false
	}
	return probe.Holdout != nil, probe.HoldoutFrom != nil && probe.HoldoutFrom.IsZero()
}

// WithHoldout sets the holdout fraction, 0 included: the Go spelling of
// "holdout": 0, which a zero Holdout field cannot say.
func (o Options) WithHoldout(fraction float64) Options {
	o.Holdout, o.holdoutSet, o.holdoutDefault = fraction, true, false
	return o
}

// WithDefaults fills in the task, holdout and metric when they are unset.
// A holdout given as 0, or a HoldoutFrom, leaves Holdout at 0.
func (o Options) WithDefaults() Options {
	if o.Task == "" {
		o.Task = model.Classification
	}
	if o.Holdout == 0 && !o.holdoutSet && o.HoldoutFrom.IsZero() {
		o.Holdout, o.holdoutDefault = DefaultHoldout, true
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
	label, labelErr := canonicalPath(o.Label)
	if o.Label != "" && labelErr != nil {
		bad("label", "%s", labelErr)
	}
	seen := make(map[string]bool, len(o.Features))
	for i, f := range o.Features {
		p, err := canonicalPath(f)
		switch {
		case f == "":
			bad(fmt.Sprintf("features[%d]", i), "is empty")
		case err != nil:
			bad(fmt.Sprintf("features[%d]", i), "%s", err)
		case labelErr == nil && p == label:
			bad(fmt.Sprintf("features[%d]", i), "%q is the label", f)
		case seen[p]:
			bad(fmt.Sprintf("features[%d]", i), "%q is repeated", f)
		}
		seen[p] = true
	}
	for _, f := range slices.Sorted(maps.Keys(o.Defaults)) {
		if p, err := canonicalPath(f); err != nil || !seen[p] {
			bad(keyName("defaults", f), "is not one of the features")
		}
	}
	o.validateFeatureOptions(bad)
	if o.TextField != "" {
		p, err := canonicalPath(o.TextField)
		switch {
		case err != nil:
			bad("text", "%s", err)
		case labelErr == nil && p == label:
			bad("text", "%q is the label", o.TextField)
		}
	}
	if o.Holdout < 0 || o.Holdout >= 1 {
		bad("holdout", "%v not in [0, 1) (0 trains on every row and evaluates on none)", o.Holdout)
	}
	if o.holdoutFromZero {
		bad("holdout_from", "%s is the zero time, which reads as no holdout_from: give a later time, or leave holdout_from out", time.Time{}.Format(time.RFC3339))
	}
	if !o.HoldoutFrom.IsZero() && o.HoldoutGiven() {
		bad("holdout_from", "give either holdout (a fraction) or holdout_from (a time), not both")
	}
	if o.Sample != nil {
		for _, err := range o.Sample.validate(o.Task) {
			errs = append(errs, fmt.Errorf("%w: sample.%w", ErrInvalidOptions, err))
		}
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
// with. Labels are the class names, in score order, for a classifier. A
// categorical feature's table is learnt in training: here it is empty.
func (o Options) Spec(name string, labels []string) model.Spec {
	return o.spec(name, labels, nil)
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
	if err := checkYAMLKeys(node); err != nil {
		return err
	}
	if err := node.Decode(&raw); err != nil {
		return err
	}
	*o = Options(raw.plain)
	var probe struct {
		Holdout     *float64   `yaml:"holdout"`
		HoldoutFrom *time.Time `yaml:"holdout_from"`
	}
	if err := node.Decode(&probe); err == nil {
		o.holdoutSet = probe.Holdout != nil
		o.holdoutFromZero = probe.HoldoutFrom != nil && probe.HoldoutFrom.IsZero()
	}
	if raw.Params != nil {
		params, err := json.Marshal(raw.Params)
		if err != nil {
			return fmt.Errorf("params: %w", err)
		}
		o.Params = params
	}
	return nil
}
