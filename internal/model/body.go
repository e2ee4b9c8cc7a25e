package model

import (
	"errors"
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/streamscore/streamscore/internal/avropath"
)

// Reading a record's features straight from its Avro body, without the
// record of Go maps goavro decodes it to, is the scorer's hot path: on a
// sensor record the decoded record cost more than the model. Only a row
// that maps cleanly is read this way. Anything else (a null without a
// default, a wrong type, a non-finite value, an unknown category to refuse,
// a short array, a body goavro would refuse) makes AddBody decline, and
// the caller decodes the record whole and calls Add, which gives the
// exact error. So AddBody never decides a record's fate: it either adds
// the very row Add would add, or leaves the record to Add.

// projections holds a model's projection of each writer schema it has
// met, or why there is none: a schema its features cannot be read from
// straight.
type projections struct {
	mu    sync.Mutex
	cache sync.Map // *avropath.Schema -> projected
}

type projected struct {
	p   *avropath.Projection
	err error // why p is nil
}

// projection returns the projection of m's columns in bodies of s, made
// on first use, or why there is none.
func (m *Model) projection(s *avropath.Schema) projected {
	if p, ok := m.projections.cache.Load(s); ok {
		return p.(projected)
	}
	m.projections.mu.Lock()
	defer m.projections.mu.Unlock()
	if p, ok := m.projections.cache.Load(s); ok {
		return p.(projected)
	}
	var cols []avropath.Column
	for _, in := range m.inputs {
		cols = append(cols, in.reader.projectColumns()...)
	}
	p, err := s.Project(cols)
	m.projections.cache.Store(s, projected{p, err})
	return projected{p, err}
}

// BodyReadable says why m's features are not read straight from bodies of
// writer schema s, so that every record of s is decoded whole and mapped
// by Add; nil when they are.
func (m *Model) BodyReadable(s *avropath.Schema) error {
	if s == nil {
		return errors.New("the writer schema has no path tree")
	}
	return m.projection(s).err
}

// AddBody maps one Avro body of writer schema s, a body the avroguard
// check of the same schema passed, to a row, as Add maps the record goavro
// decodes it to, and reports true. It reports false, leaving the batch
// unchanged, for any record it does not map cleanly: the caller then
// decodes the body whole and calls Add, which maps the record or names
// what is wrong with it. A full batch is false too; Add says so.
func (b *Batch) AddBody(s *avropath.Schema, body []byte) bool {
	if b.Full() || s == nil {
		return false
	}
	if s != b.tree {
		b.tree, b.projection = s, b.model.projection(s).p
	}
	p := b.projection
	if p == nil {
		return false
	}
	if cap(b.values) < p.Columns() {
		b.values = make([]avropath.Value, p.Columns())
	}
	vals := b.values[:p.Columns()]
	nums, err := p.Read(body, vals, b.arrayNumbers[:0])
	b.arrayNumbers = nums
	if err != nil {
		return false
	}
	spec := &b.model.spec
	for i := range b.model.inputs {
		in := &b.model.inputs[i]
		cols := vals[:len(in.reader.cols)]
		vals = vals[len(in.reader.cols):]
		if in.isText() {
			s, ok := in.reader.textValue(cols[0], spec.MaxText())
			if !ok {
				b.truncate(i)
				return false
			}
			b.texts[i] = append(b.texts[i], s)
			continue
		}
		row, ok := in.reader.appendValues(b.numbers[i], cols, nums, spec.AllowNonFinite)
		if !ok {
			b.truncate(i)
			return false
		}
		b.numbers[i] = row
		b.nulls[i] = in.reader.appendValueNulls(b.nulls[i], cols)
	}
	b.rows++
	return true
}

// projectColumns is what the reader's columns read of a body.
func (r *InputReader) projectColumns() []avropath.Column {
	cols := make([]avropath.Column, len(r.cols))
	for i, c := range r.cols {
		cols[i] = avropath.Column{Path: c.path, Array: c.kind == arrayColumn}
	}
	return cols
}

