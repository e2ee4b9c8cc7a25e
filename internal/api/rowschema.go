package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/trainer"
)

// rowSchema is what a model reads from a record: the label, and the
// features or the text, each by its path (location.lat,
// attributes["fw.version"], window[3]), as the trainer and the scorer read
// them. It checks uploaded rows and prediction records, and keeps only the
// fields the model reads.
type rowSchema struct {
	task model.Task
	// label is the label's path, canonical ("" for a served model's
	// records, which need none).
	label     string
	labelPath avropath.Path
	features  []rowFeature
	width     int // the features' columns
	// text is a text model's text; textReader reads it, nil when its path
	// does not parse, which a validated spec's always does.
	text       *rowFeature
	textReader *model.InputReader
	// roots are the top-level fields read: a field read as itself is
	// decoded as a scalar, one a path goes into is decoded whole.
	roots map[string]fieldUse
}

// fieldUse is how the decoder keeps a top-level field of a record.
type fieldUse uint8

const (
	skipField   fieldUse = iota // not read: skipped
	scalarField                 // read as itself: a number, string, boolean or null
	wholeField                  // a path goes into it: decoded whole
)

// rowFeature is one feature: its path, how it becomes columns and which
// columns of a row it takes.
type rowFeature struct {
	path avropath.Path
	name string // canonical path
	kind trainer.FeatureKind
	def  *float64
	// length and pad are an array's; parts a timestamp's.
	length int
	pad    *float64
	parts  []string
	col    int
	width  int
	// cat is a categorical feature's place among them (its dictionary in
	// a block).
	cat int
}

// newRowSchema is the schema of training rows under opts, as resolved
// against the subject's schema if the model names one: categorical are the
// features opts.Categorical lists.
func newRowSchema(opts trainer.Options) rowSchema {
	s := rowSchema{task: opts.Task, roots: map[string]fieldUse{}}
	if p, err := avropath.Parse(opts.Label); err == nil {
		s.label, s.labelPath = p.String(), p
		s.use(p)
	}
	if opts.Family == trainer.Text {
		s.setText(opts.Spec("", nil).Inputs[0])
		return s
	}
	for _, f := range opts.FeatureReads() {
		s.add(rowFeature{path: f.Path, kind: f.Kind, def: f.Default, length: f.Array.Length, pad: f.Array.Pad, parts: f.Parts})
	}
	return s
}

// specSchema is the schema of the records a loaded model scores: its
// features, the consecutive parts of one timestamp read as one.
func specSchema(spec model.Spec) rowSchema {
	s := rowSchema{task: spec.Task, roots: map[string]fieldUse{}}
	for _, in := range spec.Inputs {
		if in.Type == model.StringInput {
			s.setText(in)
			continue
		}
		for _, f := range in.Fields {
			p, err := avropath.Parse(f.Field)
			if err != nil {
				continue // Load refuses such a spec
			}
			if f.Part != "" {
				if n := len(s.features); n > 0 && s.features[n-1].kind == trainer.PartsFeature && s.features[n-1].name == p.String() {
					s.features[n-1].parts = append(s.features[n-1].parts, f.Part)
					s.features[n-1].width++
					s.width++
					continue
				}
			}
			rf := rowFeature{path: p, def: f.Default}
			switch {
			case f.Categorical():
				rf.kind = trainer.CategoryFeature
			case f.Length > 0:
				rf.kind, rf.length, rf.pad = trainer.ArrayFeature, f.Length, f.Pad
			case f.Part != "":
				rf.kind, rf.parts = trainer.PartsFeature, []string{f.Part}
			}
			s.add(rf)
		}
	}
	return s
}

// add appends a feature, placing its columns after the others'.
func (s *rowSchema) add(f rowFeature) {
	f.name, f.col, f.width = f.path.String(), s.width, 1
	switch f.kind {
	case trainer.ArrayFeature:
		f.width = f.length
	case trainer.PartsFeature:
		f.width = len(f.parts)
	case trainer.CategoryFeature:
		f.cat = s.categorical()
	}
	s.width += f.width
	s.features = append(s.features, f)
	s.use(f.path)
	if f.kind == trainer.ArrayFeature {
		s.roots[f.path.Root()] = wholeField // an array is decoded whole
	}
}

