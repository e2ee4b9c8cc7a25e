package fit

import (
	"slices"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/model"
)

// A new version is judged against the champion on the same holdout rows,
// read as each model reads them. The trainer maps each row once, into the
// new model's columns; ExtraFeatures says which of the champion's fields
// must be kept raw beside them (TableConfig.Extra).

// ExtraFeatures are the features of other's float inputs at paths that
// opts' model does not read exactly as other does: the same features at
// the path, each with the same length, pad, part and default, categorical
// on both sides or on neither (the categories themselves may differ: rows
// show a category as the value it was). A path read otherwise is kept
// whole, every feature of other at it.
func ExtraFeatures(opts Options, other model.Spec) []model.Feature {
	own := map[string][]model.Feature{}
	if opts.Family != Text {
		reads := opts.FeatureReads()
		tables := make([][]string, len(reads))
		for i, f := range reads {
			if f.Kind == CategoryFeature {
				tables[i] = placeholderTable
			}
		}
		for _, f := range specFeatures(reads, tables) {
			own[f.Field] = append(own[f.Field], f)
		}
	}
	theirs := map[string][]model.Feature{}
	var order []string
	for _, in := range other.Inputs {
		if in.Type == model.StringInput {
			continue
		}
		for _, f := range in.Fields {
			key := f.Field
			if p, err := avropath.Parse(f.Field); err == nil {
				key = p.String()
			}
			if theirs[key] == nil {
				order = append(order, key)
			}
			theirs[key] = append(theirs[key], f)
		}
	}
	var extra []model.Feature
	for _, key := range order {
		if !sameReading(own[key], theirs[key]) {
			extra = append(extra, theirs[key]...)
		}
	}
	return extra
}

// sameReading reports whether two models read a path into the same
// columns.
func sameReading(a, b []model.Feature) bool {
	return slices.EqualFunc(a, b, func(x, y model.Feature) bool {
		return x.Length == y.Length && samePtr(x.Pad, y.Pad) && x.Part == y.Part &&
			samePtr(x.Default, y.Default) && x.Categorical() == y.Categorical()
	})
}

func samePtr(a, b *float64) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}
