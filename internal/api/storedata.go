package api

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"

	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/model"
)

// Training rows are held in blocks, column by column in compact typed
// form, never as maps: a numeric feature costs 4 bytes and a bit, a class
// label 4 bytes, a regression target 8, a text its bytes and 16. Each
// uploaded slice is decoded into a block of its own, charged to the data
// budgets as it grows, and kept only if the whole slice is good.

// Sizes the budgets count, in bytes.
const (
	// blockOverhead is a block's own fields and slice headers.
	blockOverhead = 256
	// classOverhead is one class of a block's dictionary: its name's
	// header, its value as the trainer reads it, and its entry in the map
	// that finds it while the block is built.
	classOverhead = 96
	// reserveStep is how much an upload takes from the budgets at once, so
	// it does not lock them for every row.
	reserveStep = 64 << 10
	// mergeRows: a slice of fewer rows is appended to the model's last
	// block while that one is smaller too, so slices of a few rows each
	// do not cost a block apiece.
	mergeRows = 4096
)

// block is rows of one model, column by column. A block is changed only by
// its builder, or, under its entry's mu, while the entry is its only
// holder (refs == 1); a training reading it holds a reference, so what a
// training reads never changes.
type block struct {
	n     int
	width int // feature columns per row
	// numbers are row-major: row r's columns at [r*width, (r+1)*width).
	// A categorical feature's column holds an index into its list in
	// cats.
	numbers []float32
	missing bitmap // bit r*width+j: column j of row r was null or absent
	cats    []catList
	texts   []string // a text model's text, per row
	noText  bitmap   // bit r: row r's text was null or absent

	// A classifier's labels: per row, an index into the block's own
	// classes, which are all of one kind. A regressor's: per row, the
	// target.
	kind    fit.LabelKind
	first   any      // the first row's label, for messages
	names   []string // class names, in the order met
	values  []any    // each class as the trainer reads it back
	classOf []uint32
	index   map[string]uint32 // names to classes; only while building
	targets []float64

	bytes int64 // what the budgets are charged for it
	refs  int   // holders: its model, and each training reading it
}

// catList is one categorical feature's values in a block, each once, in
// the order met: a row keeps an index, never a string of its own.
type catList struct {
	names []string
	index map[string]uint32 // only while building
}

// maxBlockCategories bounds one feature's distinct values in a block, so
// that an index is exact in a float32 column.
const maxBlockCategories = 1 << 24

// bitmap is a growable set of bits.
type bitmap []uint64

func (b bitmap) get(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b bitmap) set(i int)      { b[i/64] |= 1 << (i % 64) }

// grow makes room in s for extra more elements of size bytes each, first
// taking what a larger array costs from the budgets, so no array is
// allocated that the budgets have not allowed.
func grow[T any](s []T, extra int, size int64, take func(int64) error) ([]T, error) {
	if len(s)+extra <= cap(s) {
		return s, nil
	}
	newCap := max(len(s)+extra, 2*cap(s), 16)
	if cap(s) >= 1<<16 {
		// Past 64 Ki elements, grow by a quarter: the slack a block
		// carries (and is charged for) stays under 25%.
		newCap = max(len(s)+extra, cap(s)+cap(s)/4)
	}
	if err := take(int64(newCap-cap(s)) * size); err != nil {
		return s, err
	}
	out := make([]T, len(s), newCap)
	copy(out, s)
	return out, nil
}

// growBits makes room for bits more bits, zeroed.
func growBits(b bitmap, bits int, take func(int64) error) (bitmap, error) {
	words := (bits + 63) / 64
	b, err := grow(b, words-len(b), 8, take)
	if err != nil {
		return b, err
	}
	return b[:max(len(b), words)], nil
}

// builder decodes one slice's rows into a new block.
type builder struct {
	b      *block
	schema rowSchema
	// kind is the model's label kind when the slice began (0: none yet).
	kind fit.LabelKind
	take func(int64) error
	cols rowColumns // one row being checked
}

func newBuilder(schema rowSchema, kind fit.LabelKind, take func(int64) error) (*builder, error) {
	if err := take(blockOverhead); err != nil {
		return nil, err
	}
	b := &block{width: schema.width, bytes: blockOverhead, cats: make([]catList, schema.categorical())}
	if schema.task != model.Regression {
		b.index = map[string]uint32{}
	}
	for k := range b.cats {
		b.cats[k].index = map[string]uint32{}
	}
	bl := &builder{b: b, schema: schema, kind: kind}
	// Every byte taken is the block's: its charge is known exactly.
	bl.take = func(n int64) error {
		if err := take(n); err != nil {
			return err
		}
		b.bytes += n
		return nil
	}
	return bl, nil
}

