package avropath

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Error classes.
var (
	// ErrSyntax is a path that does not parse.
	ErrSyntax = errors.New("bad path syntax")
	// ErrNoPath is a path a schema does not have, or that reaches a type
	// it cannot step through (Schema.Resolve).
	ErrNoPath = errors.New("path not in schema")
	// ErrShape is a record whose value on the path cannot take the next
	// step: a string where the path expects a record, a map where it
	// expects an array (Path.Read, as a *ShapeError).
	ErrShape = errors.New("record does not fit the path")
	// ErrSchema is a schema ParseSchema cannot read.
	ErrSchema = errors.New("unsupported schema")
)

// Bounds on a path, which arrives from specs and REST bodies: Put makes an
// array as long as an index (a smoke record is built so), and Put and
// Read take a step per step, so an unbounded path is an unbounded
// allocation or walk. No record a model reads nests deeper or needs more.
const (
	// MaxIndex is the largest array index.
	MaxIndex = 1 << 16
	// MaxPathBytes is the longest path, in bytes as written.
	MaxPathBytes = 1 << 10
	// MaxSteps is the most steps in a path, the field name included.
	MaxSteps = 64
)

type stepKind uint8

const (
	keyStep   stepKind = iota // a record field or a map key
	indexStep                 // an array element
)

type step struct {
	kind  stepKind
	key   string
	index int
}

// Path is a parsed path. It is immutable, so one Path is shared by every
// goroutine that reads records through it. The zero Path has no steps and
// reads nothing.
type Path struct {
	steps []step
	text  string // canonical form
}

// Parse parses a path (see the package documentation). Its errors wrap
// ErrSyntax and name the offset of the first byte that does not fit.
func Parse(s string) (Path, error) {
	bad := func(at int, want string) (Path, error) {
		return Path{}, fmt.Errorf("%w: %q at offset %d: %s", ErrSyntax, s, at, want)
	}
	if s == "" {
		return bad(0, "empty path")
	}
	if len(s) > MaxPathBytes {
		// Not quoted whole: the message would be as long as the path.
		return Path{}, fmt.Errorf("%w: a path is at most %d bytes, and this one (%q...) is %d", ErrSyntax, MaxPathBytes, s[:32], len(s))
	}
	var steps []step
	n := scanName(s, 0)
	if n == 0 {
		return bad(0, "a path starts with a field name ([A-Za-z_][A-Za-z0-9_]*)")
	}
	steps = append(steps, step{kind: keyStep, key: s[:n]})
	i := n
	for i < len(s) {
		if len(steps) == MaxSteps {
			return bad(i, fmt.Sprintf("a path has at most %d steps", MaxSteps))
		}
		switch s[i] {
		case '.':
			end := scanName(s, i+1)
			if end == i+1 {
				return bad(i+1, "want a field name or map key ([A-Za-z_][A-Za-z0-9_]*) after '.'; quote other keys as [\"...\"]")
			}
			steps = append(steps, step{kind: keyStep, key: s[i+1 : end]})
			i = end
		case '[':
			i++
			switch {
			case i < len(s) && s[i] == '"':
				end := scanString(s, i)
				if end < 0 {
					return bad(i, "unterminated quoted key")
				}
				var key string
				if err := json.Unmarshal([]byte(s[i:end]), &key); err != nil {
					return bad(i, "a quoted key is a JSON string: "+err.Error())
				}
				if !utf8.ValidString(s[i:end]) {
					return bad(i, "a quoted key must be valid UTF-8")
				}
				if at := loneSurrogate(s[i:end]); at >= 0 {
					// json.Unmarshal reads it as U+FFFD, a key other
					// than the one written.
					return bad(i+at, "a \\u escape of half a surrogate pair names no character")
				}
				steps = append(steps, step{kind: keyStep, key: key})
				i = end
			case i < len(s) && s[i] >= '0' && s[i] <= '9':
				start := i
				for i < len(s) && s[i] >= '0' && s[i] <= '9' {
					i++
				}
				if s[start] == '0' && i-start > 1 {
					return bad(start, "an index has no leading zero")
				}
				idx, err := strconv.Atoi(s[start:i])
				if err != nil || idx > MaxIndex {
					return bad(start, fmt.Sprintf("an index is at most %d", MaxIndex))
				}
				steps = append(steps, step{kind: indexStep, index: idx})
			default:
				return bad(i, "want an index or a quoted key after '['")
			}
			if i >= len(s) || s[i] != ']' {
				return bad(i, "want ']'")
			}
			i++
		default:
			return bad(i, fmt.Sprintf("unexpected %q; want '.', '[' or the end", s[i]))
		}
	}
	p := Path{steps: steps}
	p.text = format(steps)
	return p, nil
}

