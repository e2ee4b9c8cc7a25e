package drift

import (
	"github.com/streamscore/streamscore/internal/model"
)

// Window accumulates one monitoring window of live rows of one model
// version. Not safe for concurrent use.
type Window struct {
	reference bool
	cols      []liveColumn // what Observe counts
	meta      []columnMeta // beside cols: what Report needs
	records   int64

	score       scoreKind
	scoreBins   binner
	scoreShares []float64
	scoreCounts []int64
	scorePSI    []int
	scorePSIN   int
	scoreSum    float64
	scored      int64
	classify    bool
	classes     classCounter
}

// liveColumn is what a window counts of one column, and what Observe
// needs to count it: kept apart from what only Report reads, so that the
// columns Observe walks take few cache lines.
type liveColumn struct {
	kindCode            kindCode
	input, col          int
	nullCode, otherCode int

	counts     []int64 // per bin, or per code; nil without a reference
	nulls      int64
	values     int64 // finite, non-null values (numeric), or texts
	nonFinite  int64
	outOfRange int64
	sum        float64
	min, max   float64 // the reference's
	words      int64
	outside    int64
	vocab      *vocabulary
	bins       binner
}

// columnMeta is what Report needs of a column besides its counts.
type columnMeta struct {
	column
	ref     *FeatureProfile
	psiBin  []int
	psiBins int
}

// NewWindow returns an empty window of spec's rows, compared with ref.
// With ref nil, or a ref that does not describe spec (Profile.Check), it
// counts rows, null rates and means only.
func NewWindow(spec model.Spec, ref *Profile) *Window {
	if ref != nil && ref.Check(spec) != nil {
		ref = nil
	}
	w := &Window{reference: ref != nil, score: scoreOf(spec), classify: classifier(spec), classes: newClassCounter(spec.Labels)}
	if ref == nil {
		cols, _ := specColumns(spec)
		for _, c := range cols {
			w.add(c, nil)
		}
		return w
	}
	byPlace := map[[2]int]column{}
	for _, c := range allColumns(spec) {
		byPlace[[2]int{c.input, c.col}] = c
	}
	for i := range ref.Features {
		f := &ref.Features[i]
		w.add(byPlace[[2]int{f.Input, f.Column}], f)
	}
	if w.score != noScore && len(ref.Prediction.Shares) > 0 {
		w.scoreBins, w.scoreShares = newBinner(ref.Prediction.Edges), ref.Prediction.Shares
		w.scoreCounts = make([]int64, len(w.scoreShares))
		w.scorePSI, w.scorePSIN = psiBins(w.scoreShares)
	}
	return w
}

// add adds column c, compared with ref when it is not nil.
func (w *Window) add(c column, ref *FeatureProfile) {
	lc := liveColumn{kindCode: codeOf(c.kind), input: c.input, col: c.col}
	meta := columnMeta{column: c, ref: ref}
	if c.kind == KindCategorical {
		lc.nullCode, lc.otherCode = c.feature.CodeNull(), c.feature.CodeOther()
	}
	if ref != nil {
		lc.counts = make([]int64, len(ref.Shares))
		if c.kind != KindCategorical {
			lc.bins, lc.min, lc.max = newBinner(ref.Edges), ref.Min, ref.Max
			meta.psiBin, meta.psiBins = psiBins(ref.Shares)
			if ref.Vocabulary != "" {
				lc.vocab, _ = decodeVocabulary(ref.Vocabulary) // Check decoded it
			}
		}
	}
	w.cols = append(w.cols, lc)
	w.meta = append(w.meta, meta)
}

// Observe adds row of b, after Run, and its result r. It allocates
// nothing.
func (w *Window) Observe(b *model.Batch, row int, r model.Result) {
	w.records++
	input := -1
	var (
		values []float32
		nulls  []bool
	)
	for i := range w.cols {
		c := &w.cols[i]
		if c.kindCode == textCode {
			c.observeText(b.Text(c.input, row))
			continue
		}
		if c.input != input {
			input = c.input
			values, nulls = b.Numbers(input, row)
		}
		v := values[c.col]
		switch {
		case c.kindCode == categoricalCode:
			c.observeCode(v, nulls[c.col])
		case nulls[c.col]:
			c.nulls++
		default:
			// observeNumber, written out: Observe is called for every
			// row, and a call per column was a fair share of its cost.
			x := float64(v)
			if x-x != 0 { // NaN or infinite
				c.nonFinite++
				continue
			}
			c.values++
			c.sum += x
			if c.counts != nil {
				c.counts[c.bins.bin(x)]++
				if x < c.min || x > c.max {
					c.outOfRange++
				}
			}
		}
	}
	if w.classify {
		w.classes.add(r)
	}
	if w.score != noScore && r.HasValue && finite(r.Value) {
		w.scored++
		w.scoreSum += r.Value
		if w.scoreCounts != nil {
			w.scoreCounts[w.scoreBins.bin(r.Value)]++
		}
	}
}

func (c *liveColumn) observeCode(v float32, null bool) {
	code := int(v)
	if null || code == c.nullCode {
		c.nulls++
	}
	if c.counts != nil && float32(code) == v && code >= 0 && code < len(c.counts) {
		c.counts[code]++
	}
}

func (c *liveColumn) observeText(s string) {
	n := float64(len(s))
	c.values++
	c.sum += n
	if c.counts == nil {
		return
	}
	c.counts[c.bins.bin(n)]++
	if c.vocab != nil {
		words, outside := c.vocab.count(s)
		c.words += words
		c.outside += outside
	}
}

// Records is the number of rows observed since the last Reset.
func (w *Window) Records() int64 { return w.records }

// Reset empties the window.
func (w *Window) Reset() {
	w.records, w.scored, w.scoreSum = 0, 0, 0
	clear(w.scoreCounts)
	w.classes.reset()
	for i := range w.cols {
		c := &w.cols[i]
		clear(c.counts)
		c.nulls, c.values, c.nonFinite, c.outOfRange, c.sum, c.words, c.outside = 0, 0, 0, 0, 0, 0, 0
	}
}

// kindCode is a column's kind as Observe switches on it.
type kindCode uint8

const (
	numericCode kindCode = iota
	categoricalCode
	textCode
)

func codeOf(kind string) kindCode {
	switch kind {
	case KindCategorical:
		return categoricalCode
	case KindText:
		return textCode
	}
	return numericCode
}
