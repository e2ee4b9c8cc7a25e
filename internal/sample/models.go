package sample

import (
	"context"
	"fmt"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/train"
)

// MainsVolts is what a model reads for battery_volts on mains-powered
// devices, whose readings carry null there.
const MainsVolts = 3.3

// SensorSpec is the feature mapping of the sensor anomaly model.
func SensorSpec(name, version string) model.Spec {
	cols := make([]model.Feature, len(SensorFeatures))
	for i, f := range SensorFeatures {
		cols[i] = model.Feature{Field: f}
	}
	volts := MainsVolts
	cols[len(cols)-1].Default = &volts // battery_volts is nullable
	return model.Spec{
		Name:    name,
		Version: version,
		Task:    model.Classification,
		Labels:  []string{"normal", "anomaly"},
		Inputs:  []model.Input{{Name: train.InputFeatures, Type: model.FloatInput, Fields: cols}},
		Outputs: model.Outputs{Scores: train.OutputProbabilities},
	}
}

// SensorData generates rows labelled readings and maps them to features
// through the spec, exactly as the scorer will.
func SensorData(spec model.Spec, seed uint64, rows int) (*train.Dataset, error) {
	gen := NewSensors(seed, 100, 0.05)
	in := spec.Inputs[0]
	reader, err := in.Reader()
	if err != nil {
		return nil, err
	}
	features := make([]float32, 0, rows*in.Width())
	labels := make([]float64, rows)
	for i := range rows {
		rec, anomaly := gen.Next()
		if features, err = reader.AppendNumbers(features, rec, spec.AllowNonFinite); err != nil {
			return nil, fmt.Errorf("sample reading %d: %w", i, err)
		}
		if anomaly {
			labels[i] = 1
		}
	}
	return train.NewDataset(features, in.Width(), labels)
}

// SensorModel trains the demo's sensor anomaly model, a gradient-boosted
// tree ensemble, on generated readings and returns it as ONNX bytes with its
// spec in the metadata.
func SensorModel(ctx context.Context, spec model.Spec, cfg train.Config, rows int) ([]byte, error) {
	data, err := SensorData(spec, 1, rows)
	if err != nil {
		return nil, err
	}
	ens, err := train.Fit(ctx, cfg, data)
	if err != nil {
		return nil, fmt.Errorf("train sensor model: %w", err)
	}
	meta, err := spec.Marshal()
	if err != nil {
		return nil, err
	}
	m, err := ens.ONNX(map[string]string{model.SpecMetadataKey: meta})
	if err != nil {
		return nil, err
	}
	return m.Marshal()
}

// TextSpec is the feature mapping of the spam classifier: the message text,
// whole, into the model's string input.
func TextSpec(name, version string) model.Spec {
	return model.Spec{
		Name:    name,
		Version: version,
		Task:    model.Classification,
		Labels:  []string{"ham", "spam"},
		Inputs:  []model.Input{{Name: train.InputText, Type: model.StringInput, Fields: []model.Feature{{Field: "text"}}}},
		Outputs: model.Outputs{Scores: train.OutputProbabilities},
	}
}

// TextModel trains the demo's spam classifier (TF-IDF over word n-grams and
// logistic regression) on generated messages and returns it as ONNX bytes
// with its spec in the metadata. The model tokenizes inside the graph, so
// the scorer feeds it the raw text.
func TextModel(ctx context.Context, spec model.Spec, rows int) ([]byte, error) {
	gen := NewTexts(1, 0.3)
	texts := make([]string, rows)
	labels := make([]float64, rows)
	for i := range rows {
		rec, spam := gen.Next()
		texts[i] = rec["text"].(string)
		if spam {
			labels[i] = 1
		}
	}
	m, err := train.FitText(ctx, train.DefaultTextConfig(), texts, labels)
	if err != nil {
		return nil, fmt.Errorf("train text model: %w", err)
	}
	meta, err := spec.Marshal()
	if err != nil {
		return nil, err
	}
	om, err := m.ONNX(map[string]string{model.SpecMetadataKey: meta})
	if err != nil {
		return nil, err
	}
	return om.Marshal()
}
