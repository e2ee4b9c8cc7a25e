package fit

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/model"
)

// columns are rows mapped to what a model reads, one typed column each:
// float32 features (row-major), or a text; the label, as a value or as
// an index into a dictionary of class names; and where the row came from,
// to order rows by time. A record is mapped as it is read and never kept:
// 10 features cost 40 bytes a row, and about 60 with the rest, where a
// decoded record held as a map costs about 1 KB.
type columns struct {
	layout *layout

	features []float32 // numeric families: layout.width per row
	texts    []string  // the text family
	// labels are a regressor's values, or a classifier's label as an
	// index into dict (classes, after relabel, for training rows).
	labels []float64
	// times (Unix ms), partitions and offsets order rows as jobs.Read does;
	// they are dropped once rows are split (dropOrder).
	times      []int64
	partitions []int32
	offsets    []int64
	// extra are the raw values of fields another model reads (the
	// champion), len(layout.extra) per row; NaN when null, absent or not
	// a number.
	extra []float32
	// nulls are layout.nullWords a row: a bit per nullable column, set
	// when the row's value was null or absent and took the default.
	nulls []uint64

	dict labelDict
	// kind is a classifier's label kind, once finished.
	kind LabelKind
	// trained are the classes rows [0, relabelled) were relabelled to
	// (relabel); rows past them keep dictionary indices.
	trained    []string
	relabelled int
	// consumed is set once a fit has begun changing the columns (relabel,
	// dropOrder): they can be trained on only once.
	consumed bool

	skipped map[string]int
	sampler *reservoir
	seed    uint64
	// offered counts usable rows; sampledOut those the Sample budget left
	// out, once finished.
	offered, sampledOut int

	// dicts are the categorical features' dictionaries (layout.cats),
	// extraDicts the categorical extra features' (nil for the others).
	// Once the categories are learnt (learnCategories), rows [0, recoded)
	// hold final codes of tables.
	dicts, extraDicts []*catDict
	tables            []categoryTable
	recoded           int
	// outside are the values rows show, by categorical feature, for a
	// value past its dictionary's bound: one the model's table lacks
	// (outsideValue). Set once the tables are learnt, on the training
	// columns and on a test source's.
	outside []string
	// refusals are the reasons rows' extra features were refused for
	// (readExtra), numbered from 1 in the extra columns.
	refusals []string

	row, extraRow, nums []float32 // one row being mapped
	numNulls            []bool    // its reader's null flags
	nullRow             []uint64  // its null bits
	moved               rowCopy   // one row set aside by permute
}

// newColumns makes room for up to expect rows, capped by the sample
// budget, so that reading never grows a column by append, which would
// briefly hold two copies of the feature matrix (at 10M rows of 10
// features, 400 MB and 800 MB). The room is not free, so expect must be a
// tight bound (a job asks Kafka for one): the pages of a fresh reservation
// are touched only when written, but where the heap reuses memory an
// earlier training freed, the runtime zeroes the whole reservation. Measured with go1.26 on
// a reservation for 100M rows of 10 features (6.8 GB): 10 MB of RSS in a
// fresh process, 790 MB after a first job of 5M rows had been let go, and
// 2.6 GB after one of 30M rows.
func newColumns(l *layout, expect int) *columns {
	if l.sample.MaxRows > 0 {
		expect = min(expect, l.sample.MaxRows)
	}
	expect = max(expect, 0)
	c := &columns{
		layout:     l,
		labels:     make([]float64, 0, expect),
		times:      make([]int64, 0, expect),
		partitions: make([]int32, 0, expect),
		offsets:    make([]int64, 0, expect),
		extra:      make([]float32, 0, expect*l.extraWidth),
		skipped:    map[string]int{},
		dict:       labelDict{index: map[labelKey]int{}},
		seed:       l.sample.Seed,
		row:        make([]float32, 0, l.width),
		extraRow:   make([]float32, l.extraWidth),
		nulls:      make([]uint64, 0, expect*l.nullWords),
		nullRow:    make([]uint64, l.nullWords),
	}
	for range l.cats {
		c.dicts = append(c.dicts, newCatDict())
	}
	for _, x := range l.extra {
		var d *catDict
		if x.categorical {
			d = newCatDict()
		}
		c.extraDicts = append(c.extraDicts, d)
	}
	if l.text {
		c.texts = make([]string, 0, expect)
	} else {
		c.features = make([]float32, 0, expect*l.width)
	}
	if l.sample.MaxRows > 0 {
		c.sampler = newReservoir(l.sample.MaxRows)
	}
	return c
}

