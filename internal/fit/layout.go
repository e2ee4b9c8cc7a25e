package fit

import (
	"errors"
	"math"
	"slices"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/train"
)

// layout is what columns keep of a record: the model's own columns, read
// through the mapping the scorer serves (model.InputReader), the label,
// and the raw values of another model's features (the champion's).
//
// A row's columns follow the features' order, each feature taking
// FeatureRead.Width of them. Numbers, arrays and timestamp parts are read
// by one reader, as the scorer reads them; a categorical feature's column
// holds the value's index in the column's dictionary until its table is
// learnt (categories.go).
type layout struct {
	task  model.Task
	text  bool
	label string
	// labelReader reads label, parsed once.
	labelReader *labelReader
	// reads are a gbdt or linear model's features; textPath a text
	// model's text.
	reads    []FeatureRead
	textPath avropath.Path
	// reader reads the text, or every column but the categorical ones,
	// in order; numAt places them in the row (nil when there is no
	// categorical feature: they are the row). readerErr, when the paths
	// do not parse (options validation refuses them first), fails every
	// row.
	reader    *model.InputReader
	readerErr error
	numAt     []int
	// nullable are the reader's columns that can be null (those with a
	// default): each row keeps a bit per such column saying whether it
	// was, nullWords words of them, for the version's drift reference.
	nullable  []int
	nullWords int
	// cats are the categorical features; catReader.Category(j, rec) reads
	// cats[j]'s value. catOf[i] is reads[i]'s index in cats, or -1.
	cats      []catColumn
	catReader *model.InputReader
	catOf     []int
	width     int
	// extra are the features of another model kept raw (see extraColumn),
	// extraWidth columns a row, the last of which (refusedAt) says whether
	// that model's scorer would refuse the row, and why (see readExtra).
	// extraAllowNonFinite is that model's Spec.AllowNonFinite.
	extra               []extraColumn
	extraWidth          int
	refusedAt           int
	extraAllowNonFinite bool
	sample              Sample
	keep                map[string]bool
}

// catColumn is a categorical feature: reads[read], at column at.
type catColumn struct{ read, at int }

// extraColumn is a feature of another model whose reading this model's
// columns do not hold: its value as read, NaN when null, or for a
// categorical feature its index in a dictionary of its own. outside is
// the value shown for one past that dictionary's bound: one the other
// model's table lacks.
type extraColumn struct {
	feature     model.Feature
	path        avropath.Path
	reader      *model.InputReader // nil when the path does not parse
	categorical bool
	outside     string
	at, width   int
}

// placeholderTable stands for a categorical feature's table while its
// categories are read, not yet learnt: readers need one, and Category
// does not look at it.
var placeholderTable = []string{outsideValue(nil)}

// newLayout is the layout of opts' model, with extra, features of another
// model (the champion's) that it does not read the same way, kept raw
// beside its own.
func newLayout(opts Options, extra []model.Feature) *layout {
	l := &layout{task: opts.Task, text: opts.Family == Text, label: opts.Label, labelReader: newLabelReader(opts.Label)}
	if l.text {
		in := opts.Spec("", nil).Inputs[0]
		l.textPath, _ = avropath.Parse(in.Fields[0].Field)
		l.reader, l.readerErr = in.Reader()
		l.width = 1
	} else {
		l.reads = opts.FeatureReads()
		var numbers, cats []model.Feature
		for i, f := range l.reads {
			l.catOf = append(l.catOf, -1)
			if f.Kind == CategoryFeature {
				l.catOf[i] = len(l.cats)
				l.cats = append(l.cats, catColumn{read: i, at: l.width})
				cats = append(cats, model.Feature{Field: f.Path.String(), Categories: placeholderTable})
				l.width++
				continue
			}
			for _, nf := range specFeatures([]FeatureRead{f}, nil) {
				for range max(nf.Length, 1) {
					if nf.Default != nil {
						l.nullable = append(l.nullable, len(l.numAt))
					}
					l.numAt = append(l.numAt, l.width)
					l.width++
				}
				numbers = append(numbers, nf)
			}
		}
		l.nullWords = (len(l.nullable) + 63) / 64
		if len(cats) == 0 {
			l.numAt = nil
		}
		if len(numbers) > 0 {
			l.reader, l.readerErr = model.Input{Name: train.InputFeatures, Fields: numbers}.Reader()
		}
		if len(cats) > 0 && l.readerErr == nil {
			l.catReader, l.readerErr = model.Input{Name: train.InputFeatures, Fields: cats}.Reader()
		}
	}
	for _, f := range extra {
		x := extraColumn{feature: f, categorical: f.Categorical(), outside: outsideValue(f.Categories), at: l.extraWidth, width: max(f.Length, 1)}
		x.path, _ = avropath.Parse(f.Field)
		read := f
		read.Default = nil // NaN when null: the other model applies its own
		if x.categorical {
			read = model.Feature{Field: f.Field, Categories: placeholderTable}
		}
		x.reader, _ = model.Input{Name: "extra", Fields: []model.Feature{read}}.Reader()
		l.extra = append(l.extra, x)
		l.extraWidth += x.width
	}
	if len(l.extra) > 0 {
		l.refusedAt = l.extraWidth
		l.extraWidth++
	}
	if opts.Sample != nil {
		l.sample = *opts.Sample
		l.keep = map[string]bool{}
		for _, c := range opts.Sample.KeepClasses {
			l.keep[c] = true
		}
	}
	return l
}

