package fit

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/streamscore/streamscore/internal/train"
)

// This file holds the JSON forms of the scikit-learn parameter values that
// Go's zero values cannot express: None, 'auto', 'balanced'.

// nullableInt is an integer parameter whose scikit-learn default may be
// None: null means no limit (0 in train's configs), a number sets it. Its
// range is checked with the parameter's name (params.go).
type nullableInt struct {
	set   bool // present: given, or an effective parameter
	null  bool
	value int
}

func (n *nullableInt) UnmarshalJSON(data []byte) error {
	*n = nullableInt{set: true}
	if string(bytes.TrimSpace(data)) == "null" {
		n.null = true
		return nil
	}
	if err := json.Unmarshal(data, &n.value); err != nil {
		return fmt.Errorf("want an integer or null: %w", err)
	}
	return nil
}

// MarshalJSON writes null for no limit.
func (n nullableInt) MarshalJSON() ([]byte, error) {
	if n.null {
		return []byte("null"), nil
	}
	return json.Marshal(n.value)
}

// limit is the value as train's configs take it: 0 for no limit.
func (n nullableInt) limit() int {
	if n.null {
		return 0
	}
	return n.value
}

// limit returns the parameter of a limit, 0 meaning none.
func limit(v int) nullableInt { return nullableInt{set: true, null: v == 0, value: v} }

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
		return fmt.Errorf("%s is not one of \"auto\", true, false", data)
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
		return fmt.Errorf("%s is not \"balanced\" or null (per-class weights are not supported)", data)
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
