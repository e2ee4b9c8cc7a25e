#!/usr/bin/python3
"""Score scikit-learn's HistGradientBoosting against the Go ensemble.

Usage: sklearn_reference.py {classification|regression|multiclass} TRAIN_CSV TEST_CSV

TestQualityMatchesScikitLearn (quality_test.go) writes both files: a header,
the feature columns, then "label"; the test file has more columns holding
the Go model's predictions: "go_score", the probability of class 1 or the
regressed value, or for multiclass "go_p0", "go_p1", ..., the probability
of each class. This script fits scikit-learn on the same training rows with
the same hyperparameters and prints one JSON object, {"sklearn": metric,
"go": metric}, where both metrics come from scikit-learn: ROC AUC for
classification, R^2 for regression, log loss for multiclass, which also
reports accuracy as "sklearn_accuracy" and "go_accuracy".

Both sides run at their defaults (the Go ensemble follows scikit-learn's:
trees of up to 31 leaves grown best-first, and early stopping, which is on
above 10,000 rows, on a tenth of them); only random_state is fixed.
"""
import json
import sys

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import accuracy_score, log_loss, r2_score, roc_auc_score

PARAMS = dict(random_state=0)


def load(path):
    with open(path) as f:
        header = f.readline().strip().split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return {name: data[:, i] for i, name in enumerate(header)}, [n for n in header if n[0] == "f" and n[1:].isdigit()]


def main(task, train_path, test_path):
    train, features = load(train_path)
    test, _ = load(test_path)
    x_train = np.column_stack([train[f] for f in features])
    x_test = np.column_stack([test[f] for f in features])
    if task == "classification":
        model = HistGradientBoostingClassifier(**PARAMS).fit(x_train, train["label"])
        ours = roc_auc_score(test["label"], model.predict_proba(x_test)[:, 1])
        theirs = roc_auc_score(test["label"], test["go_score"])
    elif task == "multiclass":
        model = HistGradientBoostingClassifier(**PARAMS).fit(x_train, train["label"])
        go_proba = np.column_stack([test[f"go_p{k}"] for k in range(len(model.classes_))])
        sk_proba = model.predict_proba(x_test)
        result = {
            "sklearn": log_loss(test["label"], sk_proba),
            "go": log_loss(test["label"], go_proba),
            "sklearn_accuracy": accuracy_score(test["label"], sk_proba.argmax(axis=1)),
            "go_accuracy": accuracy_score(test["label"], go_proba.argmax(axis=1)),
        }
        print(json.dumps(result))
        return
    elif task == "regression":
        model = HistGradientBoostingRegressor(**PARAMS).fit(x_train, train["label"])
        ours = r2_score(test["label"], model.predict(x_test))
        theirs = r2_score(test["label"], test["go_score"])
    else:
        sys.exit(f"unknown task {task!r}")
    print(json.dumps({"sklearn": ours, "go": theirs}))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
