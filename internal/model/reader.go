package model

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/streamscore/streamscore/internal/avropath"
)

// InputReader maps records onto one input's columns. It is built once per
// input (Input.Reader), with the paths parsed and the category tables
// indexed, and only read after: one reader serves every goroutine, and
// maps a record without allocating. The scorer's batches and the trainer's
// data sets both read through it, so a model is trained on exactly the
// features it is served.
type InputReader struct {
	cols  []column
	width int
}

type columnKind uint8

const (
	numberColumn columnKind = iota
	partColumn
	categoryColumn
	arrayColumn
)

// column is one feature, ready to read.
type column struct {
	kind columnKind
	path avropath.Path
	name string // the path as messages name it
	// head and tail are the keys of a two-step path (env.temperature),
	// whose first lookup AppendNumbers shares with the columns beside it.
	head, tail string
	pair       bool

	def    float64
	hasDef bool

	part string

	codes  map[string]float32
	other  float32 // the code of a value not in the table, per Unknown
	null   float32
	refuse bool // Unknown is dead_letter
	ncats  int
	length int
	pad    float64
	hasPad bool
}

// Reader returns the reader of in's records. It fails, wrapping
// ErrBadSpec, on what Validate refuses.
func (in Input) Reader() (*InputReader, error) {
	if in.isText() && len(in.Fields) != 1 {
		return nil, fmt.Errorf("%w: string input %q takes exactly one field, got %d", ErrBadSpec, in.Name, len(in.Fields))
	}
	if len(in.Fields) > MaxWidth {
		return nil, fmt.Errorf("%w: input %q has %d fields, over the %d columns an input takes", ErrBadSpec, in.Name, len(in.Fields), MaxWidth)
	}
	r := &InputReader{cols: make([]column, len(in.Fields))}
	for i, f := range in.Fields {
		codes, err := f.validate(in)
		if err != nil {
			return nil, fmt.Errorf("%w: input %q field %q: %w", ErrBadSpec, in.Name, f.Field, err)
		}
		p, _ := avropath.Parse(f.Field) // validate parsed it
		c := column{path: p, name: p.String()}
		c.head, c.tail, c.pair = p.Pair()
		if f.Default != nil {
			c.def, c.hasDef = *f.Default, true
		}
		switch {
		case f.Categorical():
			c.kind = categoryColumn
			c.ncats = len(f.Categories)
			c.codes = codes
			c.other, c.null = float32(f.CodeOther()), float32(f.CodeNull())
			switch f.Unknown {
			case UnknownCategory:
				c.other = c.codes[f.UnknownCategory]
			case UnknownDeadLetter:
				c.refuse = true
			}
		case f.Length > 0:
			c.kind, c.length = arrayColumn, f.Length
			if f.Pad != nil {
				c.pad, c.hasPad = *f.Pad, true
			}
		case f.Part != "":
			c.kind, c.part = partColumn, f.Part
		}
		r.cols[i] = c
	}
	// Each feature's length is bounded now, so the sum cannot overflow.
	if r.width = in.Width(); r.width > MaxWidth {
		return nil, fmt.Errorf("%w: input %q is %d columns wide, over the %d an input takes", ErrBadSpec, in.Name, r.width, MaxWidth)
	}
	return r, nil
}

// Width is the number of columns a row of this input has.
func (r *InputReader) Width() int { return r.width }

// AppendNumbers appends one row of a float input's columns to dst. On
// error dst is returned unchanged, so a bad record never leaves half a row
// behind. The error, of one of the per-record classes (ErrMissingFeature,
// ErrWrongType, ErrNonFinite, ErrUnknownCategory, ErrShortArray), names the
// path.
func (r *InputReader) AppendNumbers(dst []float32, rec map[string]any, allowNonFinite bool) ([]float32, error) {
	dst, _, err := r.appendRow(dst, nil, false, rec, allowNonFinite)
	return dst, err
}

// AppendNumbersNulls is AppendNumbers that also appends to nulls, one per
// column, whether the column's value was null or absent and so took the
// feature's default, or the null code. On error both are returned
// unchanged.
func (r *InputReader) AppendNumbersNulls(dst []float32, nulls []bool, rec map[string]any, allowNonFinite bool) ([]float32, []bool, error) {
	return r.appendRow(dst, nulls, true, rec, allowNonFinite)
}

