package drift

import (
	"errors"
	"fmt"
	"math"

	"github.com/streamscore/streamscore/internal/model"
)

// ErrBadProfile marks a profile that does not describe its spec, or
// breaks its own bounds.
var ErrBadProfile = errors.New("bad drift profile")

// Check reports whether p is a reference of spec's rows that a window can
// compare with: each feature a column of spec, of its kind and name, with
// its bins well formed. A profile comes from the catalog, which anyone
// able to write to its topic can write to, so nothing in it is trusted.
func (p *Profile) Check(spec model.Spec) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadProfile, fmt.Sprintf(format, args...))
	}
	if p.Rows < 0 {
		return bad("rows %d", p.Rows)
	}
	if len(p.Features) > MaxFeatures {
		return bad("%d features, over %d", len(p.Features), MaxFeatures)
	}
	byPlace := map[[2]int]column{}
	for _, c := range allColumns(spec) {
		byPlace[[2]int{c.input, c.col}] = c
	}
	for i := range p.Features {
		f := &p.Features[i]
		c, ok := byPlace[[2]int{f.Input, f.Column}]
		switch {
		case !ok:
			return bad("feature %d (%q): input %d column %d is no column of the spec", i, f.Name, f.Input, f.Column)
		case c.kind != f.Kind || c.name != f.Name:
			return bad("feature %d is %s %q where the spec has %s %q", i, f.Kind, f.Name, c.kind, c.name)
		case !isShare(f.NullRate):
			return bad("feature %q: null rate %v", f.Name, f.NullRate)
		case f.OOVRate != nil && !isShare(*f.OOVRate):
			return bad("feature %q: oov rate %v", f.Name, *f.OOVRate)
		}
		want := len(f.Edges) + 1
		if f.Kind == KindCategorical {
			want = c.feature.Codes()
			if len(f.Edges) > 0 {
				return bad("feature %q: a categorical feature has no edges", f.Name)
			}
		}
		if err := checkBins(f.Edges, f.Shares, want); err != nil {
			return bad("feature %q: %s", f.Name, err)
		}
		if !finite(f.Min) || !finite(f.Max) || f.Min > f.Max {
			return bad("feature %q: min %v, max %v", f.Name, f.Min, f.Max)
		}
		if f.Vocabulary != "" {
			if f.Kind != KindText {
				return bad("feature %q: only a text feature has a vocabulary", f.Name)
			}
			if _, err := decodeVocabulary(f.Vocabulary); err != nil {
				return bad("feature %q: %s", f.Name, err)
			}
		}
	}
	pr := p.Prediction
	if len(pr.Shares) > 0 || len(pr.Edges) > 0 {
		if scoreOf(spec) == noScore {
			return bad("prediction: a model without a single score has no score bins")
		}
		if err := checkBins(pr.Edges, pr.Shares, len(pr.Edges)+1); err != nil {
			return bad("prediction: %s", err)
		}
	}
	for label, s := range pr.ClassShares {
		if !isShare(s) {
			return bad("prediction: class %q share %v", label, s)
		}
	}
	return nil
}

// checkBins holds edges and shares to what a reference's bins are:
// edges finite, ascending and distinct, at most referenceBins-1; want
// shares, each in [0, 1].
func checkBins(edges, shares []float64, want int) error {
	if len(edges) > referenceBins-1 {
		return fmt.Errorf("%d edges, over %d", len(edges), referenceBins-1)
	}
	for i, e := range edges {
		if !finite(e) || i > 0 && e <= edges[i-1] {
			return fmt.Errorf("edges are not finite, ascending and distinct at %d", i)
		}
	}
	if len(shares) != want {
		return fmt.Errorf("%d shares, want %d", len(shares), want)
	}
	for _, s := range shares {
		if !isShare(s) {
			return fmt.Errorf("share %v is outside [0, 1]", s)
		}
	}
	return nil
}

func isShare(s float64) bool { return s >= 0 && s <= 1 && !math.IsNaN(s) }