// readRow maps rec's features into c.row: numbers as read, categorical
// values as dictionary indices (rawNull when null or absent).
func (c *columns) readRow(rec map[string]any) error {
	l := c.layout
	if l.readerErr != nil {
		return l.readerErr
	}
	if l.numAt == nil {
		row, nulls, err := l.reader.AppendNumbersNulls(c.row[:0], c.numNulls[:0], rec, false)
		if err != nil {
			return err
		}
		c.row, c.numNulls = row, nulls
		c.keepNulls()
		return nil
	}
	c.row = c.row[:l.width]
	if l.reader != nil {
		nums, nulls, err := l.reader.AppendNumbersNulls(c.nums[:0], c.numNulls[:0], rec, false)
		if err != nil {
			return err
		}
		c.nums, c.numNulls = nums, nulls
		c.keepNulls()
		for k, v := range nums {
			c.row[l.numAt[k]] = v
		}
	}
	for j, cc := range l.cats {
		v, present, err := l.catReader.Category(j, rec)
		if err != nil {
			return err
		}
		raw := float32(rawNull)
		if present {
			raw = c.dicts[j].code(v)
		}
		c.row[cc.at] = raw
	}
	return nil
}

// keepNulls sets the row's null bits from the reader's null flags.
func (c *columns) keepNulls() {
	clear(c.nullRow)
	for b, k := range c.layout.nullable {
		if c.numNulls[k] {
			c.nullRow[b/64] |= 1 << (b % 64)
		}
	}
}

// rowNulls writes row r's null flags, one per column of the row, into
// dst: the columns that took their default.
func (c *columns) rowNulls(r int, dst []bool) {
	clear(dst)
	l := c.layout
	bits := c.nulls[r*l.nullWords : (r+1)*l.nullWords]
	for b, k := range l.nullable {
		if bits[b/64]&(1<<(b%64)) != 0 {
			at := k
			if l.numAt != nil {
				at = l.numAt[k]
			}
			dst[at] = true
		}
	}
}

// readExtra maps rec's extra features into c.extraRow. A feature the
// other model's scorer could not read (a wrong type, a short array, a
// value not finite) marks the row refused, with the reason of the first
// in that model's order: the row is then counted as that scorer would
// count it, not shown to the model as a null it would read.
func (c *columns) readExtra(rec map[string]any) {
	l := c.layout
	if len(l.extra) == 0 {
		return
	}
	refused := ""
	for i, x := range l.extra {
		dst := c.extraRow[x.at : x.at+x.width : x.at+x.width]
		for k := range dst {
			dst[k] = float32(math.NaN())
		}
		var err error
		switch {
		case x.reader == nil:
		case x.categorical:
			dst[0] = rawNull
			var (
				v       string
				present bool
			)
			if v, present, err = x.reader.Category(0, rec); err == nil && present {
				dst[0] = c.extraDicts[i].code(v)
			}
		default:
			// Without its default (newLayout), a null is missing_feature:
			// kept as NaN, the other model applies its own.
			if _, err = x.reader.AppendNumbers(dst[:0], rec, l.extraAllowNonFinite); err != nil {
				for k := range dst {
					dst[k] = float32(math.NaN()) // a failed read may have written some
				}
				if errors.Is(err, model.ErrMissingFeature) {
					err = nil
				}
			}
		}
		if err != nil && refused == "" {
			refused = deadletter.Classify(err)
		}
	}
	c.extraRow[l.refusedAt] = 0
	if refused != "" {
		k := slices.Index(c.refusals, refused)
		if k < 0 {
			k = len(c.refusals)
			c.refusals = append(c.refusals, refused)
		}
		c.extraRow[l.refusedAt] = float32(k + 1)
	}
}