// MustParse parses a path known to be valid, such as a constant, and
// panics otherwise. Tests of other packages build their paths with it.
func MustParse(s string) Path {
	p, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return p
}

// scanName returns the end of the Avro name starting at i, or i if none does.
func scanName(s string, i int) int {
	if i >= len(s) || !nameStart(s[i]) {
		return i
	}
	i++
	for i < len(s) && namePart(s[i]) {
		i++
	}
	return i
}

func nameStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func namePart(c byte) bool  { return nameStart(c) || (c >= '0' && c <= '9') }

// isName reports whether s is an Avro name.
func isName(s string) bool { return s != "" && scanName(s, 0) == len(s) }

// scanString returns the offset just past the JSON string starting with the
// quote at i, or -1 if it does not end.
func scanString(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// loneSurrogate returns the offset in q, a valid JSON string, of a \u
// escape of a surrogate that is not half of a pair, or -1.
func loneSurrogate(q string) int {
	hex := func(j int) rune {
		if j+6 > len(q) || q[j] != '\\' || q[j+1] != 'u' {
			return -1
		}
		r, err := strconv.ParseUint(q[j+2:j+6], 16, 16)
		if err != nil {
			return -1
		}
		return rune(r)
	}
	for j := 0; j < len(q); j++ {
		if q[j] != '\\' {
			continue
		}
		r := hex(j)
		switch {
		case r >= 0xd800 && r < 0xdc00:
			if lo := hex(j + 6); lo < 0xdc00 || lo > 0xdfff {
				return j
			}
			j += 11 // the pair
		case r >= 0xdc00 && r <= 0xdfff:
			return j
		default:
			j++ // the escaped byte; a \u's hex digits are no backslash
		}
	}
	return -1
}

// format writes steps in canonical form.
func format(steps []step) string {
	var b strings.Builder
	for i, st := range steps {
		switch {
		case st.kind == indexStep:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(st.index))
			b.WriteByte(']')
		case isName(st.key):
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(st.key)
		default:
			b.WriteByte('[')
			quote(&b, st.key)
			b.WriteByte(']')
		}
	}
	return b.String()
}

