package sample

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/train"
)

// NestedMaxCategories caps each categorical feature of the nested sensor
// model, most frequent values first: the sites past it, rarely seen in
// training, read as "other", as the trainer's max_categories would make
// them.
const NestedMaxCategories = 32

// nestedShape is a nested record the benchmark scores and what its model
// reads: the numeric features by path, then the categorical ones, whose
// category tables the spec learns from generated readings.
type nestedShape struct {
	numeric     func() []model.Feature
	categorical []string
	generator   func(seed uint64, devices int, anomalyRate float64) func() (map[string]any, bool)
}

// features are the shape's features without their category tables.
func (sh nestedShape) features() []model.Feature {
	fs := sh.numeric()
	for _, f := range sh.categorical {
		fs = append(fs, model.Feature{Field: f})
	}
	return fs
}

// richShape is schemas/sensor_reading_nested.avsc's model: the flat
// model's measurements by path (the battery now inside device), where the
// device is, its vibration window as four columns, the hour of the
// reading, and four categories.
var richShape = nestedShape{
	numeric: func() []model.Feature {
		volts, pad := MainsVolts, 0.0
		fs := []model.Feature{}
		for _, f := range SensorFeatures {
			if f == "battery_volts" {
				fs = append(fs, model.Feature{Field: "device.battery_volts", Default: &volts})
				continue
			}
			fs = append(fs, model.Feature{Field: f})
		}
		return append(fs,
			model.Feature{Field: "location.lat"},
			model.Feature{Field: "location.lon"},
			// A device's first readings after a boot carry fewer than four.
			model.Feature{Field: "vibration_window", Length: windowLen, Pad: &pad},
			model.Feature{Field: "ts", Part: model.HourOfDay},
		)
	},
	categorical: []string{"status", "device.model", "site", "attributes.zone"},
	generator: func(seed uint64, devices int, anomalyRate float64) func() (map[string]any, bool) {
		return NewNestedSensors(seed, devices, anomalyRate).Next
	},
}

// groupedShape is schemas/sensor_reading_nested_grouped.avsc's model: the
// flat model's ten columns, in its order, each read through its path
// (the battery through the nullable power record, with the flat model's
// default), then the site and the status.
var groupedShape = nestedShape{
	numeric: func() []model.Feature {
		volts := MainsVolts
		fs := make([]model.Feature, len(SensorFeatures))
		for i, f := range SensorFeatures {
			fs[i] = model.Feature{Field: groupedPaths[f]}
		}
		fs[len(fs)-1].Default = &volts // power is nullable
		return fs
	},
	categorical: []string{"site", "status"},
	generator: func(seed uint64, devices int, anomalyRate float64) func() (map[string]any, bool) {
		return NewGroupedSensors(seed, devices, anomalyRate).Next
	},
}

// NestedSensorSpec is the nested sensor model's feature mapping, its
// category tables learned from rows training readings: most frequent value
// first, ties by value, at most NestedMaxCategories of each.
func NestedSensorSpec(name, version string, rows int) (model.Spec, error) {
	return richShape.spec(name, version, rows)
}

// GroupedSensorSpec is the grouped sensor model's feature mapping, its
// category tables learned as NestedSensorSpec's are.
func GroupedSensorSpec(name, version string, rows int) (model.Spec, error) {
	return groupedShape.spec(name, version, rows)
}

func (sh nestedShape) spec(name, version string, rows int) (model.Spec, error) {
	fs := sh.features()
	paths := make([]avropath.Path, len(sh.categorical))
	counts := make([]map[string]int, len(sh.categorical))
	for i, f := range sh.categorical {
		p, err := avropath.Parse(f)
		if err != nil {
			return model.Spec{}, err
		}
		paths[i], counts[i] = p, map[string]int{}
	}
	next := sh.generator(1, 100, 0.05)
	for range rows {
		rec, _ := next()
		for i, p := range paths {
			v, ok, err := p.Read(rec)
			if err != nil {
				return model.Spec{}, fmt.Errorf("%s: %w", sh.categorical[i], err)
			}
			if ok {
				counts[i][v.(string)]++
			}
		}
	}
	first := len(fs) - len(sh.categorical)
	for i, c := range counts {
		fs[first+i].Categories = mostFrequent(c, NestedMaxCategories)
	}
	return model.Spec{
		Name:    name,
		Version: version,
		Task:    model.Classification,
		Labels:  []string{"normal", "anomaly"},
		Inputs:  []model.Input{{Name: train.InputFeatures, Type: model.FloatInput, Fields: fs}},
		Outputs: model.Outputs{Scores: train.OutputProbabilities},
	}, nil
}

