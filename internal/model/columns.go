package model

// A scored row's columns, for those who watch what a model is fed (drift
// monitoring): read after Run, before the batch is Reset.

// Numbers returns row's columns of float input i, and beside them whether
// each column's value was null or absent (and so took the feature's
// default, or the null code). Both alias the batch: they are valid until
// the next Add, Reset or RemoveLast. A string input has none (nil, nil).
func (b *Batch) Numbers(input, row int) (values []float32, nulls []bool) {
	if b.numbers[input] == nil {
		return nil, nil
	}
	w := b.model.inputs[input].width
	from, to := row*w, (row+1)*w
	return b.numbers[input][from:to:to], b.nulls[input][from:to:to]
}

// Text returns row's text of string input i; "" for a float input. A text
// is never null: a record without one is refused.
func (b *Batch) Text(input, row int) string {
	if b.texts[input] == nil {
		return ""
	}
	return b.texts[input][row]
}
