package avroguard

import "math"

// What goavro allocates for each part of a decoded value, in bytes,
// rounded up from measurements (TestCostCoversGoavro holds the estimate
// above what goavro really allocates, shape by shape, and within a small
// factor of it).
const (
	// boxCost: a number boxed into an interface; timeCost: a time.Time,
	// which goavro makes of every int or long with a logical type.
	boxCost  = 16
	timeCost = 32
	// bytesCost, stringCost: a byte slice or string, before its bytes.
	bytesCost  = 40
	stringCost = 40
	// enumCost: the symbol, boxed.
	enumCost = 16
	// unionCost: the one-entry map goavro wraps every non-null union
	// value in.
	unionCost = 352
	// arrayCost and itemCost: the slice and each item's interface in it.
	// The first block sizes the slice; items of later blocks are
	// appended, and a slice that grows by appending allocates up to twice
	// what it ends with, so they count double.
	arrayCost = 64
	itemCost  = 17
	// mapEntryCost: each entry of an Avro map (key, value and the map's
	// own overhead), before the key's bytes; goavro does not size the map
	// by the count, so it grows. mapGroupCost: the first slots a map
	// allocates for its first entry.
	mapEntryCost = 128
	mapGroupCost = 328
	// decimalCost: a big.Rat and its two big.Ints, before the digits.
	decimalCost = 160
)

// goMapCost is what a Go map[string]any sized for n entries takes: the map
// header and directory, and 33 bytes a slot (key, value, control byte),
// slots being a power of two at most 7/8 full.
func goMapCost(n int64) int64 {
	if n == 0 {
		return 48
	}
	slots := int64(8)
	for slots*7 < n*8 {
		slots *= 2
	}
	return 112 + 33*slots
}

// recordCost is the map goavro decodes a record of n fields into.
func recordCost(n int) int64 { return goMapCost(int64(n)) }

// Check walks body as one value of the schema, reading only what it must,
// and returns an *Error wrapping ErrMalformed or ErrOverBudget if decoding
// it could cost more than the limits allow (zero limits are the defaults).
// A body that passes may still fail to decode (a bad boolean, invalid
// UTF-8, trailing bytes): the guard looks only for what costs memory or
// time. It also returns its estimate of what goavro will allocate for the
// body (so far, if it fails), within a small factor above the truth.
func (s *Schema) Check(body []byte, l Limits) (estimate int64, err error) {
	l = l.Resolve()
	w := walker{buf: body, budget: s.Budget(len(body), l), maxDepth: l.MaxDepth, bodySize: len(body)}
	if err := w.value(s.root); err != nil {
		if f, ok := err.(*failure); ok {
			return w.cost, f.finish()
		}
		return w.cost, err
	}
	return w.cost, nil
}

// walker is one pass over a body.
type walker struct {
	buf      []byte
	pos      int
	cost     int64 // estimated decoded bytes so far
	budget   int64
	depth    int
	maxDepth int
	bodySize int
}

func (w *walker) left() int { return len(w.buf) - w.pos }

func (w *walker) value(n *node) error {
	if n.constSize >= 0 {
		if w.left() < n.constSize {
			return w.short(n, int64(n.constSize))
		}
		w.pos += n.constSize
		return w.charge(n.constCost)
	}
	switch n.kind {
	case kindInt, kindLong:
		if _, err := w.varint(n, n.kind == kindInt); err != nil {
			return err
		}
		if n.timeLike {
			return w.charge(timeCost)
		}
		return w.charge(boxCost)
	case kindBytes, kindString, kindFixed:
		return w.bytes(n)
	case kindEnum:
		i, err := w.varint(n, true)
		if err != nil {
			return err
		}
		if i < 0 || i >= int64(n.symbols) {
			return malformed("%s index %d is out of range: it has %d symbols", n.name, i, n.symbols)
		}
		return w.charge(enumCost)
	case kindUnion:
		return w.union(n)
	case kindRecord:
		return w.record(n)
	case kindArray, kindMap:
		return w.blocks(n)
	}
	return malformed("unknown %s", n.name)
}

// varint reads a zig-zag varint: an int must fit 32 bits, a long 64.
func (w *walker) varint(n *node, is32 bool) (int64, error) {
	maxBytes, bits := 10, 64
	if is32 {
		maxBytes, bits = 5, 32
	}
	var v uint64
	for i := 0; i < maxBytes; i++ {
		if w.pos >= len(w.buf) {
			return 0, malformed("the body ends inside a %s, after %d bytes of its varint", n.name, i)
		}
		b := w.buf[w.pos]
		w.pos++
		v |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			if (is32 && v > math.MaxUint32) || (i == 9 && b > 1) {
				return 0, malformed("%s varint overflows %d bits", n.name, bits)
			}
			return int64(v>>1) ^ -int64(v&1), nil
		}
	}
	return 0, malformed("%s varint runs past %d bytes", n.name, maxBytes)
}

// length reads a byte count or block size, which must fit the bytes left.
func (w *walker) length(n *node, what string) (int64, error) {
	size, err := w.varint(n, false)
	if err != nil {
		return 0, err
	}
	if size < 0 {
		return 0, malformed("%s %s is negative: %d", n.name, what, size)
	}
	if size > int64(w.left()) {
		return 0, malformed("%s claims %d bytes, with %d bytes left", n.name, size, w.left())
	}
	return size, nil
}

