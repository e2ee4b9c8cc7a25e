package avroguard

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/hamba/avro/v2"
)

// ErrSchema marks a schema that Compile refuses: it does not parse, no body
// can satisfy it, or decoding it is unbounded whatever the body.
var ErrSchema = errors.New("schema refused by the avro guard")

// MaxDecimalScale bounds a decimal's scale. goavro computes 10^scale for
// every decimal it decodes, so a schema with scale 10^9 would make each
// record cost seconds and hundreds of megabytes; no real decimal comes near
// (Java's BigDecimal, Spark and databases stop well under 1,000).
const MaxDecimalScale = 1000

// kind is the encoding of a node: what the walk reads for it.
type kind uint8

const (
	kindNull kind = iota
	kindBoolean
	kindInt
	kindLong
	kindFloat
	kindDouble
	kindBytes
	kindString
	kindFixed
	kindEnum
	kindArray
	kindMap
	kindUnion
	kindRecord
)

// unbounded is the minimum size of a node before the fixpoint in Compile
// finds a finite one, and stays so for a type no body can end.
const unbounded = math.MaxInt32

// node is one type of a compiled schema. Named types are compiled once and
// shared, so a recursive type is a cycle of nodes.
type node struct {
	kind kind
	// name is what errors call the type: "long", "record io.x.Node".
	name string
	// size is a fixed's byte count; symbols an enum's symbol count.
	size, symbols int
	// items are an array's items or a map's values.
	items *node
	// branches are a union's types, in index order.
	branches []*node
	// fields are a record's fields, in schema order.
	fields []field
	// decimal is set for the decimal logical type, whose decoded form
	// (a big.Rat) grows with its length and scale.
	decimal bool
	scale   int
	// timeLike is set for an int or long with a logical type, which goavro
	// decodes into a time.Time or time.Duration.
	timeLike bool

	// minSize is the fewest bytes a value of the type takes: zero only for
	// types built of null and zero-size fixeds, which are always empty.
	minSize int
	// constSize is the exact size of a value when every value of the type
	// takes the same bytes and none of them needs checking (null, boolean,
	// float, double, fixed, and records of these), else -1. Such a value is
	// skipped in one step, at constCost.
	constSize int
	constCost int64
}

// field is a record's field.
type field struct {
	name string
	typ  *node
}

// Schema is a writer schema compiled for checking bodies. It is immutable
// and safe for concurrent use.
type Schema struct {
	root *node
	// fixed is what a value costs decoded with each record read once,
	// unions at their costliest branch, arrays and maps empty, recursion
	// cut: the part of the decoded size the schema decides.
	fixed int64
}

// FixedCost is what a value of the schema costs decoded, in goavro's
// allocations, with each record read once, each union at its costliest
// branch and every array and map empty: the part of a body's decoded size
// that the schema decides and a body cannot repeat.
func (s *Schema) FixedCost() int64 { return s.fixed }

// Budget is the decoded size a body of n bytes may reach under l.
func (s *Schema) Budget(n int, l Limits) int64 {
	return l.Resolve().budget(s.fixed, n)
}

// Compile parses a writer schema. It refuses, wrapping ErrSchema, a schema
// that does not parse, a record that contains itself on every path (no body
// could ever end it), and a decimal scale over MaxDecimalScale.
func Compile(text string) (*Schema, error) {
	parsed, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSchema, err)
	}
	c := compiler{named: map[string]*node{}}
	root, err := c.compile(parsed)
	if err != nil {
		return nil, err
	}
	if err := settle(c.all); err != nil {
		return nil, err
	}
	return &Schema{root: root, fixed: root.fixedCost(map[*node]bool{})}, nil
}

// compiler turns a parsed schema into nodes.
type compiler struct {
	named map[string]*node // by full name, so references share one node
	all   []*node
}

func (c *compiler) add(n *node) *node {
	n.minSize, n.constSize = unbounded, -1
	c.all = append(c.all, n)
	return n
}