// quote writes s as a JSON string, escaping only what JSON requires, so a
// key reads as it was written.
func quote(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// String returns the path in canonical form, which Parse reads back to the
// same path: keys that are Avro names dotted, others quoted in brackets.
func (p Path) String() string { return p.text }

// IsZero reports whether p is the zero Path.
func (p Path) IsZero() bool { return len(p.steps) == 0 }

// Root is the top-level field a path starts at: "location" for
// location.lat. A record without it cannot have the path.
func (p Path) Root() string {
	if len(p.steps) == 0 {
		return ""
	}
	return p.steps[0].key
}

// Flat reports whether p is a single field name, a path as specs wrote
// them before paths existed.
func (p Path) Flat() bool { return len(p.steps) == 1 }

// Pair returns the two keys of a path of two key steps (location.lat,
// attributes.firmware), so that a reader of many such paths can look their
// shared first key up once per record. ok is false for any other path.
func (p Path) Pair() (head, tail string, ok bool) {
	if len(p.steps) != 2 || p.steps[0].kind != keyStep || p.steps[1].kind != keyStep {
		return "", "", false
	}
	return p.steps[0].key, p.steps[1].key, true
}

// prefix is the canonical form of the first n steps, for messages.
func (p Path) prefix(n int) string {
	if n >= len(p.steps) {
		return p.text
	}
	return format(p.steps[:n])
}

// Read returns the value p reaches in a record decoded by goavro, with the
// union wrapper around it removed, and present true; or present false when
// the value, or any value on the way to it, is null or absent. It fails,
// wrapping ErrShape, only when a value on the way cannot take the next
// step: a number where the path expects a record, a map where it expects an
// array. Read allocates nothing unless it fails.
func (p Path) Read(rec map[string]any) (value any, present bool, err error) {
	return p.read(rec, true)
}

// ReadJSON is Read for a plain JSON object, such as a REST row. JSON has no
// union wrappers, so ReadJSON unwraps nothing: temp of {"temp": {"celsius":
// 21.5}} is that object, not 21.5, and location.lat of {"location": {"foo":
// {"lat": 5}}} is absent.
func (p Path) ReadJSON(obj map[string]any) (value any, present bool, err error) {
	return p.read(obj, false)
}

// read walks p through rec; unions says whether one-entry maps may be
// goavro's union wrappers.
func (p Path) read(rec map[string]any, unions bool) (any, bool, error) {
	if len(p.steps) == 1 {
		// A top-level field, as every path was before paths: one lookup.
		v, ok := rec[p.steps[0].key]
		if !ok {
			return nil, false, nil
		}
		return leaf(v, unions)
	}
	var cur any = rec
	for i := range p.steps {
		st := &p.steps[i]
		if st.kind == keyStep {
			m, ok := cur.(map[string]any)
			if !ok {
				if cur == nil {
					return nil, false, nil
				}
				return nil, false, p.shapeError(i, cur, "a record or map")
			}
			v, ok := m[st.key]
			if !ok && (i == 0 || !unions) {
				return nil, false, nil // the record itself is never a union
			}
			if !ok {
				inner, wrapped := branch(m)
				if !wrapped {
					return nil, false, nil // absent
				}
				if inner == nil {
					return nil, false, nil // a null branch
				}
				im, ok := inner.(map[string]any)
				if !ok {
					// A map of one entry that lacks the key, or a
					// union of a type no key step can enter; either way
					// there is no value by that key.
					return nil, false, nil
				}
				if v, ok = im[st.key]; !ok {
					return nil, false, nil
				}
			}
			cur = v
			continue
		}
		a, ok := cur.([]any)
		if !ok {
			if cur == nil {
				return nil, false, nil
			}
			m, isMap := cur.(map[string]any)
			if !isMap || !unions {
				return nil, false, p.shapeError(i, cur, "an array")
			}
			inner, wrapped := branch(m)
			if !wrapped {
				return nil, false, p.shapeError(i, cur, "an array")
			}
			if inner == nil {
				return nil, false, nil
			}
			if a, ok = inner.([]any); !ok {
				return nil, false, p.shapeError(i, inner, "an array")
			}
		}
		if st.index >= len(a) {
			return nil, false, nil
		}
		cur = a[st.index]
	}
	return leaf(cur, unions)
}

// leaf is the value a path reaches, without its union wrapper when unions
// says there may be one.
func leaf(v any, unions bool) (any, bool, error) {
	if m, ok := v.(map[string]any); ok && unions {
		if inner, wrapped := branch(m); wrapped {
			v = inner
		}
	}
	if v == nil {
		return nil, false, nil
	}
	return v, true, nil
}

// Missing says, for a path that Read found null or absent, where it was:
// "null", "absent", "null at location", "absent at attributes.zone",
// "absent: window has 2 items". Messages call it after Read, off the hot
// path.
func (p Path) Missing(rec map[string]any) string { return p.missing(rec, true) }

// MissingJSON is Missing for a plain JSON object, which ReadJSON read.
func (p Path) MissingJSON(obj map[string]any) string { return p.missing(obj, false) }

func (p Path) missing(rec map[string]any, unions bool) string {
	at := func(n int) string {
		if n >= len(p.steps) {
			return ""
		}
		return " at " + p.prefix(n)
	}
	var cur any = rec
	for i := range p.steps {
		st := &p.steps[i]
		if st.kind == keyStep {
			m, ok := cur.(map[string]any)
			if !ok {
				return "null" + at(i)
			}
			v, ok := m[st.key]
			if !ok && (i == 0 || !unions) {
				return "absent" + at(i+1)
			}
			if !ok {
				inner, wrapped := branch(m)
				if wrapped && inner == nil {
					return "null" + at(i)
				}
				im, isMap := inner.(map[string]any)
				if !wrapped || !isMap {
					return "absent" + at(i+1)
				}
				if v, ok = im[st.key]; !ok {
					return "absent" + at(i+1)
				}
			}
			if v == nil {
				return "null" + at(i+1)
			}
			cur = v
			continue
		}
		a, ok := cur.([]any)
		if !ok && unions {
			if m, isMap := cur.(map[string]any); isMap {
				inner, _ := branch(m)
				a, ok = inner.([]any)
			}
		}
		if !ok {
			return "null" + at(i)
		}
		if st.index >= len(a) {
			return fmt.Sprintf("absent%s: %s has %d items", at(i+1), p.prefix(i), len(a))
		}
		if a[st.index] == nil {
			return "null" + at(i+1)
		}
		cur = a[st.index]
	}
	return "null"
}

// ShapeError is a record whose value on a path cannot take the next step.
type ShapeError struct {
	Path Path
	// Reason says which value and what it is: "location is a double, not a
	// record or map".
	Reason string
}

func (e *ShapeError) Error() string { return e.Path.String() + ": " + e.Reason }

// Unwrap makes every ShapeError an ErrShape.
func (e *ShapeError) Unwrap() error { return ErrShape }

// shapeError says that the value at step i, reached by the steps before
// it, is not what the step needs.
func (p Path) shapeError(i int, v any, want string) error {
	what := "the record"
	if i > 0 {
		what = p.prefix(i)
	}
	return &ShapeError{Path: p, Reason: fmt.Sprintf("%s is %s, not %s", what, kind(v), want)}
}

// branch returns the value inside a union wrapper: a one-entry map whose
// key is a type name as goavro writes it. Whether a map is a wrapper or a
// map of one entry cannot be told from the value alone; Resolve refuses the
// paths on which that matters.
func branch(m map[string]any) (any, bool) {
	if len(m) != 1 {
		return nil, false
	}
	for k, v := range m {
		return v, isTypeName(k)
	}
	return nil, false
}

// isTypeName reports whether k can be a union branch's type name as goavro
// keys it: a primitive ("double"), a logical type on one
// ("long.timestamp-millis"), "array", "map", or a named type's full name
// ("io.streamscore.Location"): dotted parts, each a name that may hold '-'.
func isTypeName(k string) bool {
	start := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '.':
			if start {
				return false
			}
			start = true
		case start:
			if !nameStart(c) {
				return false
			}
			start = false
		case !namePart(c) && c != '-':
			return false
		}
	}
	return !start
}

