package train

import (
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/streamscore/streamscore/internal/onnx"
)

// tabularModel is what Ensemble and LinearModel share: a model of rows of
// float32 features, scored in Go and exported to ONNX.
type tabularModel interface {
	ONNX(meta map[string]string) (*onnx.Model, error)
	NumClasses() int
	PredictBatch(rows, dst []float32) error
	PredictProbaBatch(rows, dst []float32) error
}

// ortModel runs an exported model in ONNX Runtime on one thread, with
// output tensors sized for a fixed batch.
type ortModel struct {
	session *ort.DynamicAdvancedSession
	input   *ort.Tensor[float32]
	outputs []ort.Value
}

func newORTModel(t testing.TB, tm tabularModel, numFeatures, batch int) *ortModel {
	t.Helper()
	model, err := tm.ONNX(nil)
	if err != nil {
		t.Fatalf("ONNX: %v", err)
	}
	n, f := int64(batch), int64(numFeatures)
	m := &ortModel{input: newTensor[float32](t, n, f)}
	var names []string
	if k := int64(tm.NumClasses()); k > 0 {
		names = []string{OutputLabel, OutputProbabilities}
		m.outputs = []ort.Value{newTensor[int64](t, n), newTensor[float32](t, n, k)}
	} else {
		names = []string{OutputVariable}
		m.outputs = []ort.Value{newTensor[float32](t, n, 1)}
	}
	t.Cleanup(m.destroy)
	m.session = newORTSession(t, model, []string{InputFeatures}, names)
	return m
}

func newTensor[T ort.TensorData](t testing.TB, dims ...int64) *ort.Tensor[T] {
	t.Helper()
	tensor, err := ort.NewEmptyTensor[T](ort.NewShape(dims...))
	if err != nil {
		t.Fatal(err)
	}
	return tensor
}

// run scores a full batch of rows; the results are in m.outputs.
func (m *ortModel) run(t testing.TB, rows []float32) {
	copy(m.input.GetData(), rows)
	if err := m.session.Run([]ort.Value{m.input}, m.outputs); err != nil {
		t.Fatalf("ONNX Runtime: %v", err)
	}
}

func (m *ortModel) labels() []int64 { return m.outputs[0].(*ort.Tensor[int64]).GetData() }

func (m *ortModel) probabilities() []float32 { return m.outputs[1].(*ort.Tensor[float32]).GetData() }

func (m *ortModel) variable() []float32 { return m.outputs[0].(*ort.Tensor[float32]).GetData() }

// destroy frees the tensors; newORTSession frees the session.
func (m *ortModel) destroy() {
	m.input.Destroy()
	for _, v := range m.outputs {
		v.Destroy()
	}
}