func (c *compiler) compile(s avro.Schema) (*node, error) {
	switch s := s.(type) {
	case *avro.RefSchema:
		return c.compile(s.Schema())
	case *avro.NullSchema:
		return c.add(&node{kind: kindNull, name: "null"}), nil
	case *avro.PrimitiveSchema:
		return c.primitive(s)
	case *avro.FixedSchema:
		if n, ok := c.named[s.FullName()]; ok {
			return n, nil
		}
		n := c.add(&node{kind: kindFixed, name: "fixed " + s.FullName(), size: s.Size()})
		if err := n.setDecimal(s.Logical()); err != nil {
			return nil, err
		}
		c.named[s.FullName()] = n
		return n, nil
	case *avro.EnumSchema:
		if n, ok := c.named[s.FullName()]; ok {
			return n, nil
		}
		n := c.add(&node{kind: kindEnum, name: "enum " + s.FullName(), symbols: len(s.Symbols())})
		c.named[s.FullName()] = n
		return n, nil
	case *avro.ArraySchema:
		items, err := c.compile(s.Items())
		if err != nil {
			return nil, err
		}
		return c.add(&node{kind: kindArray, name: "array", items: items}), nil
	case *avro.MapSchema:
		values, err := c.compile(s.Values())
		if err != nil {
			return nil, err
		}
		return c.add(&node{kind: kindMap, name: "map", items: values}), nil
	case *avro.UnionSchema:
		n := c.add(&node{kind: kindUnion, name: "union"})
		for _, b := range s.Types() {
			bn, err := c.compile(b)
			if err != nil {
				return nil, err
			}
			n.branches = append(n.branches, bn)
		}
		return n, nil
	case *avro.RecordSchema:
		if n, ok := c.named[s.FullName()]; ok {
			return n, nil
		}
		// Registered before its fields, so a field that refers back to
		// the record finds it.
		n := c.add(&node{kind: kindRecord, name: "record " + s.FullName()})
		c.named[s.FullName()] = n
		for _, f := range s.Fields() {
			fn, err := c.compile(f.Type())
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, field{name: f.Name(), typ: fn})
		}
		return n, nil
	default:
		return nil, fmt.Errorf("%w: unknown type %s", ErrSchema, s.Type())
	}
}

func (c *compiler) primitive(s *avro.PrimitiveSchema) (*node, error) {
	n := &node{name: string(s.Type())}
	switch s.Type() {
	case avro.Boolean:
		n.kind = kindBoolean
	case avro.Int:
		n.kind = kindInt
	case avro.Long:
		n.kind = kindLong
	case avro.Float:
		n.kind = kindFloat
	case avro.Double:
		n.kind = kindDouble
	case avro.Bytes:
		n.kind = kindBytes
	case avro.String:
		n.kind = kindString
	case avro.Null:
		n.kind = kindNull
	default:
		return nil, fmt.Errorf("%w: unknown primitive %s", ErrSchema, s.Type())
	}
	if err := n.setDecimal(s.Logical()); err != nil {
		return nil, err
	}
	n.timeLike = (n.kind == kindInt || n.kind == kindLong) && s.Logical() != nil
	return c.add(n), nil
}

// setDecimal marks a bytes or fixed node carrying the decimal logical type.
func (n *node) setDecimal(l avro.LogicalSchema) error {
	d, ok := l.(*avro.DecimalLogicalSchema)
	if !ok {
		return nil
	}
	if d.Scale() > MaxDecimalScale {
		return fmt.Errorf("%w: %s decimal scale %d is over %d", ErrSchema, n.name, d.Scale(), MaxDecimalScale)
	}
	n.decimal, n.scale = true, d.Scale()
	return nil
}

