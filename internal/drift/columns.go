package drift

import (
	"fmt"

	"github.com/streamscore/streamscore/internal/model"
)

// MaxFeatures is the most columns a profile or a window describes: a
// model wider than that has its first MaxFeatures columns, in the spec's
// input and column order, profiled and monitored, and the rest not.
const MaxFeatures = 1024

// column is one model column as drift sees it.
type column struct {
	name, kind string
	input, col int // the input's index in the spec, the column's in the input
	feature    model.Feature
}

// specColumns are spec's columns in input and column order, at most
// MaxFeatures of them (truncated says there were more).
func specColumns(spec model.Spec) (cols []column, truncated bool) {
	cols = allColumns(spec)
	if len(cols) > MaxFeatures {
		return cols[:MaxFeatures], true
	}
	return cols, false
}

// allColumns are spec's columns in input and column order: a whole array
// is one column per element, named window[3]; a part of a timestamp is
// named ts:hour_of_day.
func allColumns(spec model.Spec) (cols []column) {
	for i, in := range spec.Inputs {
		if in.Type == model.StringInput {
			if len(in.Fields) > 0 {
				cols = append(cols, column{name: in.Fields[0].Field, kind: KindText, input: i, feature: in.Fields[0]})
			}
			continue
		}
		at := 0
		for _, f := range in.Fields {
			switch {
			case f.Categorical():
				cols = append(cols, column{name: f.Field, kind: KindCategorical, input: i, col: at, feature: f})
			case f.Length > 0:
				for j := range f.Length {
					cols = append(cols, column{name: fmt.Sprintf("%s[%d]", f.Field, j), kind: KindNumeric, input: i, col: at + j, feature: f})
				}
			case f.Part != "":
				cols = append(cols, column{name: f.Field + ":" + f.Part, kind: KindNumeric, input: i, col: at, feature: f})
			default:
				cols = append(cols, column{name: f.Field, kind: KindNumeric, input: i, col: at, feature: f})
			}
			at += max(f.Length, 1)
		}
	}
	return cols
}

// scoreKind says which score of a model's results a profile bins.
type scoreKind uint8

const (
	noScore scoreKind = iota
	// positiveScore is a binary classifier's score of its positive
	// (last) class.
	positiveScore
	// regressionValue is a regressor's value.
	regressionValue
)

func scoreOf(spec model.Spec) scoreKind {
	switch {
	case spec.Task == model.Regression:
		return regressionValue
	case spec.Outputs.Scores != "" && len(spec.Labels) == 2:
		return positiveScore
	}
	return noScore
}

// classifier reports whether spec's results carry a label.
func classifier(spec model.Spec) bool { return spec.Task == model.Classification }

// maxExtraLabels bounds the labels counted that a spec does not name (a
// label-only classifier's): a model that makes up labels cannot grow a
// window without end.
const maxExtraLabels = 64

// classCounter counts results by label without allocating, but for the
// first sighting of a label the spec does not name.
type classCounter struct {
	labels []string
	counts []int64
	extra  map[string]int64
}

func newClassCounter(labels []string) classCounter {
	return classCounter{labels: labels, counts: make([]int64, len(labels))}
}

// add counts r's label. A result with one score per label has the label
// of its highest score (the first on a tie), as model.Run names it: found
// without comparing strings.
func (c *classCounter) add(r model.Result) {
	if len(r.Scores) == len(c.labels) && len(r.Scores) > 0 {
		best := 0
		for i, s := range r.Scores {
			if s > r.Scores[best] {
				best = i
			}
		}
		c.counts[best]++
		return
	}
	for i, l := range c.labels {
		if l == r.Label {
			c.counts[i]++
			return
		}
	}
	if _, ok := c.extra[r.Label]; ok || len(c.extra) < maxExtraLabels {
		if c.extra == nil {
			c.extra = map[string]int64{}
		}
		c.extra[r.Label]++
	}
}

// shares are the counts over total, rounded; nil when total is 0.
func (c *classCounter) shares(total int64) map[string]float64 {
	if total == 0 {
		return nil
	}
	out := make(map[string]float64, len(c.labels)+len(c.extra))
	for i, l := range c.labels {
		out[l] = roundShare(float64(c.counts[i]) / float64(total))
	}
	for l, n := range c.extra {
		out[l] = roundShare(float64(n) / float64(total))
	}
	return out
}

func (c *classCounter) reset() {
	clear(c.counts)
	clear(c.extra)
}