// appendRow is AppendNumbers, appending the null flags to nulls when
// track is set.
func (r *InputReader) appendRow(dst []float32, nulls []bool, track bool, rec map[string]any, allowNonFinite bool) ([]float32, []bool, error) {
	start, nullStart := len(dst), len(nulls)
	// The record (or map) at the first key of the last two-step path read:
	// the columns of one nested record (env.temperature, env.humidity)
	// share one lookup of env.
	var parentKey string
	var parent map[string]any
	for i := range r.cols {
		c := &r.cols[i]
		if c.kind == numberColumn {
			// The common cases, a number at the top level (the whole of a
			// spec written before paths) or one level down, are read with
			// plain lookups; anything but a present number (a union
			// wrapper, a null, another type) takes the general way below,
			// which reads the same value wherever these lookups find one.
			var v any
			switch {
			case c.path.Flat():
				v = rec[c.name]
			case c.pair:
				if parent == nil || parentKey != c.head {
					parent, _ = rec[c.head].(map[string]any)
					parentKey = c.head
				}
				v = parent[c.tail] // nil when parent is
			}
			if x, ok := plainNumber(v); ok {
				f := float32(x)
				if allowNonFinite || !(math.IsNaN(float64(f)) || math.IsInf(float64(f), 0)) {
					dst = append(dst, f)
					if track {
						nulls = append(nulls, false)
					}
					continue
				}
			}
		}
		var (
			err  error
			null bool
		)
		switch c.kind {
		case categoryColumn:
			var code float32
			if code, null, err = c.code(rec); err == nil {
				dst = append(dst, code)
			}
		case arrayColumn:
			dst, null, err = c.appendArray(dst, rec, allowNonFinite)
		default:
			var v float64
			if v, null, err = c.number(rec); err == nil {
				f := float32(v)
				if !allowNonFinite && (math.IsNaN(float64(f)) || math.IsInf(float64(f), 0)) {
					err = fmt.Errorf("%w: field %q is %v as float32", ErrNonFinite, c.name, v)
				} else {
					dst = append(dst, f)
				}
			}
		}
		if err != nil {
			return dst[:start], nulls[:nullStart], err
		}
		if track {
			for range max(c.length, 1) {
				nulls = append(nulls, null)
			}
		}
	}
	return dst, nulls, nil
}

// read reads the column's path, classing a record that does not fit it as
// ErrWrongType.
func (c *column) read(rec map[string]any) (any, bool, error) {
	v, present, err := c.path.Read(rec)
	if err != nil {
		return nil, false, c.shapeError(err)
	}
	return v, present, nil
}

func (c *column) shapeError(err error) error {
	var se *avropath.ShapeError
	if errors.As(err, &se) {
		return fmt.Errorf("field %q: %w: %s", c.name, ErrWrongType, se.Reason)
	}
	return fmt.Errorf("field %q: %w: %w", c.name, ErrWrongType, err)
}

// missing is the error of a null or absent value without a stand-in.
func (c *column) missing(rec map[string]any) error {
	return fmt.Errorf("%w: field %q is %s and has no default", ErrMissingFeature, c.name, c.path.Missing(rec))
}

// number reads a number column: a number, a boolean, a timestamp or time,
// or a part of a timestamp; null is true when the value was null or
// absent and the default stands in for it.
func (c *column) number(rec map[string]any) (v float64, null bool, err error) {
	raw, present, err := c.read(rec)
	if err != nil {
		return 0, false, err
	}
	if !present {
		if !c.hasDef {
			return 0, false, c.missing(rec)
		}
		return c.def, true, nil
	}
	if c.kind == partColumn {
		v, err := c.timePart(raw)
		return v, false, err
	}
	v, ok, err := numericValue(raw)
	if err != nil {
		return 0, false, fmt.Errorf("field %q: %w", c.name, err)
	}
	if !ok {
		if !c.hasDef {
			return 0, false, c.missing(rec)
		}
		return c.def, true, nil
	}
	return v, false, nil
}

