#!/usr/bin/python3
"""Describe an ONNX model's graph as JSON, for tests that check its shape.

    /usr/bin/python3 onnx_nodes.py MODEL.onnx

prints {"opsets": {domain: version}, "ops": [op_type, ...], "set_tables": N}:
the operator set imports, the graph's operators in order, and how many
category set tables (initializers set_table_*, one per feature a gbdt
splits on category sets) the graph holds. Needs python3-onnx.
"""

import json
import sys

import onnx


def main():
    model = onnx.load(sys.argv[1])
    set_tables = sum(1 for t in model.graph.initializer if t.name.startswith("set_table_"))
    json.dump({"opsets": {o.domain or "ai.onnx": o.version for o in model.opset_import},
               "ops": [n.op_type for n in model.graph.node],
               "set_tables": set_tables}, sys.stdout)


if __name__ == "__main__":
    main()
