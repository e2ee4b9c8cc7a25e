package trainer

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/streamscore/streamscore/internal/train"
)

// This file holds the JSON forms of the scikit-learn parameter values that
// Go's zero values cannot express: None, 'auto', 'balanced'.

// nullableInt is an integer parameter whose scikit-learn default may be
// None: absent keeps the default, null means no limit (0 in train's
// configs), a number sets it.
type nullableInt struct {
	set   bool // present in the JSON, as a number or null
	value int  // 0 for null
}

func (n *nullableInt) UnmarshalJSON(data []byte) error {
	n.set = true
	if string(bytes.TrimSpace(data)) == "null" {
		n.value = 0
		return nil
	}
	var v int
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("want an integer or null: %w", err)
	}
	if v < 1 {
		return fmt.Errorf("%d must be at least 1, or null for no limit", v)
	}
	n.value = v
	return nil
}

// MarshalJSON writes null for no limit.
func (n nullableInt) MarshalJSON() ([]byte, error) {
	if n.value == 0 {
		return []byte("null"), nil
	}
	return json.Marshal(n.value)
}

// apply sets *dst to the value if one was given.
func (n nullableInt) apply(dst *int) {
	if n.set {
		*dst = n.value
	}
}

// limit returns the parameter of a limit, 0 meaning none.
func limit(v int) nullableInt { return nullableInt{set: true, value: v} }

// earlyStopping is scikit-learn's early_stopping: "auto", true or false.
type earlyStopping struct{ mode train.EarlyStopping }

func (e *earlyStopping) UnmarshalJSON(data []byte) error {
	switch string(bytes.TrimSpace(data)) {
	case `"auto"`:
		e.mode = train.EarlyStoppingAuto
	case "true":
		e.mode = train.EarlyStoppingOn
	case "false":
		e.mode = train.EarlyStoppingOff
	default:
		return fmt.Errorf("early_stopping: %s is not one of \"auto\", true, false", data)
	}
	return nil
}

// MarshalJSON writes the mode as scikit-learn spells it.
func (e earlyStopping) MarshalJSON() ([]byte, error) {
	if e.mode == train.EarlyStoppingAuto {
		return []byte(`"auto"`), nil
	}
	return json.Marshal(e.mode == train.EarlyStoppingOn)
}

// classWeight is scikit-learn's class_weight: null or "balanced". The
// per-class object is refused: its keys would be label values, which are
// only known once the rows are read.
type classWeight struct{ balanced bool }

func (c *classWeight) UnmarshalJSON(data []byte) error {
	switch string(bytes.TrimSpace(data)) {
	case "null":
		c.balanced = false
	case `"balanced"`:
		c.balanced = true
	default:
		return fmt.Errorf("class_weight: %s is not \"balanced\" or null (per-class weights are not supported)", data)
	}
	return nil
}

// MarshalJSON writes "balanced" or null.
func (c classWeight) MarshalJSON() ([]byte, error) {
	if c.balanced {
		return []byte(`"balanced"`), nil
	}
	return []byte("null"), nil
}

func (c *classWeight) config() train.ClassWeight {
	if c == nil {
		return train.ClassWeight{}
	}
	return train.ClassWeight{Balanced: c.balanced}
}

func classWeightOf(cw train.ClassWeight) *classWeight {
	return &classWeight{balanced: cw.Balanced}
}

// renamed merges an old parameter name into its scikit-learn name: the old
// value is taken when only it was given, and giving both is refused.
func renamed[T comparable](newValue *T, oldValue T, newName, oldName string) error {
	var zero T
	if oldValue == zero {
		return nil
	}
	if *newValue != zero {
		return fmt.Errorf("%s: renamed %s; give only %s", oldName, newName, newName)
	}
	*newValue = oldValue
	return nil
}
