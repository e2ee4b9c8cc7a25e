package fit

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/model"
)

// ErrBadLabel is a row whose label is missing or not of a usable type.
var ErrBadLabel = errors.New("bad label")

// LabelKind is the kind of value a classifier's label is given as, in JSON
// terms: Avro int, long, float and double are numbers, string and enum are
// strings, boolean is a boolean.
type LabelKind uint8

// Label kinds; the zero LabelKind is none (no usable label).
const (
	LabelNumber LabelKind = iota + 1
	LabelString
	LabelBoolean
)

func (k LabelKind) String() string {
	switch k {
	case LabelNumber:
		return "a number"
	case LabelString:
		return "a string"
	case LabelBoolean:
		return "a boolean"
	}
	return "no label"
}

// Plural names the kind for messages about many labels ("numbers").
func (k LabelKind) Plural() string {
	switch k {
	case LabelNumber:
		return "numbers"
	case LabelString:
		return "strings"
	case LabelBoolean:
		return "booleans"
	}
	return "no labels"
}

// LabelError is a label that cannot be read. Problem reads after the
// field's name ("is null"), so the REST API and the trainer each put it
// in their own messages.
type LabelError struct{ Problem string }

func (e *LabelError) Error() string { return ErrBadLabel.Error() + ": " + e.Problem }

// Unwrap makes every LabelError an ErrBadLabel.
func (e *LabelError) Unwrap() error { return ErrBadLabel }

func badLabel(format string, args ...any) error {
	return &LabelError{Problem: fmt.Sprintf(format, args...)}
}

// maxExactClass is 2^53: past it a float64 no longer holds every whole
// number, so a class written as 9007199254740993.0 could not be told from
// its neighbour.
const maxExactClass = 1 << 53

// ClassLabel is the one rule for a classifier's label, applied alike to
// rows sent to the REST API and to records read from Kafka:
//
//   - a string is its own class name, as it is (" 1", "01" and "1" are three
//     classes); an empty string is refused;
//   - a boolean is the class "false" or "true";
//   - a number must be whole, and is written in its shortest decimal form,
//     so 1, 1.0 and 1e0 are all the class "1" (and -0 is "0"); integers
//     are exact to ±2^63, whole numbers written with a fraction or an
//     exponent only to ±2^53, past which they are refused;
//   - null is refused.
//
// The kind it returns is what a model's labels must share: they are all
// numbers, all strings or all booleans; merging 1 with "1", or making true
// a class apart from 1, would each be a silent guess about the data. A nullable Avro field's
// union arrives as a one-entry map, as goavro decodes it.
func ClassLabel(v any) (string, LabelKind, error) {
	switch x := v.(type) {
	case nil:
		return "", 0, badLabel("is null")
	case string:
		if x == "" {
			return "", 0, badLabel("is empty")
		}
		return x, LabelString, nil
	case bool:
		return strconv.FormatBool(x), LabelBoolean, nil
	case int32:
		return strconv.FormatInt(int64(x), 10), LabelNumber, nil
	case int64:
		return strconv.FormatInt(x, 10), LabelNumber, nil
	case int:
		return strconv.Itoa(x), LabelNumber, nil
	case float32:
		return ClassLabel(float64(x))
	case float64:
		switch {
		case math.IsNaN(x) || math.IsInf(x, 0) || x != math.Trunc(x):
			return "", 0, badLabel("is %v; a class label must be a whole number, a string or a boolean", x)
		case math.Abs(x) > maxExactClass:
			return "", 0, badLabel("is %v, past ±2^53 where a number with a fraction or an exponent is no longer exact; write it as an integer or a string", x)
		}
		// Whole and within ±2^53, so int64 holds it exactly; this also
		// turns -0 into "0".
		return strconv.FormatInt(int64(x), 10), LabelNumber, nil
	case map[string]any:
		if len(x) == 1 {
			for _, inner := range x {
				return ClassLabel(inner)
			}
		}
		return "", 0, badLabel("is a map")
	default:
		return "", 0, badLabel("is a %T, not a string, a number or a boolean", v)
	}
}

