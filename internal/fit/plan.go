package fit

import (
	"fmt"

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

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
