package onnx

// Tensor is a constant tensor (TensorProto), used as a graph initializer.
// Build one with FloatTensor, Int64Tensor, Uint8Tensor, BoolTensor or
// StringTensor; the constructors keep the element type and the data in
// agreement.
type Tensor struct {
	name     string
	dims     []int64
	dataType DataType
	floats   []float32
	int64s   []int64
	uint8s   []uint8
	bools    []bool
	strings  []string
}

// FloatTensor returns a float32 tensor. Values are in row-major order and
// their count must equal the product of dims (1 for a scalar, dims empty).
func FloatTensor(name string, dims []int64, values []float32) Tensor {
	return Tensor{name: name, dims: dims, dataType: TypeFloat, floats: values}
}

// Int64Tensor returns an int64 tensor; see FloatTensor.
func Int64Tensor(name string, dims []int64, values []int64) Tensor {
	return Tensor{name: name, dims: dims, dataType: TypeInt64, int64s: values}
}

// Uint8Tensor returns a uint8 tensor; see FloatTensor.
func Uint8Tensor(name string, dims []int64, values []uint8) Tensor {
	return Tensor{name: name, dims: dims, dataType: TypeUint8, uint8s: values}
}

// BoolTensor returns a bool tensor; see FloatTensor.
func BoolTensor(name string, dims []int64, values []bool) Tensor {
	return Tensor{name: name, dims: dims, dataType: TypeBool, bools: values}
}

// StringTensor returns a string tensor; see FloatTensor.
func StringTensor(name string, dims []int64, values []string) Tensor {
	return Tensor{name: name, dims: dims, dataType: TypeString, strings: values}
}

// Name returns the name graph nodes use to read the tensor.
func (t Tensor) Name() string { return t.name }

// Type returns the element type.
func (t Tensor) Type() DataType { return t.dataType }

// Dims returns the shape.
func (t Tensor) Dims() []int64 { return t.dims }

// length returns the number of elements held.
func (t Tensor) length() int {
	switch t.dataType {
	case TypeFloat:
		return len(t.floats)
	case TypeInt64:
		return len(t.int64s)
	case TypeUint8:
		return len(t.uint8s)
	case TypeBool:
		return len(t.bools)
	case TypeString:
		return len(t.strings)
	}
	return 0
}