// Len is the number of rows kept.
func (c *columns) Len() int { return len(c.labels) }

// add maps one record and keeps it, or counts why it cannot: the reasons
// of extract (bad_label, missing_feature, ...). A panic in the mapping
// skips the record as internal_error. It fails only when the records can
// make no model: a classifier's label with more than MaxClasses values
// (ErrTooManyClasses), found before the dictionary grows further.
func (c *columns) add(rec map[string]any, ts int64, partition int32, offset int64) error {
	err := deadletter.Guard(func() error { return c.addRecord(rec, ts, partition, offset) })
	if errors.Is(err, ErrTooManyClasses) {
		return err
	}
	if err != nil {
		c.skipped[reasonOf(err)]++
	}
	return nil
}

func (c *columns) addRecord(rec map[string]any, ts int64, partition int32, offset int64) error {
	l := c.layout
	var label float64
	var class string
	if l.task == model.Regression {
		v, err := valueOf(rec, l.labelReader)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBadLabel, err)
		}
		label = v
	} else {
		name, kind, err := classOf(rec, l.labelReader)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBadLabel, err)
		}
		i := c.dict.add(name, kind)
		if n := c.dict.perKind[kind]; n > MaxClasses {
			return fmt.Errorf("%w: label %q: %d distinct values (%s), and a classifier takes at most %d classes: is it an id, or a value to regress on?",
				ErrTooManyClasses, l.label, n, kind.Plural(), MaxClasses)
		}
		label, class = float64(i), name
	}
	var text string
	if l.text {
		if l.readerErr != nil {
			return l.readerErr
		}
		s, err := l.reader.Text(rec, model.DefaultMaxTextBytes)
		if err != nil {
			return err
		}
		text = s
	} else if err := c.readRow(rec); err != nil {
		return err
	}
	c.readExtra(rec)

	c.offered++
	slot := c.Len()
	if c.sampler != nil {
		if slot = c.sampler.offer(priority(c.seed, partition, offset, l.keep[class]), c.Len()); slot < 0 {
			return nil
		}
	}
	if slot == c.Len() {
		c.labels = append(c.labels, label)
		c.times = append(c.times, ts)
		c.partitions = append(c.partitions, partition)
		c.offsets = append(c.offsets, offset)
		c.extra = append(c.extra, c.extraRow...)
		c.nulls = append(c.nulls, c.nullRow...)
		if l.text {
			c.texts = append(c.texts, text)
		} else {
			c.features = append(c.features, c.row...)
		}
		return nil
	}
	// The sample is full and this row replaces the one in slot.
	c.labels[slot], c.times[slot], c.partitions[slot], c.offsets[slot] = label, ts, partition, offset
	copy(c.extra[slot*l.extraWidth:], c.extraRow)
	copy(c.nulls[slot*l.nullWords:], c.nullRow)
	if l.text {
		c.texts[slot] = text
	} else {
		copy(c.features[slot*l.width:], c.row)
	}
	return nil
}

// finish orders the rows as jobs.Read does (timestamp, partition, offset) and,
// for a classifier, drops the rows whose label is of another kind than
// kind, or than most rows' when kind is zero (the earliest row's on a
// tie), counted as mixed_label_kind. It returns the kind kept.
func (c *columns) finish(kind LabelKind) LabelKind {
	c.sampler = nil // its priorities are no longer needed
	c.sampledOut = c.offered - c.Len()
	c.sortByTime()
	if c.layout.task == model.Regression {
		return 0
	}
	if kind == 0 {
		kind = c.majorityKind()
	}
	before := c.Len()
	c.keepIf(func(i int) bool { return c.dict.kinds[int(c.labels[i])] == kind })
	if dropped := before - c.Len(); dropped > 0 {
		c.skipped[skipMixedLabelKind] += dropped
	}
	c.kind = kind
	return kind
}

