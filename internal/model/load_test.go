package model_test

import (
	"errors"
	"testing"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/onnx"
)

// castGraph takes "features" [N, 2] of element type from, casts it to
// float and echoes it as "scores" [N, 2].
func castGraph(from onnx.DataType) onnx.Graph {
	return onnx.Graph{
		Inputs:  []onnx.ValueInfo{onnx.TensorInfo("features", from, onnx.DimParam(batchDim), onnx.DimValue(2))},
		Nodes:   []onnx.Node{node("Cast", []string{"features"}, "scores", onnx.Int("to", int64(onnx.TypeFloat)))},
		Outputs: []onnx.ValueInfo{rows("scores", 2)},
	}
}

func TestLoadRefuses(t *testing.T) {
	two := identitySpec("x", "y")
	tests := []struct {
		name      string
		model     func(t *testing.T) []byte
		spec      *model.Spec // Options.Spec
		also      error       // another class the error wraps, if any
		fragments []string    // what the message must name
	}{
		{
			name:      "not ONNX bytes",
			model:     func(*testing.T) []byte { return []byte("this is not a model") },
			fragments: []string{"cannot read the model"},
		},
		{
			name:      "not ONNX bytes with a spec given",
			model:     func(*testing.T) []byte { return []byte("this is not a model") },
			spec:      &two,
			fragments: []string{"cannot read the model"},
		},
		{
			name:      "no spec in metadata or options",
			model:     func(t *testing.T) []byte { return encode(t, identityGraph(2), nil) },
			fragments: []string{`no "streamscore.spec" metadata`},
		},
		{
			name: "metadata spec is not JSON",
			model: func(t *testing.T) []byte {
				return encodeMeta(t, identityGraph(2), map[string]string{model.SpecMetadataKey: "{oops"})
			},
			also:      model.ErrBadSpec,
			fragments: []string{"invalid character"},
		},
		{
			name: "metadata spec has an unknown field",
			model: func(t *testing.T) []byte {
				return encodeMeta(t, identityGraph(2), map[string]string{model.SpecMetadataKey: `{"name": "m", "tsak": "regression"}`})
			},
			also:      model.ErrBadSpec,
			fragments: []string{`unknown field "tsak"`},
		},
		{
			name: "options spec is invalid",
			model: func(t *testing.T) []byte {
				return encode(t, identityGraph(2), nil)
			},
			spec:      &model.Spec{Name: "m", Task: model.Regression},
			also:      model.ErrBadSpec,
			fragments: []string{"outputs.value"},
		},
		{
			name: "spec input missing from the graph",
			model: func(t *testing.T) []byte {
				spec := identitySpec("x", "y")
				spec.Inputs[0].Name = "feature_vector"
				return encode(t, identityGraph(2), &spec)
			},
			fragments: []string{`the spec maps input "feature_vector", which the graph lacks`},
		},
		{
			name: "graph input not mapped",
			model: func(t *testing.T) []byte {
				g := identityGraph(2)
				g.Inputs = append(g.Inputs, rows("extra", 1))
				g.Nodes = []onnx.Node{node("Concat", []string{"features", "extra"}, "scores", onnx.Int("axis", 1))}
				g.Outputs = []onnx.ValueInfo{rows("scores", 3)}
				spec := identitySpec("x", "y", "z")
				spec.Inputs[0].Fields = columns("x", "y")
				return encode(t, g, &spec)
			},
			fragments: []string{`graph input "extra" is not mapped`},
		},
		{
			name:      "double input",
			model:     func(t *testing.T) []byte { return encode(t, castGraph(onnx.TypeDouble), &two) },
			fragments: []string{`input "features"`, "DOUBLE", "only float32"},
		},
		{
			name:      "int64 input",
			model:     func(t *testing.T) []byte { return encode(t, castGraph(onnx.TypeInt64), &two) },
			fragments: []string{`input "features"`, "INT64", "only float32"},
		},
		{
			name: "fixed batch dimension",
			model: func(t *testing.T) []byte {
				g := identityGraph(2)
				g.Inputs[0] = onnx.TensorInfo("features", onnx.TypeFloat, onnx.DimValue(1), onnx.DimValue(2))
				return encode(t, g, &two)
			},
			fragments: []string{`input "features"`, "no dynamic batch dimension"},
		},
		{
			name: "float input of rank 1",
			model: func(t *testing.T) []byte {
				g := identityGraph(2)
				g.Inputs[0] = onnx.TensorInfo("features", onnx.TypeFloat, onnx.DimParam(batchDim))
				return encode(t, g, &two)
			},
			fragments: []string{`input "features"`, "must be [N, features]"},
		},
		{
			name:      "column count mismatch",
			model:     func(t *testing.T) []byte { return encode(t, identityGraph(3), &two) },
			fragments: []string{`input "features"`, "the graph takes 3 columns but the spec maps 2 fields"},
		},
		{
			name: "spec says string, graph takes float",
			model: func(t *testing.T) []byte {
				spec := identitySpec("x", "y")
				spec.Inputs[0] = model.Input{Name: "features", Type: model.StringInput, Fields: columns("x")}
				return encode(t, identityGraph(2), &spec)
			},
			fragments: []string{`input "features"`, "spec says string"},
		},
		{
			name: "spec says float, graph takes string",
			model: func(t *testing.T) []byte {
				spec := textSpec()
				spec.Inputs[0].Type = model.FloatInput
				return encode(t, textGraph(2), &spec)
			},
			fragments: []string{`input "text"`, "STRING", "only float32"},
		},
		{
			name: "text input of width 2",
			model: func(t *testing.T) []byte {
				g := textGraph(2)
				g.Inputs[0] = onnx.TensorInfo("text", onnx.TypeString, onnx.DimParam(batchDim), onnx.DimValue(2))
				spec := textSpec()
				return encode(t, g, &spec)
			},
			fragments: []string{`input "text"`, "must be [N] or [N, 1]"},
		},
		{
			name: "scores output of wrong width",
			model: func(t *testing.T) []byte {
				spec := identitySpec("x", "y", "z")
				spec.Labels = spec.Labels[:2]
				return encode(t, identityGraph(3), &spec)
			},
			fragments: []string{`output "scores"`, "float [N, 2]"},
		},
		{
			name: "scores output of wrong type",
			model: func(t *testing.T) []byte {
				spec := identitySpec("x", "y")
				spec.Outputs.Scores = "label"
				return encode(t, argMaxGraph(2), &spec)
			},
			fragments: []string{`output "label"`, "INT64", "float [N, 2]"},
		},
		{
			name: "value output of width 2",
			model: func(t *testing.T) []byte {
				spec := identitySpec("x", "y")
				spec.Task, spec.Outputs = model.Regression, model.Outputs{Value: "scores"}
				return encode(t, identityGraph(2), &spec)
			},
			fragments: []string{`output "scores"`, "float [N] or [N, 1]"},
		},
		{
			name: "label output of type float",
			model: func(t *testing.T) []byte {
				spec := identitySpec("x", "y")
				spec.Outputs = model.Outputs{Label: "scores"}
				return encode(t, identityGraph(2), &spec)
			},
			fragments: []string{`output "scores"`, "int64 or string [N]"},
		},
		{
			name: "output missing",
			model: func(t *testing.T) []byte {
				spec := identitySpec("x", "y")
				spec.Outputs.Scores = "probabilities"
				return encode(t, identityGraph(2), &spec)
			},
			fragments: []string{`the spec reads output "probabilities", which the graph lacks`},
		},
		{
			name:      "ZipMap sequence output",
			model:     func(t *testing.T) []byte { return zipMapModel(t) },
			spec:      &model.Spec{Name: "sk", Task: model.Classification, Labels: []string{"a", "b"}, Inputs: two.Inputs, Outputs: model.Outputs{Scores: "output_probability"}},
			fragments: []string{`output "output_probability"`, "ONNX_TYPE_SEQUENCE", "not a tensor", "zipmap disabled"},
		},
		{
			name: "scores wider than the labels, width not declared",
			model: func(t *testing.T) []byte {
				// The graph declares a dynamic width; ONNX Runtime infers
				// the real one, three columns for two labels.
				g := identityGraph(3)
				g.Outputs[0] = onnx.TensorInfo("scores", onnx.TypeFloat, onnx.DimParam(batchDim), onnx.DimParam("C"))
				spec := identitySpec("x", "y", "z")
				spec.Labels = spec.Labels[:2]
				return encode(t, g, &spec)
			},
			fragments: []string{`output "scores"`, "shape [-1 3]", "float [N, 2]"},
		},
		{
			name: "graph fails its smoke run",
			model: func(t *testing.T) []byte {
				// The declared shapes agree with the spec, but the graph
				// pairs rows up, so a batch of one row cannot run.
				g := identityGraph(2)
				g.Initializers = []onnx.Tensor{
					onnx.Int64Tensor("pairs", []int64{3}, []int64{-1, 2, 2}),
					onnx.Int64Tensor("rows", []int64{2}, []int64{-1, 2}),
				}
				g.Nodes = []onnx.Node{
					node("Reshape", []string{"features", "pairs"}, "paired"),
					node("Reshape", []string{"paired", "rows"}, "scores"),
				}
				return encode(t, g, &two)
			},
			fragments: []string{"smoke batch", "Reshape"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := model.Load(tt.model(t), model.Options{Spec: tt.spec})
			if err == nil {
				m.Close()
				t.Fatal("Load accepted the model")
			}
			if m != nil {
				t.Error("Load returned a model with its error")
			}
			t.Logf("refused: %v", err)
			requireErr(t, err, model.ErrBadModel, tt.fragments...)
			if tt.also != nil && !errors.Is(err, tt.also) {
				t.Errorf("error %v does not wrap %q", err, tt.also)
			}
		})
	}
}