// add checks row i and appends it. It fails on a row the model cannot
// train on (errInvalidRow, naming the row and field), on a label of another
// kind than the rows before it (errMixedLabels), and when the block would
// pass a budget (errDataBudget); the block is then dropped whole.
func (bl *builder) add(i int, rec map[string]any) error {
	s := bl.schema
	at := "rows[" + strconv.Itoa(i) + "]"
	var (
		class  string
		kind   fit.LabelKind
		target float64
		ferr   *fieldError
	)
	if s.task == model.Regression {
		target, ferr = s.target(rec)
	} else {
		class, kind, ferr = s.classLabel(rec)
	}
	if ferr != nil {
		return ferr.at(at)
	}
	label, _, _ := s.labelPath.ReadJSON(rec)
	if err := bl.checkKind(at, kind, label); err != nil {
		return err
	}
	// Check the whole row before growing anything.
	if ferr := s.columns(rec, &bl.cols); ferr != nil {
		return ferr.at(at)
	}
	var (
		text    string
		hasText bool
	)
	if s.text != nil {
		if text, hasText, ferr = s.textValue(rec); ferr != nil {
			return ferr.at(at)
		}
	}
	if err := bl.appendRow(&bl.cols, text, hasText, class, kind, target, label); err != nil {
		return fmt.Errorf("at %s, %w", at, err)
	}
	return nil
}

// checkKind enforces the label rule: one model's class labels are all
// numbers, all strings or all booleans.
func (bl *builder) checkKind(at string, kind fit.LabelKind, value any) error {
	field := at + "." + bl.schema.label
	switch {
	case kind == 0:
		return nil
	case bl.b.kind != 0 && kind != bl.b.kind:
		return mixedLabels(field, kind, value, fmt.Sprintf("rows[0].%s is %s (%s)", bl.schema.label, bl.b.kind, quoted(bl.b.first)))
	case bl.b.kind == 0 && bl.kind != 0 && kind != bl.kind:
		return mixedLabels(field, kind, value, fmt.Sprintf("the rows the model holds have %s", bl.kind.Plural()))
	}
	return nil
}

func mixedLabels(field string, kind fit.LabelKind, value any, other string) *valueError {
	return invalid(errMixedLabels, field,
		"%s: is %s (%s) but %s; a classifier's labels must be all numbers, all strings or all booleans, so that 1, \"1\" and true are never merged into one class or split into two silently",
		field, kind, quoted(value), other)
}

