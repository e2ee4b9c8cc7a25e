package train

import (
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/streamscore/streamscore/internal/onnx"
)

// newORTSession loads an ONNX model into ONNX Runtime on one thread.
func newORTSession(t testing.TB, model *onnx.Model, inputs, outputs []string) *ort.DynamicAdvancedSession {
	t.Helper()
	b, err := model.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(1); err != nil {
		t.Fatal(err)
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		t.Fatal(err)
	}
	session, err := ort.NewDynamicAdvancedSessionWithONNXData(b, inputs, outputs, opts)
	if err != nil {
		t.Fatalf("ONNX Runtime session: %v", err)
	}
	t.Cleanup(func() { session.Destroy() })
	return session
}

// newStringTensor returns a string tensor of the given shape holding texts.
func newStringTensor(t testing.TB, texts []string, dims ...int64) *ort.StringTensor {
	t.Helper()
	tensor, err := ort.NewStringTensor(ort.NewShape(dims...))
	if err != nil {
		t.Fatal(err)
	}
	if err := tensor.SetContents(texts); err != nil {
		tensor.Destroy()
		t.Fatal(err)
	}
	return tensor
}

// textORTModel runs an exported text classifier in ONNX Runtime.
type textORTModel struct {
	session *ort.DynamicAdvancedSession
}

func newTextORTModel(t testing.TB, m *TextModel) *textORTModel {
	t.Helper()
	model, err := m.ONNX(nil)
	if err != nil {
		t.Fatalf("ONNX: %v", err)
	}
	return &textORTModel{newORTSession(t, model, []string{InputText}, []string{OutputLabel, OutputProbabilities})}
}

// predict scores texts as one batch and returns the probability of class 1
// and the label of each text.
func (m *textORTModel) predict(t testing.TB, texts []string) ([]float32, []int64) {
	t.Helper()
	proba, labels, err := m.tryPredict(t, texts)
	if err != nil {
		t.Fatalf("ONNX Runtime: %v", err)
	}
	return proba, labels
}

// tryPredict is predict that returns ONNX Runtime's error.
func (m *textORTModel) tryPredict(t testing.TB, texts []string) ([]float32, []int64, error) {
	t.Helper()
	input := newStringTensor(t, texts, int64(len(texts)), 1)
	defer input.Destroy()
	outputs := []ort.Value{nil, nil} // ONNX Runtime allocates them
	if err := m.session.Run([]ort.Value{input}, outputs); err != nil {
		return nil, nil, err
	}
	defer outputs[0].Destroy()
	defer outputs[1].Destroy()
	labels := outputs[0].(*ort.Tensor[int64]).GetData()
	proba := outputs[1].(*ort.Tensor[float32]).GetData()
	if len(labels) != len(texts) || len(proba) != 2*len(texts) {
		t.Fatalf("ONNX Runtime returned %d labels and %d probabilities for %d texts", len(labels), len(proba), len(texts))
	}
	p1 := make([]float32, len(texts))
	for i := range p1 {
		if sum := proba[2*i] + proba[2*i+1]; sum < 1-1e-6 || sum > 1+1e-6 {
			t.Fatalf("row %d: probabilities %v and %v sum to %v", i, proba[2*i], proba[2*i+1], sum)
		}
		p1[i] = proba[2*i+1]
	}
	return p1, append([]int64(nil), labels...), nil
}