// appendValues appends the row of projected values to dst, as
// AppendNumbers does for the decoded record, or reports false, with dst
// unchanged, for a row AppendNumbers would refuse or that needs the
// decoded record.
func (r *InputReader) appendValues(dst []float32, vals []avropath.Value, nums []float64, allowNonFinite bool) ([]float32, bool) {
	start := len(dst)
	for i := range r.cols {
		c := &r.cols[i]
		v := &vals[i]
		var ok bool
		switch c.kind {
		case categoryColumn:
			var code float32
			if code, ok = c.valueCode(v); ok {
				dst = append(dst, code)
			}
		case arrayColumn:
			dst, ok = c.appendValueArray(dst, v, nums)
		default:
			var x float64
			if x, ok = c.valueNumber(v); ok {
				dst = append(dst, float32(x))
			}
		}
		if !ok {
			return dst[:start], false
		}
	}
	// Every column, a default or a pad included, is refused non-finite
	// where AppendNumbers refuses it.
	if !allowNonFinite && !finite(dst[start:]) {
		return dst[:start], false
	}
	return dst, true
}

// appendValueNulls appends, for a row appendValues took, whether each
// column's value was null or absent: Absent is the one kind that takes a
// default or the null code.
func (r *InputReader) appendValueNulls(nulls []bool, vals []avropath.Value) []bool {
	for i := range r.cols {
		null := vals[i].Kind == avropath.Absent
		for range max(r.cols[i].length, 1) {
			nulls = append(nulls, null)
		}
	}
	return nulls
}

// finite reports whether every column is a finite float32.
func finite(cols []float32) bool {
	for _, f := range cols {
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return false
		}
	}
	return true
}

// valueNumber reads a number column's value as number reads it: a
// number, a boolean as 1 or 0, a timestamp as its Unix milliseconds, or
// a part of it; the default for a null.
func (c *column) valueNumber(v *avropath.Value) (float64, bool) {
	if c.kind == partColumn {
		switch v.Kind {
		case avropath.Millis, avropath.Int:
			part, err := TimePart(time.UnixMilli(v.Int), c.part)
			return part, err == nil
		case avropath.Absent:
			return c.def, c.hasDef
		}
		return 0, false
	}
	switch v.Kind {
	case avropath.Float:
		return v.Float, true
	case avropath.Int, avropath.Boolean, avropath.Millis:
		return float64(v.Int), true
	case avropath.Absent:
		return c.def, c.hasDef
	}
	return 0, false
}

// valueCode reads a categorical column's code as code reads it.
func (c *column) valueCode(v *avropath.Value) (float32, bool) {
	var (
		code  float32
		known bool
	)
	switch v.Kind {
	case avropath.Absent:
		return c.null, true
	case avropath.Text:
		if code, known = c.codes[string(v.Bytes)]; !known && !utf8.Valid(v.Bytes) {
			return 0, false
		}
	case avropath.Int:
		code, known = c.intCode(v.Int)
	case avropath.Boolean:
		code, known = c.codes[boolText[v.Int]]
	default:
		return 0, false
	}
	if known {
		return code, true
	}
	return c.other, !c.refuse
}

// boolText is a boolean category's value as a table holds it.
var boolText = [2]string{"false", "true"}

// appendValueArray appends a whole array's columns as appendArray does.
func (c *column) appendValueArray(dst []float32, v *avropath.Value, nums []float64) ([]float32, bool) {
	switch {
	case v.Kind == avropath.Absent && c.hasDef:
		for range c.length {
			dst = append(dst, float32(c.def))
		}
		return dst, true
	case v.Kind != avropath.Numbers:
		return dst, false
	case v.Len > c.length || v.Len < c.length && !c.hasPad:
		return dst, false
	}
	for _, x := range nums[v.Start : v.Start+v.Len] {
		dst = append(dst, float32(x))
	}
	for range c.length - v.Len {
		dst = append(dst, float32(c.pad))
	}
	return dst, true
}

// textValue reads a string input's text as Text does, or reports false.
func (r *InputReader) textValue(v avropath.Value, maxBytes int) (string, bool) {
	if v.Kind != avropath.Text || len(v.Bytes) > maxBytes || !utf8.Valid(v.Bytes) {
		return "", false
	}
	s := string(v.Bytes)
	return s, strings.IndexByte(s, 0) < 0
}
