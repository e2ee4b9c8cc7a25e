package fit

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/streamscore/streamscore/internal/deadletter"
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

// maxDictBytes bounds the bytes of a column's distinct values: past it,
// new values are read as rawOverflow too. The count alone lets long values
// (a URL, a free-text field read as a category) take a million times their
// length; 64 MiB holds a million values of 64 bytes.
const maxDictBytes = 64 << 20

// catDict is one categorical column's distinct values, in the order met.
type catDict struct {
	index  map[string]int32
	values []string
	// bytes is the length of values; maxValues and maxBytes bound them.
	bytes               int
	maxValues, maxBytes int
	// overflowed counts values read as rawOverflow.
	overflowed int
}

func newCatDict() *catDict {
	return &catDict{index: map[string]int32{}, maxValues: maxDictValues, maxBytes: maxDictBytes}
}

// code is v's raw column value, v added if it is new and within bounds.
func (d *catDict) code(v string) float32 {
	if i, ok := d.index[v]; ok {
		return float32(i)
	}
	if len(d.values) >= d.maxValues || d.bytes+len(v) > d.maxBytes {
		d.overflowed++
		return rawOverflow
	}
	i := int32(len(d.values))
	// The key is the column's own copy: v may be a string of a decoded
	// record, which should not be kept alive by it.
	v = string([]byte(v))
	d.index[v] = i
	d.values = append(d.values, v)
	d.bytes += len(v)
	return float32(i)
}

// value is the raw value a column holds as the record had it: the string,
// and false for null. A value past the dictionary's bound is shown as
// outside, a value the reading model's table lacks (outsideValue), which
// that model maps as it maps any value its table lacks, as the scorer
// would map the value itself.
func (d *catDict) value(raw float32, outside string) (string, bool) {
	switch {
	case raw == rawNull:
		return "", false
	case raw == rawOverflow:
		return outside, true
	}
	return d.values[int(raw)], true
}

// outsideValue is a value that table does not hold: what a row shows for
// a value the trainer did not keep (past a dictionary's bound, or the
// other code), so that the model reading the row finds it unknown. It is
// chosen per table, not fixed: a producer can send any valid string, and
// a fixed stand-in it sent would be a category like any other, which the
// model would then read as that category and not as an unknown value.
func outsideValue(table []string) string {
	v := "\x00outside"
	if len(table) == 0 {
		return v
	}
	held := make(map[string]bool, len(table))
	for _, c := range table {
		held[c] = true
	}
	for held[v] {
		v += "\x00"
	}
	return v
}

// categoryTable is a categorical feature's learnt categories, and how each
// raw value of the training rows recodes to a final code.
type categoryTable struct {
	categories []string
	// codes[i] is the final code of dictionary entry i.
	codes []float32
	other float32 // the code of values outside the table
	null  float32
	// outside is the code every value the table lacks recodes to, as the
	// scorer maps it: other, or the unknown category's code.
	outside float32
	// shownOutside is a value the table lacks (outsideValue), shown for
	// the other code.
	shownOutside string
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
	t := categoryTable{categories: table, other: float32(len(table)), null: float32(len(table) + 1), shownOutside: outsideValue(table)}
	t.outside = t.other
	if f.Categorical.Unknown == UnknownCategory {
		t.outside = float32(slices.Index(table, f.Categorical.UnknownCategory))
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
			t.codes[i] = t.outside
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
		// Past the dictionary's bound, a value is not in the table: it
		// trains as the scorer will map it.
		return t.outside
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
		return t.shownOutside, true
	}
	if i := int(code); i >= 0 && i < len(t.categories) && float32(i) == code && !math.IsNaN(float64(code)) {
		return t.categories[i], true
	}
	return t.shownOutside, true
}

// learnCategories learns every categorical feature's table from rows
// [0, cut), the training rows, and recodes those rows in place to final
// codes; the rows after them keep their dictionary indices. A training row
// whose value of a feature with unknown: dead_letter is cut from the table
// (by max, max_categories or the dictionary's bound) is dropped, counted
// unknown_category: the scorer dead-letters such a value, so the model
// must not train on a code it can never be given. It returns the tables
// by feature (nil for the others), by column the codes of each categorical
// column, and the training rows left, the rows after them moved down.
func (c *columns) learnCategories(cut int) (tables [][]string, codes map[int]int, left int, err error) {
	l := c.layout
	if len(l.cats) == 0 {
		return nil, nil, cut, nil
	}
	c.consumed = true
	tables = make([][]string, len(l.reads))
	codes = map[int]int{}
	c.tables = make([]categoryTable, len(l.cats))
	c.outside = make([]string, len(l.cats))
	train := c.features[:cut*l.width]
	var deadLetter []int // indices in l.cats
	for j, cc := range l.cats {
		f := l.reads[cc.read]
		t, err := learnTable(c.dicts[j], train, l.width, cc.at, f)
		if err != nil {
			return nil, nil, 0, err
		}
		c.tables[j] = t
		c.outside[j] = t.shownOutside
		tables[cc.read] = t.categories
		codes[cc.at] = len(t.categories) + 2
		if f.Categorical.Unknown == UnknownDeadLetter {
			deadLetter = append(deadLetter, j)
		}
	}
	dead := 0
	for r := range cut {
		row := train[r*l.width : (r+1)*l.width]
		for j, cc := range l.cats {
			row[cc.at] = c.tables[j].recode(row[cc.at])
		}
		for _, j := range deadLetter {
			if row[l.cats[j].at] == c.tables[j].other {
				dead++
				break
			}
		}
	}
	if dead > 0 {
		w := l.width
		c.keepIf(func(i int) bool {
			if i >= cut {
				return true
			}
			for _, j := range deadLetter {
				if c.features[i*w+l.cats[j].at] == c.tables[j].other {
					return false
				}
			}
			return true
		})
		c.skipped[deadletter.UnknownCategory] += dead
		cut -= dead
	}
	c.recoded = cut
	return tables, codes, cut, nil
}
