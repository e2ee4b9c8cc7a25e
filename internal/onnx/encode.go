package onnx

import (
	"fmt"
	"maps"
	"math"
	"os"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers from onnx.proto (ONNX IR version 8).
const (
	modelIRVersion       protowire.Number = 1
	modelProducerName    protowire.Number = 2
	modelProducerVersion protowire.Number = 3
	modelDomain          protowire.Number = 4
	modelModelVersion    protowire.Number = 5
	modelDocString       protowire.Number = 6
	modelGraph           protowire.Number = 7
	modelOpsetImport     protowire.Number = 8
	modelMetadataProps   protowire.Number = 14

	opsetDomain  protowire.Number = 1
	opsetVersion protowire.Number = 2

	entryKey   protowire.Number = 1
	entryValue protowire.Number = 2

	graphNode        protowire.Number = 1
	graphName        protowire.Number = 2
	graphInitializer protowire.Number = 5
	graphInput       protowire.Number = 11
	graphOutput      protowire.Number = 12

	nodeInput     protowire.Number = 1
	nodeOutput    protowire.Number = 2
	nodeName      protowire.Number = 3
	nodeOpType    protowire.Number = 4
	nodeAttribute protowire.Number = 5
	nodeDomain    protowire.Number = 7

	attrName    protowire.Number = 1
	attrF       protowire.Number = 2
	attrI       protowire.Number = 3
	attrS       protowire.Number = 4
	attrT       protowire.Number = 5
	attrFloats  protowire.Number = 7
	attrInts    protowire.Number = 8
	attrStrings protowire.Number = 9
	attrType    protowire.Number = 20

	valueInfoName protowire.Number = 1
	valueInfoType protowire.Number = 2

	typeTensorType   protowire.Number = 1 // TypeProto.tensor_type
	tensorTypeElem   protowire.Number = 1 // TypeProto.Tensor.elem_type
	tensorTypeShape  protowire.Number = 2 // TypeProto.Tensor.shape
	shapeDim         protowire.Number = 1 // TensorShapeProto.dim
	dimValue         protowire.Number = 1 // TensorShapeProto.Dimension.dim_value
	dimParam         protowire.Number = 2 // TensorShapeProto.Dimension.dim_param
	tensorDims       protowire.Number = 1
	tensorDataType   protowire.Number = 2
	tensorFloatData  protowire.Number = 4 // packed
	tensorInt32Data  protowire.Number = 5 // packed; also holds uint8 and bool elements
	tensorStringData protowire.Number = 6
	tensorInt64Data  protowire.Number = 7 // packed
	tensorName       protowire.Number = 8
)

// Marshal validates the model and encodes it as a binary ModelProto. The
// encoding is deterministic: the same model always gives the same bytes.
func (m *Model) Marshal() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m.appendProto(nil), nil
}

// WriteFile marshals the model and writes it to path.
func (m *Model) WriteFile(path string) error {
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write ONNX model: %w", err)
	}
	return nil
}

func (m *Model) appendProto(b []byte) []byte {
	b = appendVarintField(b, modelIRVersion, uint64(m.IRVersion))
	b = appendStringField(b, modelProducerName, m.ProducerName)
	b = appendStringField(b, modelProducerVersion, m.ProducerVersion)
	b = appendStringField(b, modelDomain, m.Domain)
	b = appendVarintField(b, modelModelVersion, uint64(m.ModelVersion))
	b = appendStringField(b, modelDocString, m.Doc)
	b = appendMessageField(b, modelGraph, m.Graph.appendProto(nil))
	for _, o := range m.Opsets {
		b = appendMessageField(b, modelOpsetImport, o.appendProto(nil))
	}
	for _, key := range slices.Sorted(maps.Keys(m.Metadata)) {
		entry := appendStringField(nil, entryKey, key)
		entry = appendStringField(entry, entryValue, m.Metadata[key])
		b = appendMessageField(b, modelMetadataProps, entry)
	}
	return b
}

func (o Opset) appendProto(b []byte) []byte {
	b = protowire.AppendTag(b, opsetDomain, protowire.BytesType)
	b = protowire.AppendString(b, o.Domain) // written even when empty: it names the default domain
	return appendVarintField(b, opsetVersion, uint64(o.Version))
}

func (g *Graph) appendProto(b []byte) []byte {
	for _, n := range g.Nodes {
		b = appendMessageField(b, graphNode, n.appendProto(nil))
	}
	b = appendStringField(b, graphName, g.Name)
	for _, t := range g.Initializers {
		b = appendMessageField(b, graphInitializer, t.appendProto(nil))
	}
	for _, v := range g.Inputs {
		b = appendMessageField(b, graphInput, v.appendProto(nil))
	}
	for _, v := range g.Outputs {
		b = appendMessageField(b, graphOutput, v.appendProto(nil))
	}
	return b
}

