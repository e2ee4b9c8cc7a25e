// Package onnx writes ONNX models.
//
// It covers the subset of onnx.proto that exported machine-learning models
// need: a single graph of nodes with tensor inputs, outputs and initializers,
// operator set imports and metadata. Models are encoded by hand with
// protowire, so the package needs no generated code and no protoc.
//
// Build a Model value, then call Marshal or WriteFile; both validate the model
// first and report mistakes with errors that wrap ErrInvalidModel.
package onnx

// Operator set domains.
const (
	// DomainDefault is the standard ai.onnx operator set. ONNX spells it as
	// the empty string; "ai.onnx" is accepted as an alias.
	DomainDefault = ""
	// DomainML holds the traditional machine-learning operators, such as
	// TreeEnsembleRegressor.
	DomainML = "ai.onnx.ml"
)

// Versions that ONNX Runtime 1.24 and the python onnx checker (1.12) both
// accept. IR version 8 is the newest the checker knows.
const (
	IRVersion      int64 = 8
	OpsetVersion   int64 = 17 // ai.onnx
	OpsetMLVersion int64 = 3  // ai.onnx.ml
)

// Model is an ONNX ModelProto.
type Model struct {
	IRVersion       int64
	ProducerName    string
	ProducerVersion string
	Domain          string // reverse-DNS namespace of the model, optional
	ModelVersion    int64
	Doc             string
	Opsets          []Opset
	// Metadata is written as metadata_props, sorted by key so that the same
	// model always encodes to the same bytes.
	Metadata map[string]string
	Graph    Graph
}

// Opset imports one version of an operator set domain.
type Opset struct {
	Domain  string
	Version int64
}

// Graph is an ONNX GraphProto. Nodes must be listed in topological order:
// every node input is a graph input, an initializer, or an output of an
// earlier node.
type Graph struct {
	Name         string
	Nodes        []Node
	Inputs       []ValueInfo
	Outputs      []ValueInfo
	Initializers []Tensor
}

// Node is an ONNX NodeProto: one operator application.
type Node struct {
	OpType string
	Domain string // DomainDefault or DomainML; needs a matching Opset
	Name   string // optional, but unique within the graph when set
	// Inputs names the values the node reads. An empty name marks an
	// omitted optional input.
	Inputs     []string
	Outputs    []string
	Attributes []Attribute
}

// DataType is an ONNX tensor element type (TensorProto.DataType).
type DataType int32

// Element types, numbered as in onnx.proto.
const (
	TypeFloat  DataType = 1
	TypeUint8  DataType = 2
	TypeInt32  DataType = 6
	TypeInt64  DataType = 7
	TypeString DataType = 8
	TypeBool   DataType = 9
	TypeDouble DataType = 11
)

// String returns the onnx.proto name of the type.
func (t DataType) String() string {
	switch t {
	case TypeFloat:
		return "FLOAT"
	case TypeUint8:
		return "UINT8"
	case TypeInt32:
		return "INT32"
	case TypeInt64:
		return "INT64"
	case TypeString:
		return "STRING"
	case TypeBool:
		return "BOOL"
	case TypeDouble:
		return "DOUBLE"
	}
	return "UNDEFINED"
}

func (t DataType) known() bool { return t.String() != "UNDEFINED" }

// Dim is one dimension of a tensor shape: a fixed size, or a named symbol
// such as "N" for a batch dimension chosen at run time.
type Dim struct {
	Value int64
	Param string
}

// DimValue returns a fixed-size dimension.
func DimValue(size int64) Dim { return Dim{Value: size} }

// DimParam returns a symbolic dimension.
func DimParam(name string) Dim { return Dim{Param: name} }

// ValueInfo describes a graph input or output: a tensor of one element type
// and a known rank. An empty Shape declares a scalar.
type ValueInfo struct {
	Name  string
	Type  DataType
	Shape []Dim
}

// TensorInfo returns the ValueInfo of a tensor with the given shape.
func TensorInfo(name string, t DataType, shape ...Dim) ValueInfo {
	return ValueInfo{Name: name, Type: t, Shape: shape}
}