func (s *rowSchema) setText(in model.Input) {
	p, err := avropath.Parse(in.Fields[0].Field)
	if err != nil {
		return
	}
	s.text = &rowFeature{path: p, name: p.String()}
	s.textReader, _ = in.Reader()
	s.use(p)
}

// use records the top-level field a path starts at.
func (s *rowSchema) use(p avropath.Path) {
	if p.Flat() {
		s.roots[p.Root()] = max(s.roots[p.Root()], scalarField)
	} else {
		s.roots[p.Root()] = wholeField
	}
}

// reads says how the decoder keeps a top-level field.
func (s rowSchema) reads(field string) fieldUse { return s.roots[field] }

// categorical is the number of categorical features.
func (s rowSchema) categorical() int {
	n := 0
	for _, f := range s.features {
		if f.kind == trainer.CategoryFeature {
			n++
		}
	}
	return n
}

// signature says what the schema reads and how, to tell two apart.
func (s rowSchema) signature() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|", s.task, s.label)
	if s.text != nil {
		fmt.Fprintf(&b, "text %s|", s.text.name)
	}
	for _, f := range s.features {
		fmt.Fprintf(&b, "%s %d %d %v %v|", f.name, f.kind, f.length, f.parts, f.def != nil)
	}
	return b.String()
}

// sameFields reports whether two schemas read the same fields the same way.
func (s rowSchema) sameFields(o rowSchema) bool { return s.signature() == o.signature() }

// fieldError is a record's field that the model cannot read.
type fieldError struct {
	field   string
	problem string
}

func (e *fieldError) at(path string) *Error {
	return badRequest(path+"."+e.field, "%s.%s: %s", path, e.field, e.problem)
}

func nullOrAbsent(present bool) string {
	if present {
		return "null"
	}
	return "absent"
}

// shapeError is a record whose value on the way to a path cannot take the
// next step ("location is a string, not a record or map").
func shapeError(name string, err error) *fieldError {
	var se *avropath.ShapeError
	msg := err.Error()
	if errors.As(err, &se) {
		msg = se.Reason
	}
	// Numbers of a JSON body are kept as json.Number.
	msg = strings.ReplaceAll(msg, "a value of type json.Number", "a number")
	return &fieldError{name, "cannot be read: " + msg}
}

// read reads the feature's value: present false when it is null or absent.
func (f rowFeature) read(rec map[string]any) (any, bool, *fieldError) {
	v, present, err := f.path.Read(rec)
	if err != nil {
		return nil, false, shapeError(f.name, err)
	}
	return v, present, nil
}

// notCategorical is the 400 of a string (or another non-number) for a
// feature read as numbers.
func (f rowFeature) notNumber(v any) *fieldError {
	if _, ok := v.(string); ok {
		return &fieldError{f.name, fmt.Sprintf("is a string, want a number (the feature is read as numbers: list %q in the options' categorical to read it as categories)", f.name)}
	}
	return &fieldError{f.name, fmt.Sprintf("is %s, want a number", jsonKind(v))}
}

// number reads a present value as a number column does: int64, float64
// or a boolean.
func (f rowFeature) number(v any) (any, *fieldError) {
	switch v.(type) {
	case json.Number, bool, int64, float64:
		n, err := numberValue(v)
		if err != nil {
			return nil, &fieldError{f.name, err.Error()}
		}
		return n, nil
	}
	return nil, f.notNumber(v)
}

// category reads a present value as a categorical column does: a string
// as it is, a whole number in decimal, a boolean as "true" or "false".
func (f rowFeature) category(v any) (string, *fieldError) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return strconv.FormatInt(i, 10), nil
		}
		return "", &fieldError{f.name, fmt.Sprintf("is %s, not a category: a category is a string, a whole number or a boolean", x)}
	}
	return "", &fieldError{f.name, fmt.Sprintf("is %s, not a category: a category is a string, a whole number or a boolean", jsonKind(v))}
}

