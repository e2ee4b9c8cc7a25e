package avropath

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrNotProjectable is a schema or a set of paths a Projection cannot read
// exactly; the caller decodes records whole instead.
var ErrNotProjectable = errors.New("paths cannot be read straight from the body")

// errUnreadable is a body the projection does not read to its end: most
// often one goavro refuses too (a boolean byte that is neither 0 nor 1,
// a map's repeated key, trailing bytes), or a map of more than
// maxMapKeys keys, which goavro decodes. Either way the caller decodes it
// whole, for the exact error or the record. It is a sentinel, so that
// failing allocates nothing.
var errUnreadable = errors.New("body cannot be projected")

// Column is one value a Projection reads: the value at Path, or, with
// Array, the whole array there as numbers.
type Column struct {
	Path  Path
	Array bool
}

// ValueKind says what a Projection found at a column's path.
type ValueKind uint8

const (
	// Absent is null, or nothing: a null on the way, a missing map key,
	// an index past the end of an array.
	Absent ValueKind = iota
	// Boolean is in Int, as 0 or 1.
	Boolean
	// Int is an int or a long, in Int.
	Int
	// Float is a float or a double, in Float (a float widened exactly).
	Float
	// Text is a string or an enum's symbol, in Bytes.
	Text
	// Millis is a timestamp-millis, in Int: Unix milliseconds, the
	// instant of goavro's time.Time.
	Millis
	// Numbers is a whole array of numbers: Nums[Start : Start+Len] of the
	// slice Read returned.
	Numbers
	// Unread is a value the projection does not read (a record or a map
	// where a column wants a number, an array of nullable items): decode
	// the record whole for it.
	Unread
)

// Value is what a Projection found at one column's path.
type Value struct {
	Kind  ValueKind
	Int   int64
	Float float64
	// Bytes aliases the body (a string) or the schema (an enum symbol):
	// read it, never keep or modify it.
	Bytes      []byte
	Start, Len int
}

// Projection reads chosen paths straight from Avro binary bodies of one
// writer schema, skipping everything else, with no decoded record in
// between: the scorer's hot path, where goavro's record of maps cost more
// than the model. It reads exactly what Path.Read reads from goavro's
// decoding of the same body, for the paths Resolve accepts; a body it reads
// to the end is one goavro decodes. It is immutable: one Projection serves
// every goroutine.
type Projection struct {
	prog program
	cols int
}

// Project returns the projection of cols in s's bodies. A column whose
// field s lacks (a field added after s) reads Absent. Project fails,
// wrapping ErrNotProjectable, when a path does not resolve otherwise, when a column reads a
// type a Value does not carry (bytes, fixed, a record, a map, a logical
// type other than timestamp-millis, or an array where Array is false), or when s has what the
// projection would read differently from goavro: a string goavro checks
// against a pattern (its validated-string logical type), or two named types
// with one short name, which parsers resolve differently; or a record that
// holds itself with no union, array or map between, which has no finite
// value to read.
func (s *Schema) Project(cols []Column) (*Projection, error) {
	c := compiler{ops: map[*node]*op{}, names: map[string]bool{}}
	root, err := c.op(s.root)
	state := map[*op]int{}
	for _, o := range c.ops {
		if err == nil {
			err = holdsItself(o, state)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotProjectable, err)
	}
	top := &want{}
	for i, col := range cols {
		leaf, err := s.Resolve(col.Path)
		if IsAbsent(err) && s.plainlyAbsent(col.Path) {
			continue // a field of a newer schema: its Value stays Absent
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNotProjectable, err)
		}
		if err := projectable(leaf, col.Array); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrNotProjectable, col.Path, err)
		}
		w := top
		n := s.root
		for _, st := range col.Path.steps {
			n = nonNull(n) // Resolve passed only nullable unions
			w = w.step(n, st)
			if st.kind == keyStep && n.kind == "record" {
				n, _ = n.field(st.key)
			} else {
				n = n.items
			}
		}
		w.slots = append(w.slots, slot{col: i, array: col.Array})
	}
	top.gather()
	l := layout{left: maxLayout}
	return &Projection{prog: l.compile(root, top), cols: len(cols)}, nil
}

