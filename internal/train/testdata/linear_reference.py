#!/usr/bin/python3
"""Score scikit-learn's linear models against the Go LinearModel.

Usage: linear_reference.py {classification|multiclass|regression} TRAIN_CSV TEST_CSV

TestLinearQualityMatchesScikitLearn (linear_quality_test.go) writes both
files in the format of sklearn_reference.py: features f0..fN, "label", and
in the test file the Go model's predictions ("go_score", or "go_p0",
"go_p1", ... for multiclass). The Go model's settings come as the
environment variables C, ALPHA, MAX_ITER and TOL.

This script fits the pipeline the Go model is equivalent to: a mean
SimpleImputer, a StandardScaler, then LogisticRegression(lbfgs) for the
classifiers or Ridge (LinearRegression when ALPHA is 0) for regression. It
prints one JSON object: the held-out metric of both models, computed by
scikit-learn ("sklearn", "go": ROC AUC, log loss or R^2), and
"max_difference", the largest difference between the two models'
predictions (probabilities or values).
"""
import json
import os
import sys

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import log_loss, r2_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def load(path):
    with open(path) as f:
        header = f.readline().strip().split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    columns = {name: data[:, i] for i, name in enumerate(header)}
    features = [n for n in header if n[0] == "f" and n[1:].isdigit()]
    return np.column_stack([columns[f] for f in features]), columns


def main(task, train_path, test_path):
    x_train, train = load(train_path)
    x_test, test = load(test_path)
    y_train, y_test = train["label"], test["label"]
    c, alpha = float(os.environ["C"]), float(os.environ["ALPHA"])
    max_iter, tol = int(os.environ["MAX_ITER"]), float(os.environ["TOL"])
    if task == "regression":
        final = Ridge(alpha=alpha) if alpha > 0 else LinearRegression()
    else:
        final = LogisticRegression(C=c, max_iter=max_iter, tol=tol)
    model = make_pipeline(SimpleImputer(strategy="mean"), StandardScaler(), final).fit(x_train, y_train)

    if task == "classification":
        ours, theirs = model.predict_proba(x_test)[:, 1], test["go_score"]
        metric = roc_auc_score
    elif task == "multiclass":
        ours = model.predict_proba(x_test)
        theirs = np.column_stack([test[f"go_p{k}"] for k in range(ours.shape[1])])
        metric = log_loss
    elif task == "regression":
        ours, theirs = model.predict(x_test), test["go_score"]
        metric = r2_score
    else:
        sys.exit(f"unknown task {task!r}")
    print(json.dumps({
        "sklearn": metric(y_test, ours),
        "go": metric(y_test, theirs),
        "max_difference": float(np.max(np.abs(ours - theirs))),
    }))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