func (n *Node) appendProto(b []byte) []byte {
	for _, in := range n.Inputs {
		b = protowire.AppendTag(b, nodeInput, protowire.BytesType)
		b = protowire.AppendString(b, in) // an empty name is meaningful: an omitted input
	}
	for _, out := range n.Outputs {
		b = appendStringField(b, nodeOutput, out)
	}
	b = appendStringField(b, nodeName, n.Name)
	b = appendStringField(b, nodeOpType, n.OpType)
	for _, a := range n.Attributes {
		b = appendMessageField(b, nodeAttribute, a.appendProto(nil))
	}
	return appendStringField(b, nodeDomain, n.Domain)
}

// appendProto writes the attribute's value field even when it holds the
// zero value: onnx.proto is proto2, so presence tells the reader which field
// is in use.
func (a *Attribute) appendProto(b []byte) []byte {
	b = appendStringField(b, attrName, a.name)
	b = appendVarintField(b, attrType, uint64(a.kind))
	switch a.kind {
	case AttrFloat:
		b = protowire.AppendTag(b, attrF, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.f))
	case AttrInt:
		b = protowire.AppendTag(b, attrI, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(a.i))
	case AttrString:
		b = protowire.AppendTag(b, attrS, protowire.BytesType)
		b = protowire.AppendString(b, a.s)
	case AttrTensor:
		b = appendMessageField(b, attrT, a.tensor.appendProto(nil))
	case AttrFloats:
		for _, f := range a.floats {
			b = protowire.AppendTag(b, attrFloats, protowire.Fixed32Type)
			b = protowire.AppendFixed32(b, math.Float32bits(f))
		}
	case AttrInts:
		for _, i := range a.ints {
			b = protowire.AppendTag(b, attrInts, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(i))
		}
	case AttrStrings:
		for _, s := range a.strings {
			b = protowire.AppendTag(b, attrStrings, protowire.BytesType)
			b = protowire.AppendString(b, s)
		}
	}
	return b
}

func (v *ValueInfo) appendProto(b []byte) []byte {
	b = appendStringField(b, valueInfoName, v.Name)
	var shape []byte
	for _, d := range v.Shape {
		shape = appendMessageField(shape, shapeDim, d.appendProto(nil))
	}
	tensorType := appendVarintField(nil, tensorTypeElem, uint64(v.Type))
	tensorType = appendMessageField(tensorType, tensorTypeShape, shape)
	typeProto := appendMessageField(nil, typeTensorType, tensorType)
	return appendMessageField(b, valueInfoType, typeProto)
}

func (d Dim) appendProto(b []byte) []byte {
	if d.Param != "" {
		return appendStringField(b, dimParam, d.Param)
	}
	b = protowire.AppendTag(b, dimValue, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(d.Value))
}

func (t *Tensor) appendProto(b []byte) []byte {
	for _, d := range t.dims {
		b = protowire.AppendTag(b, tensorDims, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d))
	}
	b = appendVarintField(b, tensorDataType, uint64(t.dataType))
	switch t.dataType {
	case TypeFloat:
		var packed []byte
		for _, f := range t.floats {
			packed = protowire.AppendFixed32(packed, math.Float32bits(f))
		}
		b = appendMessageField(b, tensorFloatData, packed)
	case TypeInt64:
		var packed []byte
		for _, i := range t.int64s {
			packed = protowire.AppendVarint(packed, uint64(i))
		}
		b = appendMessageField(b, tensorInt64Data, packed)
	case TypeUint8:
		// onnx.proto keeps uint8 elements in int32_data, one varint each.
		var packed []byte
		for _, u := range t.uint8s {
			packed = protowire.AppendVarint(packed, uint64(u))
		}
		b = appendMessageField(b, tensorInt32Data, packed)
	case TypeBool:
		var packed []byte
		for _, v := range t.bools {
			packed = protowire.AppendVarint(packed, uint64(boolBit(v)))
		}
		b = appendMessageField(b, tensorInt32Data, packed)
	case TypeString:
		for _, s := range t.strings {
			b = protowire.AppendTag(b, tensorStringData, protowire.BytesType)
			b = protowire.AppendString(b, s)
		}
	}
	return appendStringField(b, tensorName, t.name)
}

func boolBit(v bool) int {
	if v {
		return 1
	}
	return 0
}

// appendStringField appends a string field, leaving it out when empty (an
// absent proto2 string reads back as the empty string).
func appendStringField(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// appendVarintField appends an integer field, leaving it out when zero.
func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// appendMessageField appends an embedded message (or packed field), even an
// empty one: an empty TensorShapeProto still declares a scalar.
func appendMessageField(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}