// timePart reads the part of a timestamp or date, in UTC. A number is
// read as Unix milliseconds, as a timestamp column writes it.
func (c *column) timePart(v any) (float64, error) {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case int64:
		t = time.UnixMilli(x)
	case int32:
		t = time.UnixMilli(int64(x))
	case int:
		t = time.UnixMilli(int64(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, fmt.Errorf("%w: field %q is %v, not a time", ErrWrongType, c.name, x)
		}
		t = time.UnixMilli(int64(x))
	default:
		return 0, fmt.Errorf("field %q: %w: an Avro %s is not a timestamp, so has no %s", c.name, ErrWrongType, avroKind(v), c.part)
	}
	return TimePart(t, c.part) // the part was validated
}

// code reads a categorical column's code; null is true for the null
// code.
func (c *column) code(rec map[string]any) (code float32, null bool, err error) {
	code, err = c.presentCode(rec)
	return code, code == c.null, err
}

// presentCode is code without the null flag.
func (c *column) presentCode(rec map[string]any) (float32, error) {
	raw, present, err := c.read(rec)
	if err != nil {
		return 0, err
	}
	if !present {
		return c.null, nil
	}
	var (
		code  float32
		known bool
	)
	switch x := raw.(type) {
	case string:
		if code, known = c.codes[x]; !known && !utf8.ValidString(x) {
			// No table holds it (Validate), and the trainer reads it as
			// a wrong type (Category): refuse it here the same way.
			return 0, c.notUTF8()
		}
	case int32:
		code, known = c.intCode(int64(x))
	case int64:
		code, known = c.intCode(x)
	case int:
		code, known = c.intCode(int64(x))
	case bool:
		code, known = c.codes[strconv.FormatBool(x)]
	default:
		return 0, fmt.Errorf("field %q: %w: an Avro %s is not a category (a string, an enum, an int, a long or a boolean)", c.name, ErrWrongType, avroKind(raw))
	}
	if known {
		return code, nil
	}
	if c.refuse {
		s, _ := categoryString(raw)
		return 0, fmt.Errorf("%w: field %q is %s, not one of its %d categories", ErrUnknownCategory, c.name, quoteShort(s), c.ncats)
	}
	return c.other, nil
}

// intCode looks an integer up by its decimal form without allocating it.
func (c *column) intCode(x int64) (float32, bool) {
	var buf [20]byte
	code, ok := c.codes[string(strconv.AppendInt(buf[:0], x, 10))]
	return code, ok
}

// appendArray appends a whole array's columns; null is true when the
// array was null or absent and its default stands in for every item.
func (c *column) appendArray(dst []float32, rec map[string]any, allowNonFinite bool) ([]float32, bool, error) {
	raw, present, err := c.read(rec)
	if err != nil {
		return dst, false, err
	}
	if !present {
		if !c.hasDef {
			return dst, false, c.missing(rec)
		}
		for range c.length {
			dst = append(dst, float32(c.def))
		}
		return dst, true, c.finite(dst[len(dst)-c.length:], allowNonFinite, -1)
	}
	dst, err = c.appendItems(dst, raw, allowNonFinite)
	return dst, false, err
}

// appendItems appends a present array's items, padded.
func (c *column) appendItems(dst []float32, raw any, allowNonFinite bool) ([]float32, error) {
	items, ok := raw.([]any)
	if !ok {
		return dst, fmt.Errorf("field %q: %w: an Avro %s is not an array", c.name, ErrWrongType, avroKind(raw))
	}
	switch {
	case len(items) > c.length:
		return dst, fmt.Errorf("field %q: %w: the array has %d items, over its length %d", c.name, ErrWrongType, len(items), c.length)
	case len(items) < c.length && !c.hasPad:
		return dst, fmt.Errorf("%w: field %q has %d items, short of its length %d, and no pad", ErrShortArray, c.name, len(items), c.length)
	}
	start := len(dst)
	for j, item := range items {
		v, ok, err := numericValue(item)
		if err != nil {
			return dst[:start], fmt.Errorf("field %q item %d: %w", c.name, j, err)
		}
		if !ok {
			return dst[:start], fmt.Errorf("%w: field %q item %d is null", ErrMissingFeature, c.name, j)
		}
		dst = append(dst, float32(v))
	}
	for range c.length - len(items) {
		dst = append(dst, float32(c.pad))
	}
	if err := c.finite(dst[start:], allowNonFinite, len(items)); err != nil {
		return dst[:start], err
	}
	return dst, nil
}

