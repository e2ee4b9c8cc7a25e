package fit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/model"
)

// How features are read, beyond a number per path: the options that make a
// feature categorical, a whole array, or parts of a timestamp. Each is keyed
// by the feature's path as it is given in features (the same path in any
// spelling: "location.lat" and `location["lat"]` are one key), and every
// refusal names the option as `categorical["site"].unknown`.

// Unknown-category policies: what a value the category table does not hold
// becomes when a model scores it. They are the spec's (model.Feature's
// Unknown), which the scorer applies.
const (
	// UnknownOther maps it to the "other" code, as rare values were in
	// training (the default).
	UnknownOther = model.UnknownOther
	// UnknownDeadLetter refuses the record (unknown_category).
	UnknownDeadLetter = model.UnknownDeadLetter
	// UnknownCategory maps it to the code of Categorical.UnknownCategory.
	UnknownCategory = model.UnknownCategory
)

// Timestamp parts a feature can read instead of the Unix milliseconds,
// of the UTC time: the spec's (model.Feature's Part).
const (
	PartHourOfDay = model.HourOfDay // 0 to 23
	PartDayOfWeek = model.DayOfWeek // 0 Monday to 6 Sunday
)

// DefaultMaxCategories is the most categories a feature keeps when the
// options set no max_categories: the most frequent in the training rows,
// the others read as "other". With the other and null codes, 253 fills a
// gbdt's 255 bins.
const DefaultMaxCategories = 253

// maxLinearCategories bounds a linear model's categories per feature: each
// is a one-hot column of its own.
const maxLinearCategories = 1000

// MaxArrayLength bounds arrays.<path>.length: each element is a column,
// and the spec takes no longer array.
const MaxArrayLength = model.MaxArrayLength

// Categorical tunes one categorical feature. Strings and enums are
// categorical without an entry; an int or long feature is categorical only
// with one (a code, not a quantity). Floats never are.
type Categorical struct {
	// Max bounds the categories kept (the most frequent in the training
	// rows); nil takes max_categories.
	Max *int `json:"max,omitempty" yaml:"max"`
	// Unknown is UnknownOther (default), UnknownDeadLetter or
	// UnknownCategory.
	Unknown string `json:"unknown,omitempty" yaml:"unknown"`
	// UnknownCategory is the category an unknown value becomes, with
	// Unknown set to UnknownCategory; it is always kept in the table.
	UnknownCategory string `json:"unknown_category,omitempty" yaml:"unknown_category"`
}

// ArrayColumns reads a whole array feature as Length consecutive columns.
type ArrayColumns struct {
	// Length is the number of elements, and of columns; a longer array is
	// refused (wrong_type).
	Length int `json:"length" yaml:"length"`
	// Pad fills a shorter array's missing elements; without it a shorter
	// array is refused (short_array).
	Pad *float64 `json:"pad,omitempty" yaml:"pad"`
}

// CategoricalOptions are Categorical settings by feature path.
type CategoricalOptions map[string]Categorical

// ArrayOptions are ArrayColumns by feature path.
type ArrayOptions map[string]ArrayColumns

// UnmarshalJSON decodes each entry strictly, naming it in errors
// (`categorical["site"].maxx: unknown field`).
func (c *CategoricalOptions) UnmarshalJSON(data []byte) error {
	out, err := decodeKeyed[Categorical]("categorical", data)
	*c = out
	return err
}

// UnmarshalJSON decodes each entry strictly, naming it in errors.
func (a *ArrayOptions) UnmarshalJSON(data []byte) error {
	out, err := decodeKeyed[ArrayColumns]("arrays", data)
	*a = out
	return err
}

// decodeKeyed decodes a JSON object of objects, each strictly, with errors
// naming option["key"].
func decodeKeyed[T any](option string, data []byte) (map[string]T, error) {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return nil, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: is not an object of features to settings", option)
	}
	out := make(map[string]T, len(raw))
	keys := slices.Sorted(maps.Keys(raw))
	for _, k := range keys {
		var v T
		if err := decodeStrict(raw[k], &v); err != nil {
			if settingError.MatchString(err.Error()) {
				// "max: is a JSON string" is categorical["site"].max's.
				return nil, fmt.Errorf("%s.%w", keyName(option, k), err)
			}
			return nil, fmt.Errorf("%s: %w", keyName(option, k), err)
		}
		out[k] = v
	}
	return out, nil
}

