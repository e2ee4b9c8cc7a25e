package model

import (
	"errors"
	"fmt"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/streamscore/streamscore/internal/avropath"
)

// ErrBatchFull is returned by Add when the batch holds MaxBatch rows.
var ErrBatchFull = errors.New("batch is full")

// Result is one row's prediction.
type Result struct {
	// Label is the predicted class of a classifier.
	Label string
	// Value is a regressor's prediction; for a binary classifier, the score
	// of its positive (last) class.
	Value    float64
	HasValue bool
	// Scores holds one score per Spec label, in label order; nil when the
	// model only outputs labels. It aliases the Batch and is valid until the
	// batch's next Run.
	Scores []float32
	// Margin holds the raw scores the Scores come from, when the Spec
	// declares a margin output: one value, the logit of the positive (last)
	// label, or one per label. It aliases the Batch like Scores.
	Margin []float32
}

// Batch accumulates feature rows for one Run. Its buffers and the ONNX
// Runtime tensors that wrap them are allocated once and reused, so steady
// state scoring allocates nothing per row. A Batch belongs to the Model that
// made it and to one goroutine.
type Batch struct {
	model *Model
	rows  int

	numbers [][]float32 // per input; row-major [rows, width]
	// nulls, beside numbers, say which columns were null or absent and
	// took their default or the null code: drift monitoring reports null
	// rates exactly, where a default may equal a real value.
	nulls [][]bool
	texts [][]string // per input; one string per row

	// Tensors are shaped per row count, so they are cached by row count:
	// at most MaxBatch sets, each a thin header over the shared buffers.
	inputTensors map[int][]ort.Value
	scores       []float32
	outputs      map[int]*ort.Tensor[float32]
	results      []Result

	margins       []float32 // row-major [rows, margin width]
	marginOutputs map[int]*ort.Tensor[float32]

	// AddBody's scratch: a record's projected values, and the numbers of
	// its whole arrays; and the projection of the last schema it met,
	// which is most often the next one's.
	values       []avropath.Value
	arrayNumbers []float64
	tree         *avropath.Schema
	projection   *avropath.Projection
}

// NewBatch returns an empty batch for this model.
func (m *Model) NewBatch() *Batch {
	b := &Batch{
		model:        m,
		numbers:      make([][]float32, len(m.inputs)),
		nulls:        make([][]bool, len(m.inputs)),
		texts:        make([][]string, len(m.inputs)),
		inputTensors: map[int][]ort.Value{},
		outputs:      map[int]*ort.Tensor[float32]{},
		results:      make([]Result, m.maxBatch),

		margins:       make([]float32, m.maxBatch*m.margin.width),
		marginOutputs: map[int]*ort.Tensor[float32]{},
	}
	for i, in := range m.inputs {
		if in.isText() {
			b.texts[i] = make([]string, 0, m.maxBatch)
		} else {
			b.numbers[i] = make([]float32, 0, m.maxBatch*in.width)
			b.nulls[i] = make([]bool, 0, m.maxBatch*in.width)
		}
	}
	if m.output.kind != readLabel {
		b.scores = make([]float32, m.maxBatch*max(m.output.classes, 1))
	}
	return b
}

// Len is the number of rows added since the last Reset.
func (b *Batch) Len() int { return b.rows }

// Full reports whether another Add would fail with ErrBatchFull.
func (b *Batch) Full() bool { return b.rows >= b.model.maxBatch }

// Reset empties the batch for reuse.
func (b *Batch) Reset() {
	b.rows = 0
	for i := range b.numbers {
		if b.numbers[i] != nil {
			b.numbers[i] = b.numbers[i][:0]
			b.nulls[i] = b.nulls[i][:0]
		}
		if b.texts[i] != nil {
			clear(b.texts[i])
			b.texts[i] = b.texts[i][:0]
		}
	}
}

// Add maps one decoded Avro record (goavro's native form) to a row. A record
// that cannot be mapped is rejected with a classed error (ErrMissingFeature,
// ErrWrongType, ErrNonFinite, ErrOversize, ErrUnknownCategory,
// ErrShortArray) and leaves the batch unchanged.
func (b *Batch) Add(record map[string]any) error {
	if b.Full() {
		return ErrBatchFull
	}
	spec := &b.model.spec
	for i := range b.model.inputs {
		in := &b.model.inputs[i]
		if in.isText() {
			s, err := in.reader.Text(record, spec.MaxText())
			if err != nil {
				b.truncate(i)
				return err
			}
			b.texts[i] = append(b.texts[i], s)
			continue
		}
		row, nulls, err := in.reader.AppendNumbersNulls(b.numbers[i], b.nulls[i], record, spec.AllowNonFinite)
		if err != nil {
			b.truncate(i)
			return err
		}
		b.numbers[i], b.nulls[i] = row, nulls
	}
	b.rows++
	return nil
}

// RemoveLast takes back the row the last successful Add put in, for a
// record that turned out unscorable for a reason found after its features.
func (b *Batch) RemoveLast() {
	if b.rows == 0 {
		return
	}
	b.rows--
	b.truncate(len(b.model.inputs))
}

// DropPartial cuts every input back to Len rows. Add never leaves a
// partial row behind when it returns; a caller that recovered from a panic
// during Add calls it to drop whatever the panic left half written.
func (b *Batch) DropPartial() { b.truncate(len(b.model.inputs)) }

