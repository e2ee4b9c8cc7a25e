#!/usr/bin/python3
"""Describe an ONNX model's graph as JSON, for tests that check its shape.

    /usr/bin/python3 onnx_nodes.py MODEL.onnx

prints {"opsets": {domain: version}, "ops": [op_type, ...], "branch_member": N}:
the operator set imports, the graph's operators in order, and how many tree
nodes of its TreeEnsemble (ai.onnx.ml 5) are BRANCH_MEMBER (mode 6), that is
split on a category set. Needs python3-onnx (1.12 reads IR 10 as protobuf).
"""

import json
import sys

import onnx
from onnx import numpy_helper

BRANCH_MEMBER = 6


def main():
    model = onnx.load(sys.argv[1])
    branch_member = 0
    for node in model.graph.node:
        if node.op_type != "TreeEnsemble":
            continue
        for attr in node.attribute:
            if attr.name == "nodes_modes":
                branch_member += int((numpy_helper.to_array(attr.t) == BRANCH_MEMBER).sum())
    json.dump({"opsets": {o.domain or "ai.onnx": o.version for o in model.opset_import},
               "ops": [n.op_type for n in model.graph.node],
               "branch_member": branch_member}, sys.stdout)


if __name__ == "__main__":
    main()
