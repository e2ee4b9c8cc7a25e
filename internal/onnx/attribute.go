package onnx

// AttributeType is the kind of value an attribute holds
// (AttributeProto.AttributeType).
type AttributeType int32

// Attribute kinds, numbered as in onnx.proto.
const (
	AttrFloat   AttributeType = 1
	AttrInt     AttributeType = 2
	AttrString  AttributeType = 3
	AttrTensor  AttributeType = 4
	AttrFloats  AttributeType = 6
	AttrInts    AttributeType = 7
	AttrStrings AttributeType = 8
)

// Attribute is a named operator parameter (AttributeProto). Build one with
// Int, Ints, Float, Floats, String, Strings or TensorAttr.
type Attribute struct {
	name    string
	kind    AttributeType
	f       float32
	i       int64
	s       string
	floats  []float32
	ints    []int64
	strings []string
	tensor  Tensor
}

// Int returns an INT attribute.
func Int(name string, v int64) Attribute {
	return Attribute{name: name, kind: AttrInt, i: v}
}

// Ints returns an INTS attribute.
func Ints(name string, v ...int64) Attribute {
	return Attribute{name: name, kind: AttrInts, ints: v}
}

// Float returns a FLOAT attribute.
func Float(name string, v float32) Attribute {
	return Attribute{name: name, kind: AttrFloat, f: v}
}

// Floats returns a FLOATS attribute.
func Floats(name string, v ...float32) Attribute {
	return Attribute{name: name, kind: AttrFloats, floats: v}
}

// String returns a STRING attribute.
func String(name, v string) Attribute {
	return Attribute{name: name, kind: AttrString, s: v}
}

// Strings returns a STRINGS attribute.
func Strings(name string, v ...string) Attribute {
	return Attribute{name: name, kind: AttrStrings, strings: v}
}

// TensorAttr returns a TENSOR attribute, such as the leaf_weights of
// ai.onnx.ml's TreeEnsemble, whose element type follows the operator's
// input. The tensor's own name may be empty.
func TensorAttr(name string, v Tensor) Attribute {
	return Attribute{name: name, kind: AttrTensor, tensor: v}
}

// Name returns the attribute's name.
func (a Attribute) Name() string { return a.name }

// Type returns the kind of value the attribute holds.
func (a Attribute) Type() AttributeType { return a.kind }