// truncate cuts the inputs before the failing one back to b.rows rows,
// dropping the partial row they hold.
func (b *Batch) truncate(failed int) {
	for i := 0; i < failed; i++ {
		if b.texts[i] != nil {
			b.texts[i] = b.texts[i][:b.rows]
		} else {
			b.numbers[i] = b.numbers[i][:b.rows*b.model.inputs[i].width]
			b.nulls[i] = b.nulls[i][:b.rows*b.model.inputs[i].width]
		}
	}
}

// Close frees the batch's tensors.
func (b *Batch) Close() {
	for _, values := range b.inputTensors {
		for _, v := range values {
			v.Destroy()
		}
	}
	for _, t := range b.outputs {
		t.Destroy()
	}
	for _, t := range b.marginOutputs {
		t.Destroy()
	}
	b.inputTensors, b.outputs = map[int][]ort.Value{}, map[int]*ort.Tensor[float32]{}
	b.marginOutputs = map[int]*ort.Tensor[float32]{}
}

// Run scores the batch. The results alias the batch: they are valid until
// the next Run on it.
func (m *Model) Run(b *Batch) ([]Result, error) {
	if b.model != m {
		return nil, errors.New("batch belongs to another model")
	}
	if b.rows == 0 {
		return nil, nil
	}
	inputs, err := b.inputValues()
	if err != nil {
		return nil, err
	}
	outputs := []ort.Value{nil}
	if m.output.kind != readLabel {
		out, err := b.outputTensor()
		if err != nil {
			return nil, err
		}
		outputs[0] = out
	}
	if m.margin.name != "" {
		margin, err := b.marginTensor()
		if err != nil {
			return nil, err
		}
		outputs = append(outputs, margin)
	}
	if err := m.session.Run(inputs, outputs); err != nil {
		return nil, fmt.Errorf("run model %s: %w", m.spec.Name, err)
	}
	results := b.results[:b.rows]
	switch m.output.kind {
	case readScores:
		m.readScores(b.scores[:b.rows*m.output.classes], results)
		if m.margin.name != "" {
			m.readMargins(b.margins[:b.rows*m.margin.width], results)
		}
	case readValue:
		for i := range results {
			results[i] = Result{Value: float64(b.scores[i]), HasValue: true}
		}
	case readLabel:
		defer outputs[0].Destroy()
		if err := m.readLabels(outputs[0], results); err != nil {
			return nil, err
		}
	}
	return results, nil
}

func (m *Model) readScores(scores []float32, results []Result) {
	classes := m.output.classes
	for i := range results {
		row := scores[i*classes : (i+1)*classes : (i+1)*classes]
		best := 0
		for c := 1; c < classes; c++ {
			if row[c] > row[best] {
				best = c
			}
		}
		results[i] = Result{Label: m.spec.Labels[best], Scores: row}
		if classes == 2 {
			results[i].Value, results[i].HasValue = float64(row[1]), true
		}
	}
}

func (m *Model) readLabels(v ort.Value, results []Result) error {
	switch t := v.(type) {
	case *ort.Tensor[int64]:
		for i, class := range t.GetData()[:len(results)] {
			results[i] = Result{Label: m.labelName(class)}
		}
	case *ort.StringTensor:
		labels, err := t.GetContents()
		if err != nil {
			return fmt.Errorf("read labels: %w", err)
		}
		for i := range results {
			results[i] = Result{Label: labels[i]}
		}
	default:
		return fmt.Errorf("label output is %T", v)
	}
	return nil
}

func (m *Model) labelName(class int64) string {
	if class >= 0 && int(class) < len(m.spec.Labels) {
		return m.spec.Labels[class]
	}
	return fmt.Sprint(class)
}

// inputValues returns the input tensors for the current row count, creating
// them over the batch buffers the first time that count is seen.
func (b *Batch) inputValues() ([]ort.Value, error) {
	if values, ok := b.inputTensors[b.rows]; ok {
		return b.fillText(values)
	}
	values := make([]ort.Value, len(b.model.inputs))
	for i, in := range b.model.inputs {
		var err error
		if in.isText() {
			shape := ort.NewShape(int64(b.rows))
			if in.rank == 2 {
				shape = ort.NewShape(int64(b.rows), 1)
			}
			values[i], err = ort.NewStringTensor(shape)
		} else {
			buf := b.numbers[i][: b.rows*in.width : cap(b.numbers[i])]
			values[i], err = ort.NewTensor(ort.NewShape(int64(b.rows), int64(in.width)), buf)
		}
		if err != nil {
			return nil, fmt.Errorf("input tensor %q: %w", in.Name, err)
		}
	}
	b.inputTensors[b.rows] = values
	return b.fillText(values)
}

// fillText copies the batch's strings into the string tensors; float tensors
// already share the batch's buffers.
func (b *Batch) fillText(values []ort.Value) ([]ort.Value, error) {
	for i, in := range b.model.inputs {
		if !in.isText() {
			continue
		}
		if err := values[i].(*ort.StringTensor).SetContents(b.texts[i]); err != nil {
			return nil, fmt.Errorf("input tensor %q: %w", in.Name, err)
		}
	}
	return values, nil
}

// outputTensor returns the float output tensor for the current row count.
func (b *Batch) outputTensor() (*ort.Tensor[float32], error) {
	if t, ok := b.outputs[b.rows]; ok {
		return t, nil
	}
	out := b.model.output
	width := max(out.classes, 1)
	shape := ort.NewShape(int64(b.rows))
	if out.rank == 2 {
		shape = ort.NewShape(int64(b.rows), int64(width))
	}
	t, err := ort.NewTensor(shape, b.scores[:b.rows*width])
	if err != nil {
		return nil, fmt.Errorf("output tensor %q: %w", out.name, err)
	}
	b.outputs[b.rows] = t
	return t, nil
}