// settingError is a decoding error that starts with the setting's name.
var settingError = regexp.MustCompile(`^[a-z_]+: `)

// keyName is how errors name an option's entry: categorical["site"].
func keyName(option, key string) string {
	return option + "[" + strconv.Quote(key) + "]"
}

// validateFeatureOptions is what Validate checks of the options that say
// how features are read; bad reports one problem naming its option.
func (o Options) validateFeatureOptions(bad func(field, format string, args ...any)) {
	text := o.Family == Text
	if text {
		for _, given := range []struct {
			name string
			set  bool
		}{{"categorical", len(o.Categorical) > 0}, {"arrays", len(o.Arrays) > 0}, {"time_parts", len(o.TimeParts) > 0}, {"max_categories", o.MaxCategories != nil}} {
			if given.set {
				bad(given.name, "a text model reads one text field: it takes no %s", given.name)
			}
		}
		return
	}
	// Features by canonical path; keys of the options below are matched
	// against them in any spelling of the same path.
	byPath := map[string]string{}
	for _, f := range o.Features {
		if p, err := canonicalPath(f); err == nil {
			byPath[p] = f
		}
	}
	// feature finds key among the features, or reports why it cannot.
	feature := func(name, key string) (string, bool) {
		p, err := canonicalPath(key)
		if err != nil {
			bad(name, "%s", err)
			return "", false
		}
		if _, ok := byPath[p]; !ok {
			bad(name, "%q is not one of the features", key)
			return "", false
		}
		return p, true
	}
	limit, limitWhy := o.categoryLimit()
	if o.MaxCategories != nil {
		if n := *o.MaxCategories; n < 1 || n > limit {
			bad("max_categories", "%d is not in [1, %d] (%s)", n, limit, limitWhy)
		}
	}
	kinds := map[string]string{} // canonical path -> the option that shapes it
	// claim names option[key] and finds key among the features, claiming
	// it for option: ok is false when key is no feature, reported.
	claim := func(option, key string) (name string, ok bool) {
		name = keyName(option, key)
		path, ok := feature(name, key)
		if !ok {
			return name, false
		}
		if other, taken := kinds[path]; taken {
			bad(name, "the feature is in %s already: a feature is read one way", other)
		} else {
			kinds[path] = option
		}
		return name, true
	}
	for _, key := range slices.Sorted(maps.Keys(o.Categorical)) {
		c := o.Categorical[key]
		name, ok := claim("categorical", key)
		if !ok {
			continue
		}
		if c.Max != nil {
			if n := *c.Max; n < 1 || n > limit {
				bad(name+".max", "%d is not in [1, %d] (%s)", n, limit, limitWhy)
			}
		}
		switch c.Unknown {
		case "", UnknownOther, UnknownDeadLetter:
			if c.UnknownCategory != "" {
				bad(name+".unknown_category", "applies only with unknown: %s", UnknownCategory)
			}
		case UnknownCategory:
			if c.UnknownCategory == "" {
				bad(name+".unknown_category", "is required with unknown: %s (the category an unknown value becomes)", UnknownCategory)
			}
		default:
			bad(name+".unknown", "%q is not one of %s, %s, %s", c.Unknown, UnknownOther, UnknownDeadLetter, UnknownCategory)
		}
		if _, ok := o.Defaults[key]; ok {
			bad(keyName("defaults", key), "a categorical feature reads null as a category of its own: it takes no default")
		}
	}
	for _, key := range slices.Sorted(maps.Keys(o.Arrays)) {
		a := o.Arrays[key]
		name, ok := claim("arrays", key)
		if !ok {
			continue
		}
		if a.Length < 1 || a.Length > MaxArrayLength {
			bad(name+".length", "%d is not in [1, %d] (the array's columns)", a.Length, MaxArrayLength)
		}
		if a.Pad != nil && (math.IsNaN(*a.Pad) || math.IsInf(*a.Pad, 0)) {
			bad(name+".pad", "%v is not a finite number", *a.Pad)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(o.TimeParts)) {
		parts := o.TimeParts[key]
		name, ok := claim("time_parts", key)
		if !ok {
			continue
		}
		if len(parts) == 0 {
			bad(name, "is empty: give %s, %s or both", PartHourOfDay, PartDayOfWeek)
		}
		for i, p := range parts {
			at := fmt.Sprintf("%s[%d]", name, i)
			switch {
			case p != PartHourOfDay && p != PartDayOfWeek:
				bad(at, "%q is not %s or %s", p, PartHourOfDay, PartDayOfWeek)
			case slices.Index(parts, p) < i:
				bad(at, "%q is repeated", p)
			}
		}
	}
}

// categoryLimit is the most categories a feature of these options may keep,
// and why: a gbdt's codes (categories, other and null) must fit its bins.
func (o Options) categoryLimit() (int, string) {
	if o.Family == Linear {
		return maxLinearCategories, "each category of a linear model is a column of its own"
	}
	bins := o.maxBins()
	return bins - 2, fmt.Sprintf("a gbdt's categories, with the other and null codes, fit its max_bins of %d", bins)
}

// maxBins is a gbdt's max_bins, as its params give it or by default; a
// param that does not decode is left to params() to report.
func (o Options) maxBins() int {
	var p struct {
		MaxBins *int `json:"max_bins"`
	}
	if len(bytes.TrimSpace(o.Params)) > 0 && json.Unmarshal(o.Params, &p) == nil && p.MaxBins != nil && *p.MaxBins >= minGBDTBins {
		return min(*p.MaxBins, maxGBDTBins)
	}
	return maxGBDTBins
}

// maxCategories is the most categories a feature of settings c keeps.
func (o Options) maxCategories(c Categorical) int {
	limit, _ := o.categoryLimit()
	switch {
	case c.Max != nil:
		return *c.Max
	case o.MaxCategories != nil:
		return *o.MaxCategories
	}
	return min(DefaultMaxCategories, limit)
}

// checkYAMLKeys refuses, naming them, the keys of an options mapping (and
// of its categorical, arrays, time_parts and sample entries) that no
// option has: yaml.v3 checks known fields only at the top of a document,
// and a misspelt "unkown: dead_letter" would otherwise be ignored.
func checkYAMLKeys(node *yaml.Node) error {
	var errs []error
	unknown := func(at string, key *yaml.Node) {
		errs = append(errs, fmt.Errorf("%s: unknown field (line %d)", at, key.Line))
	}
	fields := func(n *yaml.Node, prefix string, known []string, each func(key string, value *yaml.Node)) {
		if n.Kind != yaml.MappingNode {
			return // the decoder names the wrong kind itself
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch {
			case known != nil && !slices.Contains(known, k.Value):
				unknown(prefix+k.Value, k)
			case each != nil:
				each(k.Value, v)
			}
		}
	}
	fields(node, "", yamlOptionKeys, func(key string, v *yaml.Node) {
		switch key {
		case "categorical":
			fields(v, "", nil, func(path string, entry *yaml.Node) {
				fields(entry, keyName("categorical", path)+".", []string{"max", "unknown", "unknown_category"}, nil)
			})
		case "arrays":
			fields(v, "", nil, func(path string, entry *yaml.Node) {
				fields(entry, keyName("arrays", path)+".", []string{"length", "pad"}, nil)
			})
		case "sample":
			fields(v, "sample.", []string{"max_rows", "keep_classes", "seed"}, nil)
		}
	})
	return errors.Join(errs...)
}

// yamlOptionKeys are the keys of an options mapping in YAML.
var yamlOptionKeys = strings.Fields("family task features defaults text label holdout holdout_from sample metric params categorical max_categories arrays time_parts subject")

// canonicalPath parses a feature path and returns its canonical spelling,
// by which options name the same feature however it is spelt.
func canonicalPath(s string) (string, error) {
	p, err := avropath.Parse(s)
	if err != nil {
		return "", err
	}
	return p.String(), nil
}