// plainlyAbsent reports whether Read finds nothing at p in every record
// of s, as the projection does, for a path Resolve found absent: a
// record on the way lacks the field. It does not when that record is
// nested and has one field: goavro decodes it to a map of one entry, which
// Read takes for a union wrapper when the key is missing from it and reads
// the key in the entry's value.
func (s *Schema) plainlyAbsent(p Path) bool {
	n := s.root
	for i, st := range p.steps {
		n = nonNull(n)
		if st.kind == keyStep && n.kind == "record" {
			f, ok := n.field(st.key)
			if !ok {
				return i == 0 || len(n.fields) != 1
			}
			n = f
			continue
		}
		n = n.items
	}
	return false
}

// projectable refuses a leaf whose value a Value does not carry.
func projectable(l Leaf, array bool) error {
	if array {
		if l.Type != "array" || l.Items.Logical != "" || !numberKind(l.Items.Type) || l.Items.Nullable {
			return fmt.Errorf("%s is not an array of numbers", l.TypeName)
		}
		return nil
	}
	if l.Logical != "" && l.Logical != "timestamp-millis" {
		return fmt.Errorf("%s has a logical type", l.TypeName)
	}
	switch l.Type {
	case "null", "boolean", "int", "long", "float", "double", "string", "enum", "union":
		return nil
	}
	return fmt.Errorf("%s is not a number, a boolean or text", l.TypeName)
}

func numberKind(t string) bool {
	switch t {
	case "boolean", "int", "long", "float", "double":
		return true
	}
	return false
}

// Columns is the number of columns the projection reads: the length of
// the vals Read takes.
func (p *Projection) Columns() int { return p.cols }

// Read reads one body into vals, one Value per column in the order Project
// was given them, appending whole arrays' numbers to nums, which it
// returns. body must have passed the avroguard check of the same schema:
// the projection trusts the guard's bounds on counts, lengths and nesting.
// An error means the body cannot be read to its end as the schema says;
// the caller decodes it whole, for goavro's exact error.
func (p *Projection) Read(body []byte, vals []Value, nums []float64) ([]float64, error) {
	if len(vals) != p.cols {
		return nums, fmt.Errorf("read: %d values for %d columns", len(vals), p.cols)
	}
	clear(vals)
	r := bodyReader{buf: body, vals: vals, nums: nums}
	if err := r.run(p.prog); err != nil {
		return r.nums, err
	}
	if r.pos != len(body) {
		return r.nums, errUnreadable
	}
	return r.nums, nil
}

// opKind is an Avro type as the projection reads it.
type opKind uint8

const (
	opNull opKind = iota
	opBoolean
	opInt
	opLong
	opFloat
	opDouble
	opBytes
	opString
	opEnum
	opFixed
	opRecord
	opArray
	opMap
	opUnion
)

// op is one Avro type, compiled for reading: a named type is one op, so a
// recursive type is a cycle, as in the Schema.
type op struct {
	kind    opKind
	logical bool     // goavro decodes it to another Go type: Unread
	millis  bool     // a timestamp-millis: Millis
	size    int      // fixed's size; for any type, bytes it always takes, or -1
	symbols [][]byte // an enum's
	fields  []*op
	items   *op
	arms    []*op // a union's branches
}

type compiler struct {
	ops   map[*node]*op
	names map[string]bool // short names of named types seen
}

func (c *compiler) op(n *node) (*op, error) {
	if o, ok := c.ops[n]; ok {
		return o, nil
	}
	o := &op{size: -1, logical: n.logical != "" && n.logical != "timestamp-millis", millis: n.logical == "timestamp-millis"}
	c.ops[n] = o
	if n.name != "" {
		short := shortName(n.name)
		if c.names[short] {
			return nil, fmt.Errorf("two named types are called %s", short)
		}
		c.names[short] = true
	}
	var err error
	switch n.kind {
	case "null":
		o.kind, o.size = opNull, 0
	case "boolean":
		o.kind = opBoolean // a byte, but one goavro checks: never skipped blind
	case "int":
		o.kind = opInt
	case "long":
		o.kind = opLong
	case "float":
		o.kind, o.size = opFloat, 4
	case "double":
		o.kind, o.size = opDouble, 8
	case "bytes":
		o.kind = opBytes
	case "string":
		if n.validated {
			return nil, errors.New("a validated-string, which goavro checks against its pattern")
		}
		o.kind = opString
	case "enum":
		o.kind = opEnum
		for _, s := range n.symbols {
			o.symbols = append(o.symbols, []byte(s))
		}
	case "fixed":
		o.kind, o.size = opFixed, n.size
	case "record":
		// The size is set once every field is compiled: a recursive
		// reference meets -1, never a sum in progress.
		o.kind = opRecord
		size := 0
		for _, f := range n.fields {
			fo, err := c.op(f.typ)
			if err != nil {
				return nil, err
			}
			o.fields = append(o.fields, fo)
			if fo.size < 0 || size < 0 {
				size = -1
			} else {
				size += fo.size
			}
		}
		o.size = size
	case "array", "map":
		o.kind = opArray
		if n.kind == "map" {
			o.kind = opMap
		}
		o.items, err = c.op(n.items)
	case "union":
		o.kind = opUnion
		for _, b := range n.branches {
			bo, err := c.op(b)
			if err != nil {
				return nil, err
			}
			o.arms = append(o.arms, bo)
		}
	default:
		err = fmt.Errorf("type %s", n.kind)
	}
	return o, err
}

