package trainer

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/streamscore/streamscore/internal/model"
)

// ErrBadLabel is a row whose label is missing or not of a usable type.
var ErrBadLabel = errors.New("bad label")

// classOf reads a classifier's label as a class name: strings as they are,
// booleans as "false"/"true", integral numbers in decimal. A nullable
// field's union arrives as a one-entry map, as goavro decodes it.
func classOf(rec map[string]any, field string) (string, error) {
	v, present := rec[field]
	if !present {
		return "", fmt.Errorf("%w: field %q is absent", ErrBadLabel, field)
	}
	return className(v, field)
}

func className(v any, field string) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", fmt.Errorf("%w: field %q is null", ErrBadLabel, field)
	case string:
		if x == "" {
			return "", fmt.Errorf("%w: field %q is empty", ErrBadLabel, field)
		}
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int:
		return strconv.Itoa(x), nil
	case float32:
		return className(float64(x), field)
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) {
			return "", fmt.Errorf("%w: field %q is %v; a class label must be a whole number, a string or a boolean", ErrBadLabel, field, x)
		}
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case map[string]any:
		if len(x) == 1 {
			for _, inner := range x {
				return className(inner, field)
			}
		}
		return "", fmt.Errorf("%w: field %q is a map", ErrBadLabel, field)
	default:
		return "", fmt.Errorf("%w: field %q is a %T", ErrBadLabel, field, v)
	}
}

// valueOf reads a regressor's label through the same column mapping as a
// feature, so a label is read exactly as a number would be scored.
func valueOf(rec map[string]any, field string) (float64, error) {
	col := model.Input{Name: "label", Fields: []model.Feature{{Field: field}}}
	var buf [1]float32
	row, err := col.AppendNumbers(buf[:0], rec, false)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrBadLabel, err)
	}
	// AppendNumbers narrows to float32, as features are; the label keeps
	// double precision where the record has it.
	if f, ok := rec[field].(float64); ok {
		return f, nil
	}
	return float64(row[0]), nil
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