func (c *columns) majorityKind() LabelKind {
	counts := map[LabelKind]int{}
	var order []LabelKind
	for _, l := range c.labels {
		k := c.dict.kinds[int(l)]
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	var most LabelKind
	for _, k := range order {
		if counts[k] > counts[most] {
			most = k
		}
	}
	return most
}

// sortByTime orders rows by (timestamp, partition, offset). It sorts a
// permutation of row numbers and then moves every column's rows into
// place along the permutation's cycles: no second copy of the features.
func (c *columns) sortByTime() {
	n := c.Len()
	order := func(a, b int) int {
		return cmp.Or(cmp.Compare(c.times[a], c.times[b]), cmp.Compare(c.partitions[a], c.partitions[b]), cmp.Compare(c.offsets[a], c.offsets[b]))
	}
	sorted := true
	for i := 1; i < n && sorted; i++ {
		sorted = order(i-1, i) <= 0
	}
	if sorted {
		return // one partition, read in order: the usual case
	}
	perm := make([]int32, n)
	for i := range perm {
		perm[i] = int32(i)
	}
	slices.SortFunc(perm, func(a, b int32) int { return order(int(a), int(b)) })
	c.permute(perm)
}

// permute makes row i the row that was at perm[i], in place: each cycle
// of the permutation is walked once, with one row set aside. perm is
// consumed (every entry becomes -1).
func (c *columns) permute(perm []int32) {
	for start := range perm {
		if perm[start] < 0 {
			continue
		}
		c.save(start)
		j := start
		for {
			k := int(perm[j])
			perm[j] = -1
			if k == start {
				c.restore(j)
				break
			}
			c.move(j, k)
			j = k
		}
	}
}

// rowCopy is one row of every column, set aside.
type rowCopy struct {
	features, extra []float32
	nulls           []uint64
	text            string
	label           float64
	time, offset    int64
	partition       int32
}

func (c *columns) save(i int) {
	m := &c.moved
	w, x := c.layout.width, c.layout.extraWidth
	if !c.layout.text {
		m.features = append(m.features[:0], c.features[i*w:(i+1)*w]...)
	} else {
		m.text = c.texts[i]
	}
	m.extra = append(m.extra[:0], c.extra[i*x:(i+1)*x]...)
	nw := c.layout.nullWords
	m.nulls = append(m.nulls[:0], c.nulls[i*nw:(i+1)*nw]...)
	m.label, m.time, m.partition, m.offset = c.labels[i], c.times[i], c.partitions[i], c.offsets[i]
}

func (c *columns) restore(i int) {
	m := &c.moved
	w, x := c.layout.width, c.layout.extraWidth
	if !c.layout.text {
		copy(c.features[i*w:(i+1)*w], m.features)
	} else {
		c.texts[i] = m.text
	}
	copy(c.extra[i*x:(i+1)*x], m.extra)
	nw := c.layout.nullWords
	copy(c.nulls[i*nw:(i+1)*nw], m.nulls)
	c.labels[i], c.times[i], c.partitions[i], c.offsets[i] = m.label, m.time, m.partition, m.offset
}

// move copies row src over row dst in every column.
func (c *columns) move(dst, src int) {
	w, x := c.layout.width, c.layout.extraWidth
	if !c.layout.text {
		copy(c.features[dst*w:(dst+1)*w], c.features[src*w:(src+1)*w])
	} else {
		c.texts[dst] = c.texts[src]
	}
	copy(c.extra[dst*x:(dst+1)*x], c.extra[src*x:(src+1)*x])
	nw := c.layout.nullWords
	copy(c.nulls[dst*nw:(dst+1)*nw], c.nulls[src*nw:(src+1)*nw])
	c.labels[dst], c.times[dst], c.partitions[dst], c.offsets[dst] = c.labels[src], c.times[src], c.partitions[src], c.offsets[src]
}

// keepIf keeps the rows for which keep is true, in order, in place.
func (c *columns) keepIf(keep func(i int) bool) {
	n := 0
	for i := range c.Len() {
		if keep(i) {
			if n != i {
				c.move(n, i)
			}
			n++
		}
	}
	w, x := c.layout.width, c.layout.extraWidth
	if c.layout.text {
		clear(c.texts[n:]) // let the dropped strings go
		c.texts = c.texts[:n]
	} else {
		c.features = c.features[:n*w]
	}
	c.extra = c.extra[:n*x]
	c.nulls = c.nulls[:n*c.layout.nullWords]
	c.labels, c.times, c.partitions, c.offsets = c.labels[:n], c.times[:n], c.partitions[:n], c.offsets[:n]
}

// firstAtOrAfter is the first row stamped at or after ts (Unix ms), rows
// being in time order.
func (c *columns) firstAtOrAfter(ts int64) int {
	i, _ := slices.BinarySearch(c.times, ts)
	return i
}

// dropOrder lets the ordering columns go once rows are split: at 10M rows
// they are 200 MB that training no longer needs. The columns can then no
// longer be split or ordered (consumed).
func (c *columns) dropOrder() {
	c.consumed = true
	c.times, c.partitions, c.offsets = nil, nil, nil
}

// MaxClasses is the most classes a classifier takes (the train package's
// bound: every class adds a tree per boosting round). A label with more
// distinct values of one kind stops a read (ErrTooManyClasses): every
// value is kept in the dictionary, even a row's the sample leaves out, so
// a mistyped label (an id) would otherwise fill memory before the fit
// refused it.
const MaxClasses = 1000

// ErrTooManyClasses means a classifier's label has more distinct values
// than MaxClasses.
var ErrTooManyClasses = fmt.Errorf("%w: too many classes", ErrInvalidOptions)

// labelDict numbers a classifier's labels as they are read. A class name
// may come as more than one kind (1 and "1"), so entries are kept apart by
// kind until the kind of the model's labels is known.
type labelDict struct {
	index   map[labelKey]int
	names   []string
	kinds   []LabelKind
	perKind [LabelBoolean + 1]int // entries of each kind
}

type labelKey struct {
	name string
	kind LabelKind
}

func (d *labelDict) add(name string, kind LabelKind) int {
	k := labelKey{name, kind}
	if i, ok := d.index[k]; ok {
		return i
	}
	d.index[k] = len(d.names)
	d.names = append(d.names, name)
	d.kinds = append(d.kinds, kind)
	d.perKind[kind]++
	return len(d.names) - 1
}

// classes are the distinct class names of rows [from, to), in model order
// (sortClasses).
func (c *columns) classes(from, to int) []string {
	seen := make([]bool, len(c.dict.names))
	var out []string
	for _, l := range c.labels[from:to] {
		if i := int(l); !seen[i] {
			seen[i] = true
			out = append(out, c.dict.names[i])
		}
	}
	sortClasses(out)
	return out
}

// relabel turns rows [0, to)'s dictionary indices into indices of
// classes, which must hold every one of their names: the targets a
// classifier trains on, in place. Done once (consumed); className still
// names every row.
func (c *columns) relabel(to int, classes []string) {
	c.consumed, c.trained, c.relabelled = true, classes, to
	at := make(map[string]float64, len(classes))
	for i, name := range classes {
		at[name] = float64(i)
	}
	byEntry := make([]float64, len(c.dict.names))
	for i, name := range c.dict.names {
		byEntry[i] = at[name]
	}
	for i := range to {
		c.labels[i] = byEntry[int(c.labels[i])]
	}
}

// className is row i's class name.
func (c *columns) className(i int) string {
	if i < c.relabelled {
		return c.trained[int(c.labels[i])]
	}
	return c.dict.names[int(c.labels[i])]
}

// colRows are rows [from, to) of columns as Rows: each row is built as the
// record it was read from, as far as the model reads it, in a scratch map.
// names turns a label index into the class name (nil for a regressor).
// raw shows the extra features too, as read (absent when they were null),
// for the champion; otherwise the model's own values are shown, over
// which raw writes the extra features where they share a path.
type colRows struct {
	c        *columns
	from, to int
	names    []string
	raw      bool
}

func (s colRows) Len() int { return s.to - s.from }

// Refused is why the other model's scorer would refuse row i, when the
// rows are shown raw to it (see readExtra).
func (s colRows) Refused(i int) (string, bool) {
	if !s.raw {
		return "", false
	}
	return s.c.refused(s.from + i)
}

func (s colRows) Record(i int, scratch map[string]any) map[string]any {
	if scratch == nil {
		scratch = map[string]any{}
	}
	clear(scratch)
	c, l, r := s.c, s.c.layout, s.from+i
	c.writeRecord(r, s.raw, scratch)
	label := l.labelReader.path
	if l.task == model.Regression {
		_ = label.Put(scratch, c.labels[r])
	} else {
		_ = label.Put(scratch, s.names[int(c.labels[r])])
	}
	return scratch
}
