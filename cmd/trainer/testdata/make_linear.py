"""Builds linear.onnx, a model "trained elsewhere" for the catalog's import
tests: a two-class LinearClassifier (ai.onnx.ml, as scikit-learn's
LogisticRegression exports through skl2onnx with zipmap disabled) over
three float features, with a dynamic batch axis.

skl2onnx and torch are not installed here, so the graph is written with
onnx.helper directly. Run with the python that has python3-onnx:

    /usr/bin/python3 cmd/trainer/testdata/make_linear.py

Class 1's score is softmax([0, x.w + b])[1] with w = (1, -2, 0.5), b = -0.25.
"""

import os

import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))

classifier = helper.make_node(
    "LinearClassifier",
    inputs=["input"],
    outputs=["label", "probabilities"],
    domain="ai.onnx.ml",
    classlabels_ints=[0, 1],
    # one row of coefficients per class, row-major
    coefficients=[0.0, 0.0, 0.0, 1.0, -2.0, 0.5],
    intercepts=[0.0, -0.25],
    post_transform="SOFTMAX",
)
graph = helper.make_graph(
    [classifier],
    "linear_imported",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3])],
    [
        helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
        helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2]),
    ],
)
m = helper.make_model(
    graph,
    producer_name="catalog-testdata",
    opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 1)],
)
m.ir_version = 8
onnx.checker.check_model(m, full_check=True)
onnx.save(m, os.path.join(HERE, "linear.onnx"))
