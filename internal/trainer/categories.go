package trainer

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// A categorical column is read in two steps. While reading, each row's
// value goes into a dictionary of the column's distinct values, and the
// column holds the value's index in it: 4 bytes a row, whatever the
// string, and one copy of each distinct string. Once rows are split, the
// categories are learnt from the training rows alone (learnTable) and the
// training rows are recoded in place to the final codes (see design: code i
// is table[i], len(table) "other", len(table)+1 null). Holdout and test
// rows keep their dictionary indices: they are shown to the models as the
// raw values they were (colRows), so that the candidate and the champion
// each map them through their own table and unknown-category rule, exactly
// as the scorer will.

// Raw column values that are not dictionary indices.
const (
	rawNull     = -1 // null or absent
	rawOverflow = -2 // a value past the dictionary's bound
)

// maxDictValues bounds a column's dictionary: past it, new values are read
// as rawOverflow (a category too rare to be kept, since at most
// max_categories are). It keeps an identifier read as a category from
// filling memory, and indices exact in a float32 (2^24).
const maxDictValues = 1 << 20

// catDict is one categorical column's distinct values, in the order met.
type catDict struct {
	index  map[string]int32
	values []string
	// overflowed counts values read as rawOverflow.
	overflowed int
}

func newCatDict() *catDict { return &catDict{index: map[string]int32{}} }

// code is v's raw column value, v added if it is new.
func (d *catDict) code(v string) float32 {
	if i, ok := d.index[v]; ok {
		return float32(i)
	}
	if len(d.values) >= maxDictValues {
		d.overflowed++
		return rawOverflow
	}
	i := int32(len(d.values))
	// The key is the column's own copy: v may be a string of a decoded
	// record, which should not be kept alive by it.
	v = string([]byte(v))
	d.index[v] = i
	d.values = append(d.values, v)
	return float32(i)
}

// value is the raw value a column holds as the record had it: the string,
// and false for null.
func (d *catDict) value(raw float32) (string, bool) {
	switch {
	case raw == rawNull:
		return "", false
	case raw == rawOverflow:
		// Read as a value no table holds: the scorer would find it
		// unknown too.
		return overflowValue, true
	}
	return d.values[int(raw)], true
}

// overflowValue stands for a value past the dictionary's bound when rows
// are shown as records; learnTable keeps it out of every table.
const overflowValue = "\x00overflow"

// categoryTable is a categorical feature's learnt categories, and how each
// raw value of the training rows recodes to a final code.
type categoryTable struct {
	categories []string
	// codes[i] is the final code of dictionary entry i.
	codes []float32
	other float32 // the code of values outside the table
	null  float32
}

// learnTable learns a feature's categories from raw training-row values:
// the most frequent first (ties by value), at most max; with unknown
// "category", the unknown category is kept whatever its count. Values
// outside the table recode to the other code, or to the unknown
// category's with that rule, as the scorer would map them.
func learnTable(d *catDict, raw []float32, stride, col int, f FeatureRead) (categoryTable, error) {
	counts := make([]int, len(d.values))
	for r := col; r < len(raw); r += stride {
		if v := raw[r]; v >= 0 {
			counts[int(v)]++
		}
	}
	order := make([]int32, 0, len(counts))
	for i, n := range counts {
		if n > 0 {
			order = append(order, int32(i))
		}
	}
	slices.SortFunc(order, func(a, b int32) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(d.values[a], d.values[b]))
	})
	keep := order[:min(len(order), f.MaxCategories)]
	table := make([]string, len(keep))
	for i, e := range keep {
		table[i] = d.values[e]
	}
	if f.Categorical.Unknown == UnknownCategory && !slices.Contains(table, f.Categorical.UnknownCategory) {
		// The declared stand-in for unknown values is a category
		// however rare: in place of the least frequent when full.
		if len(table) == f.MaxCategories {
			table = table[:len(table)-1]
		}
		table = append(table, f.Categorical.UnknownCategory)
	}
	if len(table) == 0 {
		return categoryTable{}, fmt.Errorf("%w: categorical feature %q is null in every training row: it has no category to learn", ErrNotEnoughData, f.Given)
	}
	t := categoryTable{categories: table, other: float32(len(table)), null: float32(len(table) + 1)}
	outside := t.other
	if f.Categorical.Unknown == UnknownCategory {
		outside = float32(slices.Index(table, f.Categorical.UnknownCategory))
	}
	at := make(map[string]int, len(table))
	for i, c := range table {
		at[c] = i
	}
	t.codes = make([]float32, len(d.values))
	for i, v := range d.values {
		if c, ok := at[v]; ok {
			t.codes[i] = float32(c)
		} else {
			t.codes[i] = outside
		}
	}
	return t, nil
}

// recode turns a training row's raw value into its final code.
func (t categoryTable) recode(raw float32) float32 {
	switch {
	case raw == rawNull:
		return t.null
	case raw == rawOverflow:
		return t.other
	}
	return t.codes[int(raw)]
}

// shown is the value a final code stands for when a training row is shown
// as a record (the parity check of a model without a holdout): the
// category, null, or for the other code a value no table holds.
func (t categoryTable) shown(code float32) (string, bool) {
	switch {
	case code == t.null:
		return "", false
	case code == t.other:
		return overflowValue, true
	}
	if i := int(code); i >= 0 && i < len(t.categories) && float32(i) == code && !math.IsNaN(float64(code)) {
		return t.categories[i], true
	}
	return overflowValue, true
}

// learnCategories learns every categorical feature's table from rows
// [0, cut), the training rows, and recodes those rows in place to final
// codes; the rows after them keep their dictionary indices. It returns
// the tables by feature (nil for the others) and, by column, the codes
// of each categorical column.
func (c *columns) learnCategories(cut int) (tables [][]string, codes map[int]int, err error) {
	l := c.layout
	if len(l.cats) == 0 {
		return nil, nil, nil
	}
	c.consumed = true
	tables = make([][]string, len(l.reads))
	codes = map[int]int{}
	c.tables = make([]categoryTable, len(l.cats))
	train := c.features[:cut*l.width]
	for j, cc := range l.cats {
		t, err := learnTable(c.dicts[j], train, l.width, cc.at, l.reads[cc.read])
		if err != nil {
			return nil, nil, err
		}
		c.tables[j] = t
		tables[cc.read] = t.categories
		codes[cc.at] = len(t.categories) + 2
	}
	for r := range cut {
		row := train[r*l.width : (r+1)*l.width]
		for j, cc := range l.cats {
			row[cc.at] = c.tables[j].recode(row[cc.at])
		}
	}
	c.recoded = cut
	return tables, codes, nil
}
