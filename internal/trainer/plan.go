package trainer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/train"
)

// FeatureKind is how a feature's value becomes columns.
type FeatureKind uint8

const (
	// NumberFeature is one float column: a number, a boolean (1/0), a
	// timestamp's Unix milliseconds.
	NumberFeature FeatureKind = iota
	// CategoryFeature is one column of category codes.
	CategoryFeature
	// ArrayFeature is Length columns, an array's elements.
	ArrayFeature
	// PartsFeature is a column per part of a timestamp (TimeParts).
	PartsFeature
)

// FeatureRead is how one feature of the options is read: the plan the
// trainer's columns, the REST API's row checks and the spec all follow.
type FeatureRead struct {
	// Given is the path as the options spell it; Path its parsed form,
	// whose String is the canonical spelling the spec carries.
	Given string
	Path  avropath.Path
	Kind  FeatureKind
	// Default stands in for a null or absent number (numbers, arrays and
	// parts).
	Default *float64
	// Categorical are a categorical feature's settings, and MaxCategories
	// the most categories it keeps.
	Categorical   Categorical
	MaxCategories int
	// Array is an array feature's length and pad.
	Array ArrayColumns
	// Parts are a timestamp's parts, in column order.
	Parts []string
}

// Width is the columns the feature takes.
func (f FeatureRead) Width() int {
	switch f.Kind {
	case ArrayFeature:
		return f.Array.Length
	case PartsFeature:
		return len(f.Parts)
	}
	return 1
}

// FeatureReads are how a gbdt or linear model of these options reads each
// of its features, in order: categorical when Categorical lists the path
// (Resolve adds the strings and enums of a schema there). Options that do
// not validate give what can be read of them.
func (o Options) FeatureReads() []FeatureRead {
	if o.Family == Text {
		return nil
	}
	type keyed struct {
		cat   *Categorical
		array *ArrayColumns
		parts []string
		def   *float64
	}
	byPath := map[string]*keyed{}
	at := func(key string) *keyed {
		p, err := canonicalPath(key)
		if err != nil {
			return &keyed{}
		}
		if byPath[p] == nil {
			byPath[p] = &keyed{}
		}
		return byPath[p]
	}
	for k, c := range o.Categorical {
		at(k).cat = &c
	}
	for k, a := range o.Arrays {
		at(k).array = &a
	}
	for k, parts := range o.TimeParts {
		at(k).parts = parts
	}
	for k, d := range o.Defaults {
		at(k).def = &d
	}
	out := make([]FeatureRead, 0, len(o.Features))
	for _, given := range o.Features {
		p, err := avropath.Parse(given)
		if err != nil {
			continue
		}
		f := FeatureRead{Given: given, Path: p}
		k := byPath[p.String()]
		if k == nil {
			k = &keyed{}
		}
		f.Default = k.def
		switch {
		case k.cat != nil:
			f.Kind, f.Categorical, f.MaxCategories = CategoryFeature, *k.cat, o.maxCategories(*k.cat)
			f.Default = nil
		case k.array != nil:
			f.Kind, f.Array = ArrayFeature, *k.array
		case len(k.parts) > 0:
			f.Kind, f.Parts = PartsFeature, k.parts
		}
		out = append(out, f)
	}
	return out
}

// specFeatures are the spec's columns for reads, with each categorical
// feature's table from tables (by feature index; nil before it is
// learnt, which leaves the column numeric in the spec).
func specFeatures(reads []FeatureRead, tables [][]string) []model.Feature {
	var out []model.Feature
	for i, f := range reads {
		name := f.Path.String()
		switch f.Kind {
		case NumberFeature:
			out = append(out, model.Feature{Field: name, Default: f.Default})
		case CategoryFeature:
			var table []string
			if i < len(tables) {
				table = tables[i]
			}
			mf := model.Feature{Field: name, Categories: table}
			if table != nil {
				// Before its table is learnt, a feature has no policy
				// for what the table lacks.
				if f.Categorical.Unknown != "" && f.Categorical.Unknown != UnknownOther {
					mf.Unknown = f.Categorical.Unknown
				}
				mf.UnknownCategory = f.Categorical.UnknownCategory
			}
			out = append(out, mf)
		case ArrayFeature:
			out = append(out, model.Feature{Field: name, Length: f.Array.Length, Pad: f.Array.Pad, Default: f.Default})
		case PartsFeature:
			for _, part := range f.Parts {
				out = append(out, model.Feature{Field: name, Part: part, Default: f.Default})
			}
		}
	}
	return out
}