// items reads a present value as an array feature's items, numbers each;
// a longer array than the feature's length is refused, a shorter one is
// returned as it is (the trainer pads it, or skips its row).
func (f rowFeature) items(v any) ([]any, *fieldError) {
	a, ok := v.([]any)
	if !ok {
		return nil, &fieldError{f.name, fmt.Sprintf("is %s, want an array of %d numbers", jsonKind(v), f.length)}
	}
	if len(a) > f.length {
		return nil, &fieldError{f.name, fmt.Sprintf("has %d items, over its length %d", len(a), f.length)}
	}
	out := make([]any, len(a))
	for j, item := range a {
		if item == nil {
			return nil, &fieldError{fmt.Sprintf("%s[%d]", f.name, j), "is null; an array feature's items are numbers"}
		}
		n, ferr := rowFeature{name: fmt.Sprintf("%s[%d]", f.name, j)}.number(item)
		if ferr != nil {
			return nil, ferr
		}
		out[j] = n
	}
	return out, nil
}

// millis reads a present value as a timestamp's Unix milliseconds.
func (f rowFeature) millis(v any) (int64, *fieldError) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, &fieldError{f.name, fmt.Sprintf("is %s, want a timestamp in Unix milliseconds", jsonKind(v))}
	}
	ms, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		return 0, &fieldError{f.name, fmt.Sprintf("is %s, want a timestamp in whole Unix milliseconds", n)}
	}
	return ms, nil
}

// part is a part of a timestamp in UTC, as a time part column reads it.
func part(name string, ms int64) float32 {
	t := time.UnixMilli(ms).UTC()
	if name == trainer.PartHourOfDay {
		return float32(t.Hour())
	}
	return float32((int(t.Weekday()) + 6) % 7) // Monday 0
}

// record checks a record to score (numbers as json.Number) and returns
// what the model reads of it, each feature at its path with numbers as
// int64 or float64, as model.Batch takes them. A record to score needs no
// label, but a null feature without a default, or a null text, cannot be
// scored; a null category is a code of its own.
func (s rowSchema) record(rec map[string]any) (map[string]any, *fieldError) {
	out := make(map[string]any, len(s.roots))
	for _, f := range s.features {
		v, present, ferr := f.read(rec)
		if ferr != nil {
			return nil, ferr
		}
		if !present {
			if f.def == nil && f.kind != trainer.CategoryFeature {
				return nil, &fieldError{f.name, fmt.Sprintf("is %s and has no default", f.path.Missing(rec))}
			}
			continue
		}
		var value any
		switch f.kind {
		case trainer.CategoryFeature:
			value, ferr = f.category(v)
		case trainer.ArrayFeature:
			value, ferr = f.items(v)
		case trainer.PartsFeature:
			value, ferr = f.millis(v)
		default:
			value, ferr = f.number(v)
		}
		if ferr != nil {
			return nil, ferr
		}
		if err := f.path.Put(out, value); err != nil {
			return nil, shapeError(f.name, err)
		}
	}
	if s.text != nil {
		text, present, ferr := s.textValue(rec)
		if ferr != nil {
			return nil, ferr
		}
		if !present {
			return nil, &fieldError{s.text.name, fmt.Sprintf("is %s; want a string", s.text.path.Missing(rec))}
		}
		if err := s.text.path.Put(out, text); err != nil {
			return nil, shapeError(s.text.name, err)
		}
	}
	return out, nil
}