// settle computes every node's minimum and constant size. Minimum sizes
// are found by iterating to a fixpoint from "unbounded", since recursive
// types make the graph cyclic; a record still unbounded afterwards
// contains itself on every path, and no body can end it.
func settle(all []*node) error {
	for changed := true; changed; {
		changed = false
		for _, n := range all {
			if m := n.computeMin(); m < n.minSize {
				n.minSize, changed = m, true
			}
		}
	}
	// From the last node compiled: a record on the cycle itself, rather
	// than one that merely contains it, is the one to name.
	for _, n := range slices.Backward(all) {
		if n.minSize >= unbounded {
			return fmt.Errorf("%w: %s contains itself on every path, so no body can end it", ErrSchema, n.name)
		}
	}
	// Constant sizes need no fixpoint: a recursive record always has a
	// union, array or map on its cycle, none of which is constant.
	for _, n := range all {
		n.computeConst(map[*node]bool{})
	}
	return nil
}

// fixedCost is Schema.FixedCost of a node; visiting cuts recursion.
func (n *node) fixedCost(visiting map[*node]bool) int64 {
	if n.constSize >= 0 {
		return n.constCost
	}
	switch n.kind {
	case kindInt, kindLong:
		if n.timeLike {
			return timeCost
		}
		return boxCost
	case kindBytes, kindFixed:
		if n.decimal {
			return bytesCost + decimalCost + int64(n.scale)/2
		}
		return bytesCost
	case kindString:
		return stringCost
	case kindEnum:
		return enumCost
	case kindArray:
		return arrayCost
	case kindMap:
		return goMapCost(0)
	case kindUnion:
		var most int64
		for _, b := range n.branches {
			c := b.fixedCost(visiting)
			if b.kind != kindNull {
				c += unionCost
			}
			most = max(most, c)
		}
		return most
	case kindRecord:
		if visiting[n] {
			return 0
		}
		visiting[n] = true
		defer delete(visiting, n)
		cost := recordCost(len(n.fields))
		for _, f := range n.fields {
			cost += f.typ.fixedCost(visiting)
		}
		return cost
	}
	return 0
}

// computeMin is the fewest bytes a value takes, given the children's
// current estimates.
func (n *node) computeMin() int {
	switch n.kind {
	case kindNull:
		return 0
	case kindFloat:
		return 4
	case kindDouble:
		return 8
	case kindFixed:
		return n.size
	case kindBoolean, kindInt, kindLong, kindBytes, kindString, kindEnum, kindArray, kindMap:
		// One byte: a value, a varint, a zero length or an empty block.
		return 1
	case kindUnion:
		least := unbounded
		for _, b := range n.branches {
			least = min(least, b.minSize)
		}
		return saturate(1 + least)
	case kindRecord:
		sum := 0
		for _, f := range n.fields {
			sum = saturate(sum + f.typ.minSize)
		}
		return sum
	}
	return unbounded
}

func saturate(v int) int { return min(v, unbounded) }

// computeConst sets constSize and constCost, for the types that always
// take the same bytes and need no checking. visiting breaks cycles, which
// are never constant.
func (n *node) computeConst(visiting map[*node]bool) {
	if n.constSize >= 0 || visiting[n] {
		return
	}
	visiting[n] = true
	defer delete(visiting, n)
	switch n.kind {
	case kindNull:
		n.constSize, n.constCost = 0, 0
	case kindBoolean:
		n.constSize, n.constCost = 1, 0
	case kindFloat:
		n.constSize, n.constCost = 4, boxCost
	case kindDouble:
		n.constSize, n.constCost = 8, boxCost
	case kindFixed:
		if !n.decimal {
			n.constSize, n.constCost = n.size, bytesCost+int64(n.size)
		}
	case kindRecord:
		size, cost := 0, recordCost(len(n.fields))
		for _, f := range n.fields {
			f.typ.computeConst(visiting)
			if f.typ.constSize < 0 {
				return
			}
			size += f.typ.constSize
			cost += f.typ.constCost
		}
		n.constSize, n.constCost = size, cost
	}
}