// A model may have outputs the scorer cannot read, as long as it does not
// read them: a scikit-learn classifier served by its label alone loads.
func TestLoadIgnoresUnreadNonTensorOutput(t *testing.T) {
	spec := model.Spec{
		Name: "sk", Task: model.Classification, Labels: []string{"low", "high"},
		Inputs:  []model.Input{{Name: "features", Fields: columns("x", "y")}},
		Outputs: model.Outputs{Label: "label"},
	}
	m := load(t, zipMapModel(t), model.Options{Spec: &spec})
	b := newBatch(t, m)
	addAll(t, b, map[string]any{"x": 1.0, "y": 2.0}, map[string]any{"x": 3.0, "y": -1.0})
	results := run(t, m, b)
	if results[0].Label != "high" || results[1].Label != "low" {
		t.Errorf("labels %q, %q; want high, low", results[0].Label, results[1].Label)
	}
}

func TestLoadSpecSource(t *testing.T) {
	embedded := identitySpec("a", "b")
	embedded.Version = "embedded"
	data := encode(t, identityGraph(2), &embedded)

	t.Run("metadata", func(t *testing.T) {
		m := load(t, data, model.Options{})
		if got := m.Spec(); got.Name != "identity" || got.Inputs[0].Fields[0].Field != "a" {
			t.Errorf("Spec() = %+v; want the embedded spec", got)
		}
	})
	t.Run("options override metadata", func(t *testing.T) {
		side := identitySpec("x", "y")
		side.Name = "side-file"
		m := load(t, data, model.Options{Spec: &side})
		if got := m.Spec().Name; got != "side-file" {
			t.Errorf("Spec().Name = %q; want side-file", got)
		}
		b := newBatch(t, m)
		addAll(t, b, map[string]any{"x": 1.0, "y": 2.0})
		if got := run(t, m, b)[0].Scores; got[0] != 1 || got[1] != 2 {
			t.Errorf("scores %v; want the side file's fields x, y = [1 2]", got)
		}
	})
}

func TestLoadVersion(t *testing.T) {
	tests := []struct {
		name        string
		specVersion string
		opts        model.Options
		want        string
	}{
		{"from the spec", "1", model.Options{DefaultVersion: "hash"}, "1"},
		{"option overrides the spec", "1", model.Options{Version: "2", DefaultVersion: "hash"}, "2"},
		{"default when none is given", "", model.Options{DefaultVersion: "hash"}, "hash"},
		{"option without a spec version", "", model.Options{Version: "3"}, "3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := identitySpec("x", "y")
			spec.Version = tt.specVersion
			m := load(t, encode(t, identityGraph(2), &spec), tt.opts)
			if got := m.Spec().Version; got != tt.want {
				t.Errorf("version %q; want %q", got, tt.want)
			}
		})
	}
}

func TestCloseTwice(t *testing.T) {
	spec := identitySpec("x", "y")
	m, err := model.Load(encode(t, identityGraph(2), &spec), model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