// finite refuses a non-finite column of an array; items is how many came
// from the record (the rest are the pad), or -1 for a default.
func (c *column) finite(cols []float32, allowNonFinite bool, items int) error {
	if allowNonFinite {
		return nil
	}
	for j, f := range cols {
		if !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) {
			continue
		}
		switch {
		case items < 0:
			return fmt.Errorf("%w: field %q is null and its default is %v", ErrNonFinite, c.name, f)
		case j >= items:
			return fmt.Errorf("%w: field %q is padded with %v", ErrNonFinite, c.name, f)
		}
		return fmt.Errorf("%w: field %q item %d is %v as float32", ErrNonFinite, c.name, j, f)
	}
	return nil
}

// Text reads a string input's text. An enum symbol is text too. It
// refuses what a model's string input cannot take, naming the path.
func (r *InputReader) Text(rec map[string]any, maxBytes int) (string, error) {
	c := &r.cols[0]
	raw, present, err := c.read(rec)
	if err != nil {
		return "", err
	}
	if !present {
		return "", fmt.Errorf("%w: field %q is %s", ErrMissingFeature, c.name, c.path.Missing(rec))
	}
	s, ok, err := textValue(raw)
	if err != nil {
		return "", fmt.Errorf("field %q: %w", c.name, err)
	}
	if !ok {
		return "", fmt.Errorf("%w: field %q is null", ErrMissingFeature, c.name)
	}
	if len(s) > maxBytes {
		return "", fmt.Errorf("%w: field %q is %d bytes, over the %d-byte limit", ErrOversize, c.name, len(s), maxBytes)
	}
	// ONNX Runtime takes strings as C strings: invalid UTF-8 fails the
	// whole batch, and a NUL byte silently cuts the text short.
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: field %q is not valid UTF-8", ErrWrongType, c.name)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "", fmt.Errorf("%w: field %q holds a NUL byte, which a model's string input cannot carry", ErrWrongType, c.name)
	}
	return s, nil
}

// Category reads feature i's raw category value: the string a category
// table holds for it (a string or enum symbol as it is, an int or long in
// decimal, a boolean as "true" or "false"), or present false when it is
// null or absent. A value of another type fails with ErrWrongType. The
// trainer learns a feature's categories through it, whether or not the
// feature has a table yet.
func (r *InputReader) Category(i int, rec map[string]any) (value string, present bool, err error) {
	c := &r.cols[i]
	raw, present, err := c.read(rec)
	if err != nil || !present {
		return "", false, err
	}
	s, ok := categoryString(raw)
	if !ok {
		return "", false, fmt.Errorf("field %q: %w: an Avro %s is not a category (a string, an enum, an int, a long or a boolean)", c.name, ErrWrongType, avroKind(raw))
	}
	if !utf8.ValidString(s) {
		return "", false, c.notUTF8()
	}
	return s, true, nil
}

// notUTF8 refuses a category value that is not valid UTF-8. Neither goavro
// nor the serde checks strings, but a spec is JSON, which would carry such
// a value as U+FFFD: another category, or the same one twice. So the
// trainer skips it (as a wrong type) and the scorer dead-letters it alike.
func (c *column) notUTF8() error {
	return fmt.Errorf("%w: field %q is not valid UTF-8", ErrWrongType, c.name)
}

// categoryString is the table form of a category value.
func categoryString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int:
		return strconv.Itoa(x), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// quoteShort quotes a value for a message, cut to a length a log line
// holds.
func quoteShort(s string) string {
	const limit = 64
	if len(s) <= limit {
		return strconv.Quote(s)
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + fmt.Sprintf(" (%d bytes)", len(s))
}