// spec is the Spec of a model of these options, its categorical features'
// tables given by tables (see specFeatures).
func (o Options) spec(name string, labels []string, tables [][]string) model.Spec {
	spec := model.Spec{Name: name, Task: o.Task, Labels: labels}
	if o.Family == Text {
		field := o.TextField
		if p, err := canonicalPath(field); err == nil {
			field = p
		}
		spec.Inputs = []model.Input{{Name: train.InputText, Type: model.StringInput, Fields: []model.Feature{{Field: field}}}}
	} else {
		spec.Inputs = []model.Input{{Name: train.InputFeatures, Type: model.FloatInput, Fields: specFeatures(o.FeatureReads(), tables)}}
	}
	if o.Task == model.Regression {
		spec.Outputs = model.Outputs{Value: train.OutputVariable}
	} else {
		spec.Outputs = model.Outputs{Scores: train.OutputProbabilities, Margin: train.OutputMargin}
	}
	return spec
}

// Resolve checks every path of the options (features, label, text) against
// a record schema before any record is read, and returns the options with
// every categorical feature listed in Categorical: the strings and enums,
// beside the ints, longs and booleans listed already. It refuses, in one
// error naming each path and its Avro type, a path the schema lacks (unless
// the feature has a default), and a type that cannot feed its column: a
// float or double listed as categorical, a whole array without an arrays
// entry or of other than numbers, time_parts of what is not a timestamp, a
// record, map, bytes or fixed. subject names the schema in the message.
func (o Options) Resolve(schema *avropath.Schema, subject string) (Options, error) {
	var problems []string
	bad := func(path, format string, args ...any) {
		problems = append(problems, path+": "+fmt.Sprintf(format, args...))
	}
	resolve := func(given string) (avropath.Leaf, bool) {
		p, err := avropath.Parse(given)
		if err != nil {
			return avropath.Leaf{}, false // Validate names it
		}
		leaf, err := schema.Resolve(p)
		if err != nil {
			problems = append(problems, err.Error())
			return avropath.Leaf{}, false
		}
		return leaf, true
	}
	out := o
	out.Categorical = CategoricalOptions{}
	for k, v := range o.Categorical {
		out.Categorical[k] = v
	}
	if o.Label != "" {
		if leaf, ok := resolve(o.Label); ok {
			if why := labelFits(o.Task, leaf); why != "" {
				bad(o.Label, "is %s; %s (the label)", leaf.TypeName, why)
			}
		}
	}
	if o.Family == Text {
		if leaf, ok := resolve(o.TextField); ok && leaf.Type != "string" && leaf.Type != "enum" {
			bad(o.TextField, "is %s; a text model reads a string (the text)", leaf.TypeName)
		}
	}
	for _, f := range o.FeatureReads() {
		leaf, err := schema.Resolve(f.Path)
		if err != nil {
			if f.Default != nil && avropath.IsAbsent(err) {
				continue // the schema's records read as the default
			}
			problems = append(problems, err.Error())
			continue
		}
		name := f.Path.String()
		switch f.Kind {
		case CategoryFeature:
			switch leaf.Type {
			case "string", "enum", "int", "long", "boolean":
				if leaf.Logical != "" {
					bad(name, "is %s, a time: not a category (give it as a number, or time_parts)", leaf.TypeName)
				}
			default:
				bad(name, "is %s: a category is a string, an enum, an int, a long or a boolean", leaf.TypeName)
			}
		case ArrayFeature:
			if leaf.Type != "array" || leaf.Items == nil || !numericKind(leaf.Items.Type) || leaf.Items.Logical != "" || leaf.Items.Nullable {
				bad(name, "is %s: %s takes an array of ints, longs, floats or doubles, none null", leaf.TypeName, keyName("arrays", f.Given))
			}
		case PartsFeature:
			if !isTimestamp(leaf) {
				bad(name, "is %s: %s takes a timestamp (timestamp-millis, timestamp-micros or date)", leaf.TypeName, keyName("time_parts", f.Given))
			}
		default:
			switch {
			case leaf.Type == "string" || leaf.Type == "enum":
				// A category without an entry: the table is learnt.
				out.Categorical[f.Given] = Categorical{}
			case leaf.Type == "array":
				bad(name, "is %s: a whole array needs %s.length (its columns), or read one element as %s[0]", leaf.TypeName, keyName("arrays", f.Given), name)
			case numericKind(leaf.Type) || leaf.Type == "boolean":
				if leaf.Logical == "decimal" {
					bad(name, "is %s: a decimal is not read as a number", leaf.TypeName)
				}
			default:
				bad(name, "is %s, which no column takes (a number, boolean, timestamp, string or enum; an array with arrays)", leaf.TypeName)
			}
		}
	}
	if len(problems) > 0 {
		return Options{}, fmt.Errorf("%w: %w: %s: %d %s: %s", ErrInvalidOptions, model.ErrSchemaMismatch,
			subject, len(problems), plural(len(problems), "path does not fit", "paths do not fit"), strings.Join(problems, "; "))
	}
	if len(out.Categorical) == 0 {
		out.Categorical = nil
	}
	// The scorer checks the spec it serves against the schema by the same
	// rules (model.Spec.CheckSchema): a model trained here must pass it.
	reads := out.FeatureReads()
	tables := make([][]string, len(reads))
	for i, f := range reads {
		if f.Kind == CategoryFeature {
			tables[i] = placeholderTable
		}
	}
	if err := out.spec("check", nil, tables).CheckSchema(schema); err != nil {
		return Options{}, fmt.Errorf("%w: %s: %w", ErrInvalidOptions, subject, err)
	}
	return out, out.validateCategoryBins()
}