// labelReader reads a label by its path, parsed once: a label may be
// nested, as a feature may (device.status), and is read the same way.
type labelReader struct {
	name   string
	path   avropath.Path
	number *model.InputReader // a regressor's label, read as a feature column
	err    error              // why the path cannot be read; every record fails with it
}

// newLabelReader returns the reader of the label at field. A path that
// does not parse (options validation refuses it first) makes every record
// a bad label naming it.
func newLabelReader(field string) *labelReader {
	l := &labelReader{name: field}
	p, err := avropath.Parse(field)
	if err == nil {
		l.name, l.path = p.String(), p
		l.number, err = model.Input{Name: "label", Fields: []model.Feature{{Field: field}}}.Reader()
	}
	l.err = err
	return l
}

// raw reads the label's value, without its union wrapper.
func (l *labelReader) raw(rec map[string]any) (any, error) {
	if l.err != nil {
		return nil, fmt.Errorf("field %q: %w", l.name, badLabel("cannot be read: %v", l.err))
	}
	v, present, err := l.path.Read(rec)
	if err != nil {
		var se *avropath.ShapeError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("field %q: %w", l.name, badLabel("cannot be read: %s", se.Reason))
		}
		return nil, fmt.Errorf("field %q: %w", l.name, badLabel("cannot be read: %v", err))
	}
	if !present {
		return nil, fmt.Errorf("field %q: %w", l.name, badLabel("is %s", l.path.Missing(rec)))
	}
	return v, nil
}

// classOf reads a classifier's label as a class name, by ClassLabel.
func classOf(rec map[string]any, l *labelReader) (string, LabelKind, error) {
	v, err := l.raw(rec)
	if err != nil {
		return "", 0, err
	}
	c, kind, err := ClassLabel(v)
	if err != nil {
		return "", 0, fmt.Errorf("field %q: %w", l.name, err)
	}
	return c, kind, nil
}

// targetLabel reads TargetValue's one value.
var targetLabel = newLabelReader("label")

// TargetValue is the one rule for a regressor's label: a number, read as
// a feature column reads it (integers at float32 precision, doubles as
// they are, non-finite refused). A boolean, a string or null is refused.
func TargetValue(v any) (float64, error) {
	return valueOf(map[string]any{"label": v}, targetLabel)
}

// valueOf reads a regressor's label through the same column mapping as a
// feature, so a label is read exactly as a number would be scored.
func valueOf(rec map[string]any, l *labelReader) (float64, error) {
	v, err := l.raw(rec)
	if err != nil {
		return 0, err
	}
	switch v.(type) {
	case bool, string:
		// A feature column reads a boolean as 1/0; a target must not:
		// true is not a quantity to predict.
		return 0, fmt.Errorf("field %q: %w", l.name, badLabel("is %s; a regressor's label must be a number", valueKind(v)))
	}
	var buf [1]float32
	row, err := l.number.AppendNumbers(buf[:0], rec, false)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrBadLabel, err)
	}
	// AppendNumbers narrows to float32, as features are; the label keeps
	// double precision where the record has it.
	if f, ok := v.(float64); ok {
		return f, nil
	}
	return float64(row[0]), nil
}

// valueKind names a label value's type for messages.
func valueKind(v any) string {
	switch v.(type) {
	case bool:
		return "a boolean"
	case string:
		return "a string"
	}
	return fmt.Sprintf("a %T", v)
}

// sortClasses orders class names: numerically when they all are numbers,
// otherwise as strings. Either way "0"/"1", "false"/"true" and "ham"/"spam"
// put the positive class last, where a binary model's score is.
func sortClasses(classes []string) {
	numeric := true
	for _, c := range classes {
		if _, err := strconv.ParseFloat(c, 64); err != nil {
			numeric = false
			break
		}
	}
	if !numeric {
		slices.Sort(classes)
		return
	}
	slices.SortFunc(classes, func(a, b string) int {
		x, _ := strconv.ParseFloat(a, 64)
		y, _ := strconv.ParseFloat(b, 64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
}
