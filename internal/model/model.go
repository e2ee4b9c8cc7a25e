package model

import (
	"errors"
	"fmt"

	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/encoding/protowire"
)

// ErrBadModel marks a model that cannot be served: it does not load in ONNX
// Runtime, its graph does not match its Spec, or its smoke run fails. A
// scorer refuses such a model and keeps serving the one it has.
var ErrBadModel = errors.New("model refused")

// Options tune how a model is loaded and run.
type Options struct {
	// Spec overrides the Spec in the model's metadata; required for models
	// trained elsewhere, which carry none.
	Spec *Spec
	// Version overrides the Spec's version (the model registry sets it).
	Version string
	// DefaultVersion is the version when neither Version nor the Spec
	// gives one, so that every output can name what scored it.
	DefaultVersion string
	// MaxBatch is the most rows one Run takes (default 128).
	MaxBatch int
	// IntraOpThreads is ONNX Runtime's per-session thread count (default 1:
	// the scorer parallelises across batches, not inside one).
	IntraOpThreads int
}

func (o Options) withDefaults() Options {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 128
	}
	if o.IntraOpThreads <= 0 {
		o.IntraOpThreads = 1
	}
	return o
}

// Model is a loaded, validated ONNX model ready to score batches. A Model is
// not safe for concurrent Runs; each scoring goroutine owns its Batch and
// calls Run from one goroutine at a time.
type Model struct {
	spec     Spec
	maxBatch int
	session  *ort.DynamicAdvancedSession
	inputs   []boundInput
	output   boundOutput
	margin   boundMargin

	projections projections
}

// boundInput is a Spec input checked against the graph, with the reader
// of its records.
type boundInput struct {
	Input
	reader *InputReader
	width  int // columns of a float input; 1 for text
	rank   int // 2 for [N, width]; 1 for a text input declared as [N]
}

// outputKind says which of a Spec's outputs a Model reads.
type outputKind int

const (
	readScores outputKind = iota
	readLabel
	readValue
)

type boundOutput struct {
	kind     outputKind
	name     string
	dataType ort.TensorElementDataType
	rank     int
	classes  int // score columns
}