// holdsItself refuses a record that reaches itself through record fields
// alone, with no union, array or map between to end the recursion: it has
// no finite value, and skipping it would never end. Project asks it of
// every type it compiled. state is 1 for a record on the way, 2 for one
// found free of such a cycle.
func holdsItself(o *op, state map[*op]int) error {
	if o.kind != opRecord || state[o] == 2 {
		return nil
	}
	if state[o] == 1 {
		return errors.New("a record holds itself with no union, array or map between")
	}
	state[o] = 1
	for _, f := range o.fields {
		if err := holdsItself(f, state); err != nil {
			return err
		}
	}
	state[o] = 2
	return nil
}

// want is what a Projection reads of one value on the columns' paths: the
// columns ending at it, and the fields, keys or indexes on the way to the
// others. Unions are passed through: a want belongs to the value inside.
type want struct {
	slots  []slot
	fields []*want          // a record's, by field index; nil: skipped
	keys   map[string]*want // a map's
	index  map[int]*want    // an array's
	// all is every column this want and those below it read, made
	// absent at once by a null on the way.
	all []int
}

type slot struct {
	col   int
	array bool
}

// step returns the want of the value one step below w, in a value of
// type n (not a union), making it if it is the first column there.
func (w *want) step(n *node, st step) *want {
	switch {
	case st.kind == keyStep && n.kind == "record":
		if w.fields == nil {
			w.fields = make([]*want, len(n.fields))
		}
		for i, f := range n.fields {
			if f.name == st.key {
				if w.fields[i] == nil {
					w.fields[i] = &want{}
				}
				return w.fields[i]
			}
		}
		panic("avropath: step on a field Resolve did not find") // Project resolved the path first
	case st.kind == keyStep:
		if w.keys == nil {
			w.keys = map[string]*want{}
		}
		if w.keys[st.key] == nil {
			w.keys[st.key] = &want{}
		}
		return w.keys[st.key]
	default:
		if w.index == nil {
			w.index = map[int]*want{}
		}
		if w.index[st.index] == nil {
			w.index[st.index] = &want{}
		}
		return w.index[st.index]
	}
}

// gather fills in all, below w first.
func (w *want) gather() []int {
	for _, s := range w.slots {
		w.all = append(w.all, s.col)
	}
	for _, f := range w.fields {
		if f != nil {
			w.all = append(w.all, f.gather()...)
		}
	}
	for _, k := range w.keys {
		w.all = append(w.all, k.gather()...)
	}
	for _, i := range w.index {
		w.all = append(w.all, i.gather()...)
	}
	return w.all
}

// bodyReader is one pass over a body.
type bodyReader struct {
	buf  []byte
	pos  int
	vals []Value
	nums []float64
}

// walk reads a value of type o, capturing what w wants of it; a nil w
// skips it.
func (r *bodyReader) walk(o *op, w *want) error {
	if w == nil {
		return r.skip(o)
	}
	switch o.kind {
	case opUnion:
		arm, err := r.arm(o)
		if err != nil {
			return err
		}
		if arm.kind == opNull {
			r.reset(w) // null: everything below is absent
			return nil
		}
		return r.walk(arm, w)
	case opRecord:
		r.set(w.slots, Value{Kind: Unread})
		for i, f := range o.fields {
			var fw *want
			if w.fields != nil {
				fw = w.fields[i]
			}
			if err := r.walk(f, fw); err != nil {
				return err
			}
		}
		return nil
	case opMap:
		r.set(w.slots, Value{Kind: Unread})
		return r.mapEntries(o, w)
	case opArray:
		return r.arrayItems(o, w)
	}
	v, err := r.scalar(o)
	if err != nil {
		return err
	}
	r.set(w.slots, v)
	return nil
}