// textValue reads a text model's text: a string the model can take, or
// null or absent (present false).
func (s rowSchema) textValue(rec map[string]any) (string, bool, *fieldError) {
	f := s.text
	v, present, ferr := f.read(rec)
	if ferr != nil {
		return "", false, ferr
	}
	if !present {
		return "", false, nil
	}
	x, ok := v.(string)
	if !ok {
		return "", false, &fieldError{f.name, fmt.Sprintf("is %s, want a string", jsonKind(v))}
	}
	if s.textReader == nil {
		return "", false, &fieldError{f.name, "is not a path a model can read"}
	}
	if _, err := s.textReader.Text(rec, model.DefaultMaxTextBytes); err != nil {
		// model's messages read "class: field "f" problem".
		msg := err.Error()
		if _, problem, ok := strings.Cut(msg, fmt.Sprintf("field %q ", f.name)); ok {
			msg = problem
		}
		return "", false, &fieldError{f.name, msg}
	}
	return x, true, nil
}

// rowColumns are one checked training row as a block keeps it: the
// columns, those missing (null or absent: the trainer reads them as the
// default or skips the row), and each categorical feature's value.
type rowColumns struct {
	values  []float32
	missing []int
	cats    []string // by rowFeature.cat; "" with its column missing
}

// columns checks a training row's features and maps them to columns.
func (s rowSchema) columns(rec map[string]any, out *rowColumns) *fieldError {
	out.values, out.missing = out.values[:0], out.missing[:0]
	out.cats = out.cats[:0]
	for _, f := range s.features {
		v, present, ferr := f.read(rec)
		if ferr != nil {
			return ferr
		}
		if f.kind == trainer.CategoryFeature {
			out.cats = append(out.cats, "")
		}
		if !present {
			for k := range f.width {
				out.values = append(out.values, 0)
				out.missing = append(out.missing, f.col+k)
			}
			continue
		}
		switch f.kind {
		case trainer.CategoryFeature:
			c, ferr := f.category(v)
			if ferr != nil {
				return ferr
			}
			out.cats[f.cat] = c
			out.values = append(out.values, 0) // the block's index, set when kept
		case trainer.ArrayFeature:
			items, ferr := f.items(v)
			if ferr != nil {
				return ferr
			}
			for k := range f.length {
				if k >= len(items) {
					// A short array: the items it lacks are missing, NaN
					// where an absent array's are 0, and the row reads
					// back as the short array it was.
					out.values = append(out.values, float32(math.NaN()))
					out.missing = append(out.missing, f.col+k)
					continue
				}
				out.values = append(out.values, float32(toFloat(items[k])))
			}
		case trainer.PartsFeature:
			ms, ferr := f.millis(v)
			if ferr != nil {
				return ferr
			}
			for _, p := range f.parts {
				out.values = append(out.values, part(p, ms))
			}
		default:
			n, ferr := f.number(v)
			if ferr != nil {
				return ferr
			}
			out.values = append(out.values, float32(toFloat(n)))
		}
	}
	return nil
}

// toFloat is a number value (as numberValue returns it) as a float64.
func toFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	case bool:
		if x {
			return 1
		}
	}
	return 0
}

// write writes a kept row's columns into rec at their paths, as the
// trainer reads a record: numbers as float32, categories as their values,
// a short array as short as it came, a timestamp's parts as a time that
// has them. Missing values are left out (a missing category is null).
func (s rowSchema) write(values []float32, missing func(col int) bool, category func(cat int, index float32) string, rec map[string]any) {
	for _, f := range s.features {
		cols := values[f.col : f.col+f.width]
		switch f.kind {
		case trainer.CategoryFeature:
			if missing(f.col) {
				_ = f.path.Put(rec, nil)
			} else {
				_ = f.path.Put(rec, category(f.cat, cols[0]))
			}
		case trainer.ArrayFeature:
			n := 0
			for n < f.width && !missing(f.col+n) {
				n++
			}
			if n == 0 && !math.IsNaN(float64(cols[0])) {
				continue // absent
			}
			items := make([]any, n)
			for k := range n {
				items[k] = cols[k]
			}
			_ = f.path.Put(rec, items)
		case trainer.PartsFeature:
			if !missing(f.col) {
				_ = f.path.Put(rec, trainer.TimeOfParts(f.parts, cols))
			}
		default:
			if !missing(f.col) {
				_ = f.path.Put(rec, cols[0])
			}
		}
	}
}