// Load validates an ONNX model and opens an ONNX Runtime session for it. Init
// must have been called. The model must take a dynamic batch dimension.
//
// ONNX Runtime opens the model twice: once to describe its inputs and
// outputs, which onnxruntime_go reads from a session of its own, and once
// for the session that scores. Opening builds every kernel, a tree
// ensemble's included, so each open costs about as much as the other;
// the Spec in the metadata is read from the model's bytes rather than
// through a third session.
func Load(onnxData []byte, opts Options) (*Model, error) {
	opts = opts.withDefaults()
	inputInfo, outputInfo, err := ort.GetInputOutputInfoWithONNXData(onnxData)
	if err != nil {
		return nil, fmt.Errorf("%w: ONNX Runtime cannot read the model: %w", ErrBadModel, err)
	}
	spec, err := resolveSpec(onnxData, opts)
	if err != nil {
		return nil, err
	}
	inputs, err := bindInputs(spec, inputInfo)
	if err != nil {
		return nil, err
	}
	output, err := bindOutput(spec, outputInfo)
	if err != nil {
		return nil, err
	}
	margin, err := bindMargin(spec, outputInfo)
	if err != nil {
		return nil, err
	}

	sessionOpts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	defer sessionOpts.Destroy()
	if err := sessionOpts.SetIntraOpNumThreads(opts.IntraOpThreads); err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	if err := sessionOpts.SetInterOpNumThreads(1); err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	names := make([]string, len(inputs))
	for i, in := range inputs {
		names[i] = in.Name
	}
	outputNames := []string{output.name}
	if margin.name != "" {
		outputNames = append(outputNames, margin.name)
	}
	session, err := ort.NewDynamicAdvancedSessionWithONNXData(onnxData, names, outputNames, sessionOpts)
	if err != nil {
		return nil, fmt.Errorf("%w: ONNX Runtime cannot open a session: %w", ErrBadModel, err)
	}
	m := &Model{spec: spec, maxBatch: opts.MaxBatch, session: session, inputs: inputs, output: output, margin: margin}
	if err := m.smokeTest(); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// resolveSpec takes the Spec from the options or the model's metadata.
// The model must have been read by ONNX Runtime already, so that its bytes
// are a ModelProto.
func resolveSpec(onnxData []byte, opts Options) (Spec, error) {
	var spec Spec
	if opts.Spec != nil {
		spec = *opts.Spec
	} else {
		raw, ok, err := metadataProp(onnxData, SpecMetadataKey)
		if err != nil {
			return Spec{}, fmt.Errorf("%w: read metadata: %w", ErrBadModel, err)
		}
		if !ok {
			return Spec{}, fmt.Errorf("%w: no %q metadata; give a feature mapping with the model", ErrBadModel, SpecMetadataKey)
		}
		if spec, err = ParseSpec([]byte(raw)); err != nil {
			return Spec{}, fmt.Errorf("%w: %w", ErrBadModel, err)
		}
	}
	if opts.Version != "" {
		spec.Version = opts.Version
	}
	if spec.Version == "" {
		spec.Version = opts.DefaultVersion
	}
	if err := spec.Validate(); err != nil {
		return Spec{}, fmt.Errorf("%w: %w", ErrBadModel, err)
	}
	return spec, nil
}

// bindInputs checks that the Spec maps every graph input, with the right
// element type and column count.
func bindInputs(spec Spec, graph []ort.InputOutputInfo) ([]boundInput, error) {
	byName := make(map[string]ort.InputOutputInfo, len(graph))
	for _, info := range graph {
		byName[info.Name] = info
	}
	mapped := make(map[string]bool, len(spec.Inputs))
	bound := make([]boundInput, 0, len(spec.Inputs))
	for _, in := range spec.Inputs {
		info, ok := byName[in.Name]
		if !ok {
			return nil, fmt.Errorf("%w: the spec maps input %q, which the graph lacks", ErrBadModel, in.Name)
		}
		mapped[in.Name] = true
		b, err := bindInput(in, info)
		if err != nil {
			return nil, fmt.Errorf("%w: input %q: %w", ErrBadModel, in.Name, err)
		}
		bound = append(bound, b)
	}
	for _, info := range graph {
		if !mapped[info.Name] {
			return nil, fmt.Errorf("%w: graph input %q is not mapped to any field", ErrBadModel, info.Name)
		}
	}
	return bound, nil
}

func bindInput(in Input, info ort.InputOutputInfo) (boundInput, error) {
	if info.OrtValueType != ort.ONNXTypeTensor {
		return boundInput{}, fmt.Errorf("is a %v, not a tensor", info.OrtValueType)
	}
	dims := info.Dimensions
	if len(dims) == 0 || dims[0] > 0 {
		return boundInput{}, fmt.Errorf("shape %v has no dynamic batch dimension; export it with a dynamic first axis", dims)
	}
	reader, err := in.Reader()
	if err != nil {
		return boundInput{}, err
	}
	b := boundInput{Input: in, reader: reader, rank: len(dims), width: in.Width()}
	switch in.Type {
	case StringInput:
		if info.DataType != ort.TensorElementDataTypeString {
			return boundInput{}, fmt.Errorf("spec says string but the graph takes %v", info.DataType)
		}
		if len(dims) > 2 || (len(dims) == 2 && dims[1] != 1 && dims[1] > 0) {
			return boundInput{}, fmt.Errorf("a text input must be [N] or [N, 1], got %v", dims)
		}
	default:
		if info.DataType != ort.TensorElementDataTypeFloat {
			return boundInput{}, fmt.Errorf("takes %v; only float32 feature tensors are supported", info.DataType)
		}
		if len(dims) != 2 {
			return boundInput{}, fmt.Errorf("a float input must be [N, features], got %v", dims)
		}
		if dims[1] > 0 && int(dims[1]) != b.width {
			if b.width == len(in.Fields) {
				return boundInput{}, fmt.Errorf("the graph takes %d columns but the spec maps %d fields", dims[1], len(in.Fields))
			}
			return boundInput{}, fmt.Errorf("the graph takes %d columns but the spec maps %d, from %d fields", dims[1], b.width, len(in.Fields))
		}
	}
	return b, nil
}

// bindOutput picks the one output the scorer reads and checks its type.
func bindOutput(spec Spec, graph []ort.InputOutputInfo) (boundOutput, error) {
	out := boundOutput{}
	switch {
	case spec.Task == Regression:
		out.kind, out.name = readValue, spec.Outputs.Value
	case spec.Outputs.Scores != "":
		out.kind, out.name, out.classes = readScores, spec.Outputs.Scores, len(spec.Labels)
	default:
		out.kind, out.name = readLabel, spec.Outputs.Label
	}
	for _, info := range graph {
		if info.Name != out.name {
			continue
		}
		if info.OrtValueType != ort.ONNXTypeTensor {
			return out, fmt.Errorf("%w: output %q is a %v, not a tensor (for scikit-learn models, convert with zipmap disabled)", ErrBadModel, out.name, info.OrtValueType)
		}
		out.dataType, out.rank = info.DataType, len(info.Dimensions)
		return out, checkOutputShape(out, info.Dimensions)
	}
	return out, fmt.Errorf("%w: the spec reads output %q, which the graph lacks", ErrBadModel, out.name)
}

func checkOutputShape(out boundOutput, dims ort.Shape) error {
	bad := func(want string) error {
		return fmt.Errorf("%w: output %q has type %v shape %v; want %s", ErrBadModel, out.name, out.dataType, dims, want)
	}
	switch out.kind {
	case readScores:
		if out.dataType != ort.TensorElementDataTypeFloat || len(dims) != 2 || (dims[1] > 0 && int(dims[1]) != out.classes) {
			return bad(fmt.Sprintf("float [N, %d] (one column per label)", out.classes))
		}
	case readValue:
		if out.dataType != ort.TensorElementDataTypeFloat || len(dims) < 1 || len(dims) > 2 || (len(dims) == 2 && dims[1] != 1 && dims[1] > 0) {
			return bad("float [N] or [N, 1]")
		}
	case readLabel:
		if (out.dataType != ort.TensorElementDataTypeInt64 && out.dataType != ort.TensorElementDataTypeString) || len(dims) != 1 {
			return bad("int64 or string [N]")
		}
	}
	return nil
}

// smokeTest runs one row of ZeroRecord, so a graph that loads but cannot
// run (a missing kernel, a shape it rejects) is refused at load time and
// never mid-stream.
func (m *Model) smokeTest() error {
	b := m.NewBatch()
	defer b.Close()
	row := m.spec.ZeroRecord()
	if err := b.Add(row); err != nil {
		return fmt.Errorf("%w: smoke batch: %w", ErrBadModel, err)
	}
	if _, err := m.Run(b); err != nil {
		return fmt.Errorf("%w: smoke batch: %w", ErrBadModel, err)
	}
	return nil
}

// Spec returns the model's contract, including its name and version.
func (m *Model) Spec() Spec { return m.spec }

// Close releases the ONNX Runtime session.
func (m *Model) Close() error {
	if m.session == nil {
		return nil
	}
	err := m.session.Destroy()
	m.session = nil
	return err
}

// Fields of onnx.proto that metadataProp reads.
const (
	modelMetadataProps protowire.Number = 14 // ModelProto.metadata_props
	entryKey           protowire.Number = 1  // StringStringEntryProto.key
	entryValue         protowire.Number = 2  // StringStringEntryProto.value
)

// metadataProp returns the value of key in an encoded model's
// metadata_props, as ONNX Runtime's custom metadata map holds it: of
// entries with the same key, the last. It reads the top-level fields
// alone, skipping the graph unparsed, which is why it costs nothing beside
// a session; onnxruntime_go reads metadata only through a session of its
// own.
func metadataProp(onnxData []byte, key string) (value string, ok bool, err error) {
	b := onnxData
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return "", false, fmt.Errorf("model field: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if num != modelMetadataProps || typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return "", false, fmt.Errorf("model field %d: %w", num, protowire.ParseError(n))
			}
			b = b[n:]
			continue
		}
		entry, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return "", false, fmt.Errorf("metadata_props: %w", protowire.ParseError(n))
		}
		b = b[n:]
		k, v, err := metadataEntry(entry)
		if err != nil {
			return "", false, err
		}
		if k == key {
			value, ok = v, true
		}
	}
	return value, ok, nil
}

// metadataEntry decodes a StringStringEntryProto; a field given twice
// keeps its last value, as protobuf's parsers do.
func metadataEntry(b []byte) (key, value string, err error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return "", "", fmt.Errorf("metadata_props entry: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if (num == entryKey || num == entryValue) && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return "", "", fmt.Errorf("metadata_props entry: %w", protowire.ParseError(n))
			}
			if num == entryKey {
				key = string(v)
			} else {
				value = string(v)
			}
			b = b[n:]
			continue
		}
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return "", "", fmt.Errorf("metadata_props entry field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
	}
	return key, value, nil
}