// set gives v to the columns of slots; a column that reads a whole array
// gets Unread for any value but null.
func (r *bodyReader) set(slots []slot, v Value) {
	for _, s := range slots {
		if s.array && v.Kind != Absent {
			r.vals[s.col] = Value{Kind: Unread}
			continue
		}
		r.vals[s.col] = v
	}
}

// reset makes every column at or below w absent.
func (r *bodyReader) reset(w *want) {
	for _, c := range w.all {
		r.vals[c] = Value{}
	}
}

// scalar reads a value that is not a record, a map, an array or a union.
func (r *bodyReader) scalar(o *op) (Value, error) {
	if o.logical {
		return Value{Kind: Unread}, r.skip(o)
	}
	switch o.kind {
	case opNull:
		return Value{}, nil
	case opBoolean:
		b, err := r.boolean()
		return Value{Kind: Boolean, Int: b}, err
	case opInt, opLong:
		i, err := r.integer(o.kind == opInt)
		if o.millis {
			return Value{Kind: Millis, Int: i}, err
		}
		return Value{Kind: Int, Int: i}, err
	case opFloat, opDouble:
		f, err := r.float(o.kind)
		return Value{Kind: Float, Float: f}, err
	case opString:
		b, err := r.bytes()
		return Value{Kind: Text, Bytes: b}, err
	case opEnum:
		i, err := r.enum(o)
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: Text, Bytes: o.symbols[i]}, nil
	}
	return Value{Kind: Unread}, r.skip(o) // bytes, fixed
}

// mapEntries reads a map's blocks, walking the values of the keys w wants
// (nil: none) and skipping the rest.
func (r *bodyReader) mapEntries(o *op, w *want) error {
	var keys mapKeys
	for {
		n, err := r.blockCount()
		if err != nil || n == 0 {
			return err
		}
		for range n {
			key, err := r.bytes()
			if err != nil {
				return err
			}
			if !keys.add(key) {
				return errUnreadable
			}
			var kw *want
			if w != nil {
				kw = w.keys[string(key)]
			}
			if err := r.walk(o.items, kw); err != nil {
				return err
			}
		}
	}
}

// maxMapKeys is the most keys of one map a projection reads: goavro
// refuses a map that repeats a key, and telling takes every key seen, so a
// larger map is left to goavro, which decodes it whole.
const maxMapKeys = 32

// mapKeys are the keys of one map read so far, aliasing the body.
type mapKeys struct {
	seen [maxMapKeys][]byte
	n    int
}

// add records key, or reports false for a key seen before or one too
// many.
func (k *mapKeys) add(key []byte) bool {
	if k.n == maxMapKeys {
		return false
	}
	for _, s := range k.seen[:k.n] {
		if string(s) == string(key) {
			return false
		}
	}
	k.seen[k.n] = key
	k.n++
	return true
}

// arrayItems reads an array's blocks: its numbers for the columns that
// read it whole, and the items w wants by index.
func (r *bodyReader) arrayItems(o *op, w *want) error {
	// A column reads an array whole only of plain numbers: items of a
	// union, even of one branch, are goavro's wrappers, not numbers.
	plain := !o.items.logical && !o.items.millis && o.items.kind >= opBoolean && o.items.kind <= opDouble
	whole := false
	for _, s := range w.slots {
		if s.array && plain {
			whole = true
		} else {
			r.vals[s.col] = Value{Kind: Unread}
		}
	}
	start := len(r.nums)
	index := 0
	for {
		n, err := r.blockCount()
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		for range n {
			iw := w.index[index] // nil when w.index is
			index++
			if !whole {
				if err := r.walk(o.items, iw); err != nil {
					return err
				}
				continue
			}
			v, err := r.scalar(o.items)
			if err != nil {
				return err
			}
			r.nums = append(r.nums, v.number())
			if iw != nil {
				r.set(iw.slots, v)
			}
		}
	}
	if whole {
		whole := Value{Kind: Numbers, Start: start, Len: len(r.nums) - start}
		for _, s := range w.slots {
			if s.array {
				r.vals[s.col] = whole
			}
		}
	}
	return nil
}

