package main

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of the ONNX protobuf messages read here (onnx.proto3).
const (
	modelGraph     = 7 // ModelProto.graph
	graphNode      = 1 // GraphProto.node
	nodeAttribute  = 5 // NodeProto.attribute
	nodeOpType     = 4 // NodeProto.op_type
	attributeName  = 1 // AttributeProto.name
	attributeInts  = 8 // AttributeProto.ints
	treeEnsembleOp = "TreeEnsembleRegressor"
	treeIDs        = "nodes_treeids"
)

var errNoTrees = errors.New("no TreeEnsembleRegressor node")

// boostingIterations counts the trees of an exported gbdt model and divides
// by the trees one boosting iteration grows (one per class for more than
// two classes, else one): the iterations the trainer kept, to set beside
// scikit-learn's n_iter_ whether or not the trainer reports its own.
func boostingIterations(model []byte, classes int) (int, error) {
	trees, found := 0, false
	err := eachField(model, modelGraph, func(graph []byte) error {
		return eachField(graph, graphNode, func(node []byte) error {
			op := ""
			var attrs [][]byte
			if err := eachField(node, nodeOpType, func(b []byte) error { op = string(b); return nil }); err != nil {
				return err
			}
			if op != treeEnsembleOp {
				return nil
			}
			found = true
			ids := map[int64]bool{} // each node numbers its own trees
			if err := eachField(node, nodeAttribute, func(b []byte) error { attrs = append(attrs, b); return nil }); err != nil {
				return err
			}
			for _, a := range attrs {
				name := ""
				if err := eachField(a, attributeName, func(b []byte) error { name = string(b); return nil }); err != nil {
					return err
				}
				if name != treeIDs {
					continue
				}
				if err := eachInt(a, attributeInts, func(v int64) { ids[v] = true }); err != nil {
					return err
				}
			}
			trees += len(ids)
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, errNoTrees
	}
	perIteration := 1
	if classes > 2 {
		perIteration = classes
	}
	return trees / perIteration, nil
}

// eachField calls fn with the bytes of every length-delimited field num of
// the message msg.
func eachField(msg []byte, num protowire.Number, fn func([]byte) error) error {
	for len(msg) > 0 {
		n, typ, l := protowire.ConsumeTag(msg)
		if l < 0 {
			return fmt.Errorf("onnx: %w", protowire.ParseError(l))
		}
		msg = msg[l:]
		if n == num && typ == protowire.BytesType {
			b, l := protowire.ConsumeBytes(msg)
			if l < 0 {
				return fmt.Errorf("onnx: %w", protowire.ParseError(l))
			}
			if err := fn(b); err != nil {
				return err
			}
			msg = msg[l:]
			continue
		}
		l = protowire.ConsumeFieldValue(n, typ, msg)
		if l < 0 {
			return fmt.Errorf("onnx: %w", protowire.ParseError(l))
		}
		msg = msg[l:]
	}
	return nil
}

// eachInt calls fn with every value of the repeated int64 field num of msg,
// packed or not.
func eachInt(msg []byte, num protowire.Number, fn func(int64)) error {
	for len(msg) > 0 {
		n, typ, l := protowire.ConsumeTag(msg)
		if l < 0 {
			return fmt.Errorf("onnx: %w", protowire.ParseError(l))
		}
		msg = msg[l:]
		switch {
		case n == num && typ == protowire.VarintType:
			v, l := protowire.ConsumeVarint(msg)
			if l < 0 {
				return fmt.Errorf("onnx: %w", protowire.ParseError(l))
			}
			fn(int64(v))
			msg = msg[l:]
		case n == num && typ == protowire.BytesType:
			packed, l := protowire.ConsumeBytes(msg)
			if l < 0 {
				return fmt.Errorf("onnx: %w", protowire.ParseError(l))
			}
			for len(packed) > 0 {
				v, m := protowire.ConsumeVarint(packed)
				if m < 0 {
					return fmt.Errorf("onnx: %w", protowire.ParseError(m))
				}
				fn(int64(v))
				packed = packed[m:]
			}
			msg = msg[l:]
		default:
			l = protowire.ConsumeFieldValue(n, typ, msg)
			if l < 0 {
				return fmt.Errorf("onnx: %w", protowire.ParseError(l))
			}
			msg = msg[l:]
		}
	}
	return nil
}