// refused is why the other model's scorer would refuse row r, if it would
// (see readExtra).
func (c *columns) refused(r int) (string, bool) {
	l := c.layout
	if len(l.extra) == 0 {
		return "", false
	}
	k := int(c.extra[r*l.extraWidth+l.refusedAt])
	if k == 0 {
		return "", false
	}
	return c.refusals[k-1], true
}

// writeRecord writes row r as the record it was read from, as far as the
// model reads it: each feature at its path, the categories as the values
// they were (see categories.go), timestamp parts as a time that has them.
// With raw, the extra features are written too, over the model's own
// where they share a path.
func (c *columns) writeRecord(r int, raw bool, rec map[string]any) {
	l := c.layout
	if l.text {
		_ = l.textPath.Put(rec, c.texts[r])
	} else {
		row := c.features[r*l.width : (r+1)*l.width]
		at := 0
		for i, f := range l.reads {
			cols := row[at : at+f.Width()]
			at += f.Width()
			switch f.Kind {
			case CategoryFeature:
				j := l.catOf[i]
				var (
					v       string
					present bool
				)
				if r < c.recoded {
					v, present = c.tables[j].shown(cols[0])
				} else {
					v, present = c.dicts[j].value(cols[0], c.outsideOf(j))
				}
				putCategory(rec, f.Path, v, present)
			case ArrayFeature:
				_ = f.Path.Put(rec, numbers(cols))
			case PartsFeature:
				_ = f.Path.Put(rec, model.TimeOfParts(f.Parts, cols))
			default:
				_ = f.Path.Put(rec, float64(cols[0]))
			}
		}
	}
	if raw {
		c.writeExtra(r, rec)
	}
}

// writeExtra writes row r's extra features into rec: those read as NaN
// as null, which the other model reads as it reads a null or absent value.
func (c *columns) writeExtra(r int, rec map[string]any) {
	l := c.layout
	row := c.extra[r*l.extraWidth : (r+1)*l.extraWidth]
	// Parts of one timestamp are written as one time, once all are known.
	var parts map[string]*extraTime
	for i, x := range l.extra {
		cols := row[x.at : x.at+x.width]
		switch {
		case x.path.IsZero():
		case x.categorical:
			v, present := c.extraDicts[i].value(cols[0], x.outside)
			putCategory(rec, x.path, v, present)
		case hasNaN(cols):
			// Null, over the model's own value (its default) if any.
			_ = x.path.Put(rec, nil)
		case x.feature.Length > 0:
			_ = x.path.Put(rec, numbers(cols))
		case x.feature.Part != "":
			if parts == nil {
				parts = map[string]*extraTime{}
			}
			t := parts[x.path.String()]
			if t == nil {
				t = &extraTime{path: x.path}
				parts[x.path.String()] = t
			}
			t.parts, t.values = append(t.parts, x.feature.Part), append(t.values, cols[0])
		default:
			_ = x.path.Put(rec, float64(cols[0]))
		}
	}
	for _, t := range parts {
		_ = t.path.Put(rec, model.TimeOfParts(t.parts, t.values))
	}
}

// extraTime gathers the parts of one timestamp among the extra features.
type extraTime struct {
	path   avropath.Path
	parts  []string
	values []float32
}

// outsideOf is what rows show for a value past categorical feature j's
// dictionary: one the model's table lacks.
func (c *columns) outsideOf(j int) string {
	if j < len(c.outside) {
		return c.outside[j]
	}
	return placeholderTable[0] // before the table is learnt
}

// putCategory writes a categorical value, or null.
func putCategory(rec map[string]any, p avropath.Path, v string, present bool) {
	if present {
		_ = p.Put(rec, v)
	} else {
		_ = p.Put(rec, nil)
	}
}

// numbers is an array's columns as an Avro array of doubles.
func numbers(cols []float32) []any {
	out := make([]any, len(cols))
	for k, v := range cols {
		out[k] = float64(v)
	}
	return out
}

func hasNaN(cols []float32) bool {
	for _, v := range cols {
		if math.IsNaN(float64(v)) {
			return true
		}
	}
	return false
}
