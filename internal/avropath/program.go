package avropath

import (
	"encoding/binary"
	"math"
)

// A program is a projection flattened for the common record: the fields
// of nested records laid out in a row, runs of fixed-size values skipped
// in one step, and a column of a plain scalar read straight into its
// Value. Unions branch to a program per branch. What a program does not
// lay out (a map, an array, a value two columns read, a union or array
// skipped whole) it hands to the walker, which reads the same way, step
// by step: the program is only the walker made faster where records spend
// their time.
type program []instr

type instrCode uint8

const (
	skipFixed  instrCode = iota // n bytes
	skipVarint                  // an int (n 1) or a long
	skipBytes
	skipBoolean
	skipOther  // op, by the walker's skip
	walkOther  // op and w, by the walker
	readDouble // the commonest column, read without a call
	readScalar // any other scalar: a boolean, an int, a long, a float, text
	chooseArm  // a union: arms[index]
	resetColumns
)

type instr struct {
	code instrCode
	n    int // bytes for skipFixed; the column for reads
	op   *op
	w    *want
	arms []program
}

// maxLayout bounds the record fields a projection lays out to be skipped
// inline, over all its programs: a schema of records nested in records,
// each field a record again, would otherwise lay out fan-out^depth
// instructions (a 2 KB schema, gigabytes of program). Past it, records
// are skipped by the walker, which costs time in proportion to the body.
const maxLayout = 1024

// layout lays out the programs of one projection.
type layout struct {
	left int // fields still to be laid out inline
}

// compile lays out the program of a value of type o of which w wants
// what it does (nil: nothing).
func (l *layout) compile(o *op, w *want) program {
	var p program
	l.add(&p, o, w)
	return p
}

func (l *layout) add(p *program, o *op, w *want) {
	if w == nil {
		l.skip(p, o, 0)
		return
	}
	switch o.kind {
	case opRecord:
		if len(w.slots) > 0 {
			p.emit(instr{code: walkOther, op: o, w: w}) // a column reads the record whole: Unread
			return
		}
		for i, f := range o.fields {
			var fw *want
			if w.fields != nil {
				fw = w.fields[i]
			}
			l.add(p, f, fw)
		}
		return
	case opUnion:
		arms := make([]program, len(o.arms))
		for i, a := range o.arms {
			if a.kind == opNull {
				arms[i] = program{{code: resetColumns, w: w}}
				continue
			}
			arms[i] = l.compile(a, w)
		}
		p.emit(instr{code: chooseArm, arms: arms})
		return
	case opMap, opArray:
		p.emit(instr{code: walkOther, op: o, w: w})
		return
	}
	if len(w.slots) != 1 || w.slots[0].array || o.logical {
		p.emit(instr{code: walkOther, op: o, w: w})
		return
	}
	switch o.kind {
	case opNull:
		p.emit(instr{code: resetColumns, w: w})
	case opDouble:
		p.emit(instr{code: readDouble, n: w.slots[0].col})
	case opBoolean, opInt, opLong, opFloat, opString, opEnum:
		p.emit(instr{code: readScalar, n: w.slots[0].col, op: o})
	default: // bytes, fixed: Unread
		p.emit(instr{code: walkOther, op: o, w: w})
	}
}

// maxInlineDepth is how deep skip lays out records inside records; deeper
// ones are left to the walker.
const maxInlineDepth = 8

// skip lays out skipping a value of type o, depth records deep: a
// fixed-size value in one step, a record field by field while the layout
// budget lasts.
func (l *layout) skip(p *program, o *op, depth int) {
	switch {
	case o.size >= 0:
		p.emit(instr{code: skipFixed, n: o.size})
	case o.kind == opInt:
		p.emit(instr{code: skipVarint, n: 1}) // 1: it must fit 32 bits
	case o.kind == opLong:
		p.emit(instr{code: skipVarint})
	case o.kind == opString || o.kind == opBytes:
		p.emit(instr{code: skipBytes})
	case o.kind == opBoolean:
		p.emit(instr{code: skipBoolean})
	case o.kind == opRecord && depth < maxInlineDepth && l.left >= len(o.fields):
		l.left -= len(o.fields)
		for _, f := range o.fields {
			l.skip(p, f, depth+1)
		}
	default:
		p.emit(instr{code: skipOther, op: o})
	}
}

// emit appends in, merging it into a fixed-size skip before it.
func (p *program) emit(in instr) {
	if n := len(*p); n > 0 && in.code == skipFixed && (*p)[n-1].code == skipFixed {
		(*p)[n-1].n += in.n
		return
	}
	*p = append(*p, in)
}

// run reads a value by the program.
func (r *bodyReader) run(p program) error {
	for i := range p {
		in := &p[i]
		switch in.code {
		case skipFixed:
			if len(r.buf)-r.pos < in.n {
				return errUnreadable
			}
			r.pos += in.n
		case skipVarint:
			if r.pos < len(r.buf) && r.buf[r.pos] < 0x80 { // one byte: most ints
				r.pos++
				continue
			}
			if _, err := r.integer(in.n == 1); err != nil {
				return err
			}
		case skipBytes:
			if _, err := r.bytes(); err != nil {
				return err
			}
		case skipBoolean:
			if _, err := r.boolean(); err != nil {
				return err
			}
		case skipOther:
			if err := r.skip(in.op); err != nil {
				return err
			}
		case walkOther:
			if err := r.walk(in.op, in.w); err != nil {
				return err
			}
		case readDouble:
			if len(r.buf)-r.pos < 8 {
				return errUnreadable
			}
			r.vals[in.n] = Value{Kind: Float, Float: math.Float64frombits(binary.LittleEndian.Uint64(r.buf[r.pos:]))}
			r.pos += 8
		case readScalar:
			v, err := r.scalar(in.op)
			if err != nil {
				return err
			}
			r.vals[in.n] = v
		case chooseArm:
			i, err := r.varint()
			if err != nil || i < 0 || i >= int64(len(in.arms)) {
				return errUnreadable
			}
			if err := r.run(in.arms[i]); err != nil {
				return err
			}
		case resetColumns:
			r.reset(in.w)
		}
	}
	return nil
}
