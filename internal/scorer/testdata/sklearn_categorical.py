#!/usr/bin/python3
"""A scikit-learn model with categorical inputs, exported to ONNX by hand.

Run by TestImportedSklearnModelWithCategoricalInputs (import_categorical_test.go):

    /usr/bin/python3 sklearn_categorical.py TRAIN.jsonl SCORE.jsonl OUT.onnx EXPECTED.json

TRAIN.jsonl holds rows {"status", "vendor", "temperature", "lat", "condition"};
SCORE.jsonl rows {"key", "status", "vendor", "temperature", "lat"}, the records
the test produced to Kafka. The script fits

    Pipeline([ColumnTransformer([OneHotEncoder(handle_unknown="ignore") on
              status and vendor, StandardScaler on temperature and lat]),
              LogisticRegression()])

on TRAIN, writes it to OUT.onnx built with onnx.helper (no skl2onnx): the
ai.onnx.ml OneHotEncoder with cats_strings on each string input (its zeros=1
is handle_unknown="ignore": an unknown string is all zeros), the scaler as
Sub and Div, Concat in the column transformer's order, MatMul and Add with
the coefficients, and Softmax (scikit-learn's multinomial predict_proba),
computed in double and cast to float at the end. It writes the pipeline's
predict_proba of every SCORE row to EXPECTED.json:
{"classes": [...], "rows": [{"key": ..., "proba": [...]}, ...]}.

Needs python3-sklearn and python3-onnx (1.12), Debian's, under /usr/bin/python3.
"""

import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

STRINGS = ["status", "vendor"]  # the graph's string inputs, in the one-hot's column order
NUMBERS = ["temperature", "lat"]  # the graph's float input "numbers", in column order


def read_rows(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def features(rows):
    """The pipeline's input: an object array of the string and number columns."""
    return np.array([[r[c] for c in STRINGS] + [float(r[c]) for c in NUMBERS] for r in rows], dtype=object)


def fit(rows):
    prep = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), [0, 1]),
            ("num", StandardScaler(), [2, 3]),
        ],
        sparse_threshold=0,
    )
    pipe = Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=1000))])
    pipe.fit(features(rows), [r["condition"] for r in rows])
    return pipe


def export(pipe):
    prep, clf = pipe.named_steps["prep"], pipe.named_steps["clf"]
    onehot, scaler = prep.named_transformers_["cat"], prep.named_transformers_["num"]
    if len(clf.classes_) < 3:
        sys.exit("want a multiclass model: Softmax below is the multinomial predict_proba")

    nodes, inits, concat = [], [], []
    for i, name in enumerate(STRINGS):
        cats = [str(c) for c in onehot.categories_[i]]
        # [N, 1] strings -> [N, 1, len(cats)] -> [N, len(cats)]
        nodes.append(helper.make_node("OneHotEncoder", [name], [name + "_onehot3"], domain="ai.onnx.ml",
                                      cats_strings=cats, zeros=1))
        nodes.append(helper.make_node("Flatten", [name + "_onehot3"], [name + "_onehot"], axis=1))
        nodes.append(helper.make_node("Cast", [name + "_onehot"], [name + "_onehot64"], to=TensorProto.DOUBLE))
        concat.append(name + "_onehot64")
    inits.append(numpy_helper.from_array(np.asarray(scaler.mean_, dtype=np.float64), "mean"))
    inits.append(numpy_helper.from_array(np.asarray(scaler.scale_, dtype=np.float64), "scale"))
    nodes.append(helper.make_node("Cast", ["numbers"], ["numbers64"], to=TensorProto.DOUBLE))
    nodes.append(helper.make_node("Sub", ["numbers64", "mean"], ["centred"]))
    nodes.append(helper.make_node("Div", ["centred", "scale"], ["scaled"]))
    concat.append("scaled")
    nodes.append(helper.make_node("Concat", concat, ["x"], axis=1))

    inits.append(numpy_helper.from_array(np.asarray(clf.coef_.T, dtype=np.float64), "coef"))
    inits.append(numpy_helper.from_array(np.asarray(clf.intercept_, dtype=np.float64), "intercept"))
    nodes.append(helper.make_node("MatMul", ["x", "coef"], ["xw"]))
    nodes.append(helper.make_node("Add", ["xw", "intercept"], ["logits"]))
    nodes.append(helper.make_node("Softmax", ["logits"], ["proba64"], axis=1))
    nodes.append(helper.make_node("Cast", ["proba64"], ["probabilities"], to=TensorProto.FLOAT))

    graph = helper.make_graph(
        nodes,
        "sklearn_categorical",
        [helper.make_tensor_value_info(name, TensorProto.STRING, ["N", 1]) for name in STRINGS]
        + [helper.make_tensor_value_info("numbers", TensorProto.FLOAT, ["N", len(NUMBERS)])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", len(clf.classes_)])],
        inits,
    )
    model = helper.make_model(
        graph,
        producer_name="streamscore-test",
        opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 1)],
    )
    onnx.checker.check_model(model)
    return model


def main():
    train_path, score_path, onnx_path, expected_path = sys.argv[1:5]
    pipe = fit(read_rows(train_path))
    onnx.save(export(pipe), onnx_path)
    rows = read_rows(score_path)
    proba = pipe.predict_proba(features(rows))
    with open(expected_path, "w") as f:
        json.dump({"classes": [str(c) for c in pipe.classes_],
                   "rows": [{"key": r["key"], "proba": [float(p) for p in ps]} for r, ps in zip(rows, proba)]}, f)


if __name__ == "__main__":
    main()