// number is a Boolean, Int or Float value as a float64, as a feature
// reads it.
func (v Value) number() float64 {
	if v.Kind == Float {
		return v.Float
	}
	return float64(v.Int)
}

// skip reads past a value of type o, checking what goavro would check.
func (r *bodyReader) skip(o *op) error {
	if o.size >= 0 {
		if len(r.buf)-r.pos < o.size {
			return errUnreadable
		}
		r.pos += o.size
		return nil
	}
	switch o.kind {
	case opBoolean:
		_, err := r.boolean()
		return err
	case opInt, opLong:
		_, err := r.integer(o.kind == opInt)
		return err
	case opEnum:
		_, err := r.enum(o)
		return err
	case opBytes, opString:
		_, err := r.bytes()
		return err
	case opRecord:
		for _, f := range o.fields {
			if err := r.skip(f); err != nil {
				return err
			}
		}
		return nil
	case opUnion:
		arm, err := r.arm(o)
		if err != nil {
			return err
		}
		return r.skip(arm)
	case opMap:
		return r.mapEntries(o, nil)
	case opArray:
		for {
			n, err := r.blockCount()
			if err != nil || n == 0 {
				return err
			}
			for range n {
				if err := r.skip(o.items); err != nil {
					return err
				}
			}
		}
	}
	return errUnreadable
}

// varint reads a zig-zag encoded long.
func (r *bodyReader) varint() (int64, error) {
	var u uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if r.pos >= len(r.buf) {
			return 0, errUnreadable
		}
		b := r.buf[r.pos]
		r.pos++
		u |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return int64(u>>1) ^ -int64(u&1), nil
		}
	}
	return 0, errUnreadable
}

// integer reads an int, which must fit 32 bits, or a long.
func (r *bodyReader) integer(int32Only bool) (int64, error) {
	i, err := r.varint()
	if err == nil && int32Only && (i < math.MinInt32 || i > math.MaxInt32) {
		err = errUnreadable
	}
	return i, err
}

func (r *bodyReader) boolean() (int64, error) {
	if r.pos >= len(r.buf) || r.buf[r.pos] > 1 {
		return 0, errUnreadable
	}
	r.pos++
	return int64(r.buf[r.pos-1]), nil
}

func (r *bodyReader) float(k opKind) (float64, error) {
	if k == opFloat {
		if len(r.buf)-r.pos < 4 {
			return 0, errUnreadable
		}
		r.pos += 4
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(r.buf[r.pos-4:]))), nil
	}
	if len(r.buf)-r.pos < 8 {
		return 0, errUnreadable
	}
	r.pos += 8
	return math.Float64frombits(binary.LittleEndian.Uint64(r.buf[r.pos-8:])), nil
}

// bytes reads a length-prefixed bytes or string value, aliasing the body.
func (r *bodyReader) bytes() ([]byte, error) {
	n, err := r.varint()
	if err != nil || n < 0 || n > int64(len(r.buf)-r.pos) {
		return nil, errUnreadable
	}
	r.pos += int(n)
	return r.buf[r.pos-int(n) : r.pos : r.pos], nil
}

func (r *bodyReader) enum(o *op) (int, error) {
	i, err := r.integer(true)
	if err != nil || i < 0 || i >= int64(len(o.symbols)) {
		return 0, errUnreadable
	}
	return int(i), nil
}

// arm reads a union's branch index.
func (r *bodyReader) arm(o *op) (*op, error) {
	i, err := r.varint()
	if err != nil || i < 0 || i >= int64(len(o.arms)) {
		return nil, errUnreadable
	}
	return o.arms[i], nil
}

// blockCount reads an array's or map's block count; a negative count is
// followed by the block's size in bytes, which the items are read without.
func (r *bodyReader) blockCount() (int64, error) {
	n, err := r.varint()
	if err != nil {
		return 0, err
	}
	if n < 0 {
		if n == math.MinInt64 {
			return 0, errUnreadable
		}
		n = -n
		if _, err := r.varint(); err != nil {
			return 0, err
		}
	}
	if n > math.MaxInt32 {
		return 0, errUnreadable // goavro refuses it; only the guard's budget bounds less
	}
	return n, nil
}