// mostFrequent returns at most limit values of counts, most frequent
// first, ties by value: the trainer's rule (fit's learnTable), which
// sample's model must follow to be the model the trainer would make. It is
// restated here, not called: the trainer's own tests build their rows with
// this package, so sample importing the trainer would be an import cycle.
func mostFrequent(counts map[string]int, limit int) []string {
	vs := make([]string, 0, len(counts))
	for v := range counts {
		vs = append(vs, v)
	}
	slices.SortFunc(vs, func(a, b string) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b))
	})
	return vs[:min(limit, len(vs))]
}

// NestedSensorData generates rows labelled nested readings and maps them to
// columns through the spec, exactly as the scorer will, its categorical
// columns marked with their codes: one per category, then "other" and null.
func NestedSensorData(spec model.Spec, seed uint64, rows int) (*train.Dataset, error) {
	return richShape.data(spec, seed, rows)
}

// GroupedSensorData is NestedSensorData for grouped readings.
func GroupedSensorData(spec model.Spec, seed uint64, rows int) (*train.Dataset, error) {
	return groupedShape.data(spec, seed, rows)
}

func (sh nestedShape) data(spec model.Spec, seed uint64, rows int) (*train.Dataset, error) {
	in := spec.Inputs[0]
	reader, err := in.Reader()
	if err != nil {
		return nil, err
	}
	next := sh.generator(seed, 100, 0.05)
	features := make([]float32, 0, rows*in.Width())
	labels := make([]float64, rows)
	for i := range rows {
		rec, anomaly := next()
		if features, err = reader.AppendNumbers(features, rec, spec.AllowNonFinite); err != nil {
			return nil, fmt.Errorf("sample nested reading %d: %w", i, err)
		}
		if anomaly {
			labels[i] = 1
		}
	}
	data, err := train.NewDataset(features, in.Width(), labels)
	if err != nil {
		return nil, err
	}
	col := 0
	for _, f := range in.Fields {
		if f.Categorical() {
			if err := data.SetCategorical(col, f.Codes()); err != nil {
				return nil, fmt.Errorf("feature %s: %w", f.Field, err)
			}
		}
		col += max(f.Length, 1)
	}
	return data, nil
}

// NestedSensorModel trains the nested sensor anomaly model, a
// gradient-boosted tree ensemble with category splits, on rows generated
// nested readings and returns it as ONNX bytes with its spec in the
// metadata, and the spec.
func NestedSensorModel(ctx context.Context, name, version string, cfg train.Config, rows int) ([]byte, model.Spec, error) {
	return richShape.model(ctx, name, version, cfg, rows)
}

// GroupedSensorModel trains the grouped sensor anomaly model as
// NestedSensorModel trains the nested one.
func GroupedSensorModel(ctx context.Context, name, version string, cfg train.Config, rows int) ([]byte, model.Spec, error) {
	return groupedShape.model(ctx, name, version, cfg, rows)
}

func (sh nestedShape) model(ctx context.Context, name, version string, cfg train.Config, rows int) ([]byte, model.Spec, error) {
	spec, err := sh.spec(name, version, rows)
	if err != nil {
		return nil, model.Spec{}, err
	}
	data, err := sh.data(spec, 1, rows)
	if err != nil {
		return nil, model.Spec{}, err
	}
	ens, err := train.Fit(ctx, cfg, data)
	if err != nil {
		return nil, model.Spec{}, fmt.Errorf("train %s: %w", name, err)
	}
	meta, err := spec.Marshal()
	if err != nil {
		return nil, model.Spec{}, err
	}
	m, err := ens.ONNX(map[string]string{model.SpecMetadataKey: meta})
	if err != nil {
		return nil, model.Spec{}, err
	}
	b, err := m.Marshal()
	return b, spec, err
}