func (w *walker) bytes(n *node) error {
	size := int64(n.size)
	if n.kind != kindFixed {
		var err error
		if size, err = w.length(n, "length"); err != nil {
			return err
		}
	} else if int64(w.left()) < size {
		return w.short(n, size)
	}
	w.pos += int(size)
	cost := bytesCost + size
	if n.kind == kindString {
		cost = stringCost + size
	}
	if n.decimal {
		// goavro builds 10^scale and the numerator: about 0.42 bytes per
		// decimal digit, and the bytes themselves.
		cost += decimalCost + size + int64(n.scale)/2
	}
	return w.charge(cost)
}

func (w *walker) union(n *node) error {
	i, err := w.varint(n, false)
	if err != nil {
		return err
	}
	if i < 0 || i >= int64(len(n.branches)) {
		return malformed("union index %d is out of range: it has %d branches", i, len(n.branches))
	}
	b := n.branches[i]
	if b.kind != kindNull {
		if err := w.charge(unionCost); err != nil {
			return err
		}
	}
	return w.value(b)
}

func (w *walker) enter(n *node) error {
	w.depth++
	if w.depth > w.maxDepth {
		return overBudget("%s nests %d levels deep, over the limit of %d", n.name, w.depth, w.maxDepth)
	}
	return nil
}

func (w *walker) record(n *node) error {
	if err := w.enter(n); err != nil {
		return err
	}
	if err := w.charge(recordCost(len(n.fields))); err != nil {
		return err
	}
	for i := range n.fields {
		if err := w.value(n.fields[i].typ); err != nil {
			return within(err, n.fields[i].name)
		}
	}
	w.depth--
	return nil
}

// blocks walks an array's or a map's blocks. Each block's count is checked
// against the bytes left before any item is read: an item of a type that
// takes at least one byte cannot outnumber them. Items that take no bytes
// at all (nulls) are bounded by their cost alone, charged for the whole
// block before the first one is read.
func (w *walker) blocks(n *node) error {
	if err := w.enter(n); err != nil {
		return err
	}
	isMap := n.kind == kindMap
	base, perItem, itemMin, what := int64(arrayCost), int64(itemCost), n.items.minSize, "items"
	if isMap {
		base, perItem, itemMin, what = goMapCost(0), mapEntryCost, 1+n.items.minSize, "entries"
	}
	if err := w.charge(base); err != nil {
		return err
	}
	var index int64
	for {
		count, err := w.varint(n, false)
		if err != nil {
			return err
		}
		if count == 0 {
			break
		}
		if count < 0 {
			if count == math.MinInt64 {
				return malformed("%s block count %d cannot be negated", n.name, count)
			}
			count = -count
			if _, err := w.length(n, "block size"); err != nil {
				return err
			}
		}
		if itemMin > 0 && count > int64(w.left()/itemMin) {
			return malformed("%s block claims %d %s of %s, at least %d byte(s) each, with %d bytes left",
				n.name, count, what, n.items.name, itemMin, w.left())
		}
		each := perItem
		if index > 0 && !isMap {
			each *= 2 // appended to a slice that grows
		}
		if index == 0 && isMap {
			if err := w.charge(mapGroupCost); err != nil {
				return err
			}
		}
		if n.items.constSize >= 0 {
			each += n.items.constCost
		}
		if count > (w.budget-w.cost)/each {
			return overBudget("%s block claims %d %s of %s: decoded they would take about %d bytes, over the budget of %d bytes for a %d-byte body",
				n.name, count, what, n.items.name, saturatingMul(count, each)+w.cost, w.budget, w.bodySize)
		}
		w.cost += count * each
		if err := w.items(n, isMap, count, index); err != nil {
			return err
		}
		index += count
	}
	w.depth--
	return nil
}

// items walks count items of a block whose first item is number index.
func (w *walker) items(n *node, isMap bool, count, index int64) error {
	if !isMap && n.items.constSize >= 0 {
		// Checked above: count*constSize fits the bytes left.
		w.pos += int(count) * n.items.constSize
		return nil
	}
	for i := range count {
		var keyStart, keyEnd int
		if isMap {
			size, err := w.length(n, "key length")
			if err != nil {
				return within(err, itemSeg(index+i))
			}
			keyStart, keyEnd = w.pos, w.pos+int(size)
			w.pos = keyEnd
			if err := w.charge(size); err != nil {
				return within(err, keySeg(w.buf[keyStart:keyEnd]))
			}
			if n.items.constSize >= 0 {
				if w.left() < n.items.constSize {
					return within(w.short(n.items, int64(n.items.constSize)), keySeg(w.buf[keyStart:keyEnd]))
				}
				w.pos += n.items.constSize
				continue
			}
		}
		if err := w.value(n.items); err != nil {
			if isMap {
				return within(err, keySeg(w.buf[keyStart:keyEnd]))
			}
			return within(err, itemSeg(index+i))
		}
	}
	return nil
}

// charge adds to the estimated decoded size, failing once it passes the
// budget.
func (w *walker) charge(c int64) error {
	w.cost += c
	if w.cost > w.budget {
		return overBudget("decoded, the value would take about %d bytes, over the budget of %d bytes for a %d-byte body", w.cost, w.budget, w.bodySize)
	}
	return nil
}

func (w *walker) short(n *node, need int64) error {
	return malformed("the body ends inside a %s: it needs %d bytes, %d are left", n.name, need, w.left())
}

func saturatingMul(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}