// validateCategoryBins refuses a gbdt whose max_bins leave no code for a
// category, once it is known that a feature is categorical.
func (o Options) validateCategoryBins() error {
	if o.Family != GBDT || len(o.Categorical) == 0 {
		return nil
	}
	if bins := o.maxBins(); bins < 3 {
		return fmt.Errorf("%w: params.max_bins: %d leaves no bin for a category of the categorical features (the other and null codes take two): give at least 3", ErrInvalidOptions, bins)
	}
	return nil
}

// labelFits says why a label of the task cannot be the leaf, or "".
func labelFits(task model.Task, leaf avropath.Leaf) string {
	if leaf.Type == "union" {
		return "" // each record's branch is read as it comes
	}
	if task == model.Regression {
		if !numericKind(leaf.Type) || leaf.Logical != "" {
			return "a regressor's label is an int, a long, a float or a double"
		}
		return ""
	}
	switch leaf.Type {
	case "string", "enum", "int", "long", "boolean", "float", "double":
		if leaf.Logical != "" {
			return "a class label is a string, an enum, a number or a boolean, not a time"
		}
		return ""
	}
	return "a class label is a string, an enum, a number or a boolean"
}

func numericKind(t string) bool {
	return slices.Contains([]string{"int", "long", "float", "double"}, t)
}

func isTimestamp(leaf avropath.Leaf) bool {
	switch leaf.Logical {
	case "timestamp-millis", "timestamp-micros", "date":
		return true
	}
	return false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