func quoted(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

// appendRow grows the columns by one checked row.
func (bl *builder) appendRow(cols *rowColumns, text string, hasText bool, class string, kind fit.LabelKind, target float64, label any) error {
	b, take := bl.b, bl.take
	var err error
	r := b.n
	row, miss := cols.values, cols.missing
	for _, f := range bl.schema.features {
		if f.kind != fit.CategoryFeature || slices.Contains(miss, f.col) {
			continue
		}
		i, err := b.cats[f.cat].add(cols.cats[f.cat], take)
		if err != nil {
			return err
		}
		row[f.col] = float32(i)
	}
	if b.width > 0 {
		if b.numbers, err = grow(b.numbers, b.width, 4, take); err != nil {
			return err
		}
		if b.missing, err = growBits(b.missing, (r+1)*b.width, take); err != nil {
			return err
		}
	}
	if bl.schema.text != nil {
		if b.texts, err = grow(b.texts, 1, 16, take); err != nil {
			return err
		}
		if b.noText, err = growBits(b.noText, r+1, take); err != nil {
			return err
		}
		if err := take(int64(len(text))); err != nil {
			return err
		}
	}
	if bl.schema.task == model.Regression {
		if b.targets, err = grow(b.targets, 1, 8, take); err != nil {
			return err
		}
	} else {
		c, known := b.index[class]
		if !known {
			if err := b.addClass(class, kind, take); err != nil {
				return err
			}
			c = uint32(len(b.names) - 1)
		}
		if b.classOf, err = grow(b.classOf, 1, 4, take); err != nil {
			return err
		}
		if b.kind == 0 {
			b.kind, b.first = kind, label
		}
		b.classOf = append(b.classOf, c)
	}
	// Everything is allowed and allocated: nothing below can fail.
	b.numbers = append(b.numbers, row...)
	for _, j := range miss {
		b.missing.set(r*b.width + j)
	}
	if bl.schema.text != nil {
		b.texts = append(b.texts, text)
		if !hasText {
			b.noText.set(r)
		}
	}
	if bl.schema.task == model.Regression {
		b.targets = append(b.targets, target)
	}
	b.n++
	return nil
}

// add returns name's index in the list, adding it if it is new.
func (l *catList) add(name string, take func(int64) error) (uint32, error) {
	if i, ok := l.index[name]; ok {
		return i, nil
	}
	if len(l.names) >= maxBlockCategories {
		return 0, fmt.Errorf("%w: over %d distinct values of one categorical feature", errDataBudget, maxBlockCategories)
	}
	if err := take(classOverhead + 2*int64(len(name))); err != nil {
		return 0, err
	}
	if l.index == nil {
		l.index = make(map[string]uint32, len(l.names)+1)
		for i, n := range l.names {
			l.index[n] = uint32(i)
		}
	}
	i := uint32(len(l.names))
	l.index[name] = i
	l.names = append(l.names, name)
	return i, nil
}

// addClass adds a class to the block's dictionary.
func (b *block) addClass(name string, kind fit.LabelKind, take func(int64) error) error {
	if err := take(classOverhead + 2*int64(len(name))); err != nil {
		return err
	}
	var value any = name
	switch kind {
	case fit.LabelBoolean:
		value = name == "true"
	case fit.LabelNumber:
		// ClassLabel writes numbers as int64 does, so this is exact.
		i, err := strconv.ParseInt(name, 10, 64)
		if err != nil {
			return fmt.Errorf("class %q: %w", name, err)
		}
		value = i
	}
	if b.index == nil {
		b.index = make(map[string]uint32, len(b.names)+1)
		for i, n := range b.names {
			b.index[n] = uint32(i)
		}
	}
	b.index[name] = uint32(len(b.names))
	b.names = append(b.names, name)
	b.values = append(b.values, value)
	return nil
}

// finish seals the block: the map that found classes while it was built
// goes (it is rebuilt if rows are merged in).
func (bl *builder) finish() *block {
	b := bl.b
	b.index = nil
	for k := range b.cats {
		b.cats[k].index = nil
	}
	return b
}

// appendBlock appends o's rows to b, which its entry alone holds, taking
// what b grows by from the budgets (o's own charge is the caller's to
// give back). On error b is unchanged.
func (b *block) appendBlock(o *block, schema rowSchema, take func(int64) error) error {
	index := make(map[string]uint32, len(b.names))
	for k, n := range b.names {
		index[n] = uint32(k)
	}
	// Take everything b will grow by before changing anything in it: the
	// classes it does not have, o's texts, and larger columns.
	extra := int64(0)
	for _, name := range o.names {
		if _, known := index[name]; !known {
			extra += classOverhead + 2*int64(len(name))
		}
	}
	for _, t := range o.texts {
		extra += int64(len(t))
	}
	catIndex := make([]map[string]uint32, len(b.cats))
	for k := range b.cats {
		catIndex[k] = make(map[string]uint32, len(b.cats[k].names))
		for i, n := range b.cats[k].names {
			catIndex[k][n] = uint32(i)
		}
		for _, name := range o.cats[k].names {
			if _, known := catIndex[k][name]; !known {
				extra += classOverhead + 2*int64(len(name))
			}
		}
	}
	if err := take(extra); err != nil {
		return err
	}
	var err error
	numbers, missing, texts, noText, classOf, targets := b.numbers, b.missing, b.texts, b.noText, b.classOf, b.targets
	if numbers, err = grow(numbers, len(o.numbers), 4, take); err != nil {
		return err
	}
	if b.width > 0 {
		if missing, err = growBits(missing, (b.n+o.n)*b.width, take); err != nil {
			return err
		}
	}
	if schema.text != nil {
		if texts, err = grow(texts, o.n, 16, take); err != nil {
			return err
		}
		if noText, err = growBits(noText, b.n+o.n, take); err != nil {
			return err
		}
	}
	if targets, err = grow(targets, len(o.targets), 8, take); err != nil {
		return err
	}
	if classOf, err = grow(classOf, len(o.classOf), 4, take); err != nil {
		return err
	}
	b.numbers, b.missing, b.texts, b.noText, b.classOf, b.targets = numbers, missing, texts, noText, classOf, targets
	remap := make([]uint32, len(o.names))
	for i, name := range o.names {
		c, known := index[name]
		if !known {
			c = uint32(len(b.names))
			index[name] = c
			b.names = append(b.names, name)
			b.values = append(b.values, o.values[i])
		}
		remap[i] = c
	}
	for _, c := range o.classOf {
		b.classOf = append(b.classOf, remap[c])
	}
	start := len(b.numbers)
	b.numbers = append(b.numbers, o.numbers...)
	for _, f := range schema.features {
		if f.kind != fit.CategoryFeature {
			continue
		}
		l, index := &b.cats[f.cat], catIndex[f.cat]
		remap := make([]float32, len(o.cats[f.cat].names))
		for i, name := range o.cats[f.cat].names {
			c, known := index[name]
			if !known {
				c = uint32(len(l.names))
				index[name] = c
				l.names = append(l.names, name)
			}
			remap[i] = float32(c)
		}
		for r := range o.n {
			if at := r*b.width + f.col; !o.missing.get(at) {
				b.numbers[start+at] = remap[int(o.numbers[at])]
			}
		}
	}
	for bit := range o.n * b.width {
		if o.missing.get(bit) {
			b.missing.set(b.n*b.width + bit)
		}
	}
	if schema.text != nil {
		b.texts = append(b.texts, o.texts...)
		for r := range o.n {
			if o.noText.get(r) {
				b.noText.set(b.n + r)
			}
		}
	}
	b.targets = append(b.targets, o.targets...)
	if b.kind == 0 {
		b.kind, b.first = o.kind, o.first
	}
	b.n += o.n
	return nil
}

// record writes row r of b into rec as the trainer reads a record: the
// label as its class value or target, each feature at its path (see
// rowSchema.write), the text as a string. Missing values are left out,
// which the trainer reads as null.
func (b *block) record(r int, s rowSchema, rec map[string]any) {
	if s.task == model.Regression {
		_ = s.labelPath.Put(rec, b.targets[r])
	} else {
		_ = s.labelPath.Put(rec, b.values[b.classOf[r]])
	}
	s.write(b.numbers[r*b.width:(r+1)*b.width],
		func(col int) bool { return b.missing.get(r*b.width + col) },
		func(cat int, index float32) string { return b.cats[cat].names[int(index)] },
		rec)
	if s.text != nil && !b.noText.get(r) {
		_ = s.text.path.Put(rec, b.texts[r])
	}
}

// rowSet is what one training reads: its model's blocks when it started,
// each held (refs) until the training releases them.
type rowSet struct {
	blocks []*block
	ends   []int // ends[k]: the rows in blocks[:k+1]
	schema rowSchema
}

func (s *rowSet) Len() int {
	if len(s.ends) == 0 {
		return 0
	}
	return s.ends[len(s.ends)-1]
}

// Record is fit.Rows's: row i, built in scratch.
func (s *rowSet) Record(i int, scratch map[string]any) map[string]any {
	k := sort.SearchInts(s.ends, i+1)
	start := 0
	if k > 0 {
		start = s.ends[k-1]
	}
	clear(scratch)
	s.blocks[k].record(i-start, s.schema, scratch)
	return scratch
}

// dataBudget is the bytes of rows the whole API holds, or has reserved for
// uploads under way, against MaxDataBytes.
type dataBudget struct {
	mu    sync.Mutex
	used  int64
	limit int64
	gauge func(float64) // reports used
}

func (d *dataBudget) take(n, mine int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.used+n > d.limit {
		return &budgetError{limit: d.limit, setting: settingMaxDataBytes, held: d.used - mine, mine: mine + n}
	}
	d.used += n
	d.gauge(float64(d.used))
	return nil
}

func (d *dataBudget) release(n int64) {
	if n == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.used -= n
	d.gauge(float64(d.used))
}

// reservation is what one upload has taken from its model's budget and the
// API's: the bytes of the block it builds, and credit taken ahead in steps
// of reserveStep so the budgets are not locked for every row. Whatever it
// still holds when the upload ends is given back.
type reservation struct {
	e      *entry
	data   *dataBudget
	bytes  int64 // taken from both budgets
	credit int64 // of bytes, not yet spent
}

// take spends n bytes, from the credit or from the budgets.
func (r *reservation) take(n int64) error {
	if n <= r.credit {
		r.credit -= n
		return nil
	}
	r.e.mu.Lock()
	defer r.e.mu.Unlock()
	need := n - r.credit
	// Ahead of need if there is room; exactly need if that is all.
	for _, want := range []int64{need + reserveStep, need} {
		err := r.takeLocked(want)
		if err == nil {
			r.credit += want - n
			return nil
		}
		if want == need {
			return err
		}
	}
	return nil
}

// takeLocked takes n from both budgets; the caller holds r.e.mu.
func (r *reservation) takeLocked(n int64) error {
	e := r.e
	if e.dataBytes+n > e.maxDataBytes {
		return &budgetError{limit: e.maxDataBytes, setting: settingMaxModelDataBytes, model: e.name, held: e.dataBytes - r.bytes, mine: r.bytes + n}
	}
	if err := r.data.take(n, r.bytes); err != nil {
		return err
	}
	e.dataBytes += n
	r.bytes += n
	return nil
}

// settle gives back the credit left, so what is held is the block alone.
// The caller holds r.e.mu.
func (r *reservation) settle() {
	r.e.dataBytes -= r.credit
	r.data.release(r.credit)
	r.bytes -= r.credit
	r.credit = 0
}

// release gives back everything still held; after a commit, nothing is.
func (r *reservation) release() {
	r.e.mu.Lock()
	defer r.e.mu.Unlock()
	r.e.dataBytes -= r.bytes
	r.data.release(r.bytes)
	r.bytes, r.credit = 0, 0
}