// kind names the Avro type goavro decodes v from, for messages a producer
// reads: "a string or enum", not "string".
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case int32:
		return "an int"
	case int64:
		return "a long"
	case int:
		return "an integer"
	case float32:
		return "a float"
	case float64:
		return "a double"
	case string:
		return "a string or enum"
	case []byte:
		return "bytes or fixed"
	case []any:
		return "an array"
	case map[string]any:
		return "a record or map"
	case time.Time:
		return "a timestamp or date"
	case time.Duration:
		return "a time"
	default:
		return fmt.Sprintf("a value of type %T", v)
	}
}

// Growth is the number of array items Put(rec, v) would add: a caller that
// builds one record from many paths bounds it, as each index may be up to
// MaxIndex. A path that does not fit rec adds nothing.
func (p Path) Growth(rec map[string]any) int {
	n := 0
	var cur any = rec
	for _, st := range p.steps {
		if st.kind == keyStep {
			m, _ := cur.(map[string]any)
			cur = m[st.key] // nil when m is: made from here on
			continue
		}
		a, ok := cur.([]any)
		if !ok && cur != nil {
			return 0
		}
		n += max(st.index+1-len(a), 0)
		cur = nil
		if st.index < len(a) {
			cur = a[st.index]
		}
	}
	return n
}

// Put sets the value at p in rec, making the records or maps and arrays
// on the way (an array grows with nulls, to at most MaxIndex+1 items). It
// fails, wrapping ErrShape and changing nothing, when a value already on
// the way cannot take a step. Tests and smoke runs build records with it.
func (p Path) Put(rec map[string]any, v any) error {
	if len(p.steps) == 0 {
		return &ShapeError{Path: p, Reason: "the zero path reaches nothing"}
	}
	// Check the whole way first, so that a failure leaves rec as it was.
	var cur any = rec
	for i, st := range p.steps {
		if cur == nil {
			break // made from here on
		}
		if st.kind == keyStep {
			m, ok := cur.(map[string]any)
			if !ok {
				return p.shapeError(i, cur, "a record or map")
			}
			cur = m[st.key]
			continue
		}
		a, ok := cur.([]any)
		if !ok {
			return p.shapeError(i, cur, "an array")
		}
		cur = nil
		if st.index < len(a) {
			cur = a[st.index]
		}
	}
	// Then walk it again, making what is missing. A slot is where the
	// value of the steps so far is kept: a map's key or an array's index.
	type slot struct {
		m   map[string]any
		key string
		a   []any
		i   int
	}
	get := func(s slot) any {
		if s.m != nil {
			return s.m[s.key]
		}
		return s.a[s.i]
	}
	set := func(s slot, x any) {
		if s.m != nil {
			s.m[s.key] = x
		} else {
			s.a[s.i] = x
		}
	}
	at := slot{m: rec, key: p.steps[0].key}
	for _, st := range p.steps[1:] {
		if st.kind == keyStep {
			m, _ := get(at).(map[string]any)
			if m == nil {
				m = map[string]any{}
				set(at, m)
			}
			at = slot{m: m, key: st.key}
			continue
		}
		a, _ := get(at).([]any)
		if len(a) <= st.index {
			a = append(a, make([]any, st.index+1-len(a))...)
			set(at, a)
		}
		at = slot{a: a, i: st.index}
	}
	set(at, v)
	return nil
}
