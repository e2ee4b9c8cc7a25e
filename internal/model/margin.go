package model

import (
	"fmt"

	ort "github.com/yalue/onnxruntime_go"
)

// boundMargin is a Spec's margin output checked against the graph; name
// is empty when the Spec declares none.
type boundMargin struct {
	name  string
	width int // columns: 1 for a binary classifier's logit, else one per label
}

// bindMargin checks the output Spec.Outputs.Margin names, if any: a float
// tensor [N, 1] for a classifier of two labels (the logit of the last) or
// [N, len(Labels)]. Its width must be fixed in the graph, since it says
// which of the two a binary classifier's margin is.
func bindMargin(spec Spec, graph []ort.InputOutputInfo) (boundMargin, error) {
	name := spec.Outputs.Margin
	if name == "" {
		return boundMargin{}, nil
	}
	for _, info := range graph {
		if info.Name != name {
			continue
		}
		dims := info.Dimensions
		ok := info.OrtValueType == ort.ONNXTypeTensor && info.DataType == ort.TensorElementDataTypeFloat && len(dims) == 2 &&
			(dims[1] == int64(len(spec.Labels)) || (dims[1] == 1 && len(spec.Labels) == 2))
		if !ok {
			return boundMargin{}, fmt.Errorf("%w: margin output %q has type %v shape %v; want float [N, %d], or [N, 1] for two labels",
				ErrBadModel, name, info.DataType, dims, len(spec.Labels))
		}
		return boundMargin{name: name, width: int(dims[1])}, nil
	}
	return boundMargin{}, fmt.Errorf("%w: the spec reads margin output %q, which the graph lacks", ErrBadModel, name)
}

// marginTensor returns the margin output tensor for the current row count,
// over the batch's margin buffer.
func (b *Batch) marginTensor() (*ort.Tensor[float32], error) {
	if t, ok := b.marginOutputs[b.rows]; ok {
		return t, nil
	}
	width := b.model.margin.width
	t, err := ort.NewTensor(ort.NewShape(int64(b.rows), int64(width)), b.margins[:b.rows*width])
	if err != nil {
		return nil, fmt.Errorf("output tensor %q: %w", b.model.margin.name, err)
	}
	b.marginOutputs[b.rows] = t
	return t, nil
}

// readMargins points each result at its row of margins.
func (m *Model) readMargins(margins []float32, results []Result) {
	w := m.margin.width
	for i := range results {
		results[i].Margin = margins[i*w : (i+1)*w : (i+1)*w]
	}
}
