#!/usr/bin/python3
"""Score scikit-learn's linear models against the Go LinearModel.

Usage: linear_reference.py {classification|multiclass|regression} TRAIN_CSV TEST_CSV

TestLinearQualityMatchesScikitLearn (linear_quality_test.go) writes both
files in the format of sklearn_reference.py: features f0..fN, "label", and
in the test file the Go model's predictions ("go_score", or "go_p0",
"go_p1", ... for multiclass). The Go model's settings come as the
environment variables C, ALPHA, MAX_ITER and TOL; CATEGORICAL, if set,
names the categorical features and their numbers of codes, "1:7,4:30" for
f1 of codes 0..6 and f4 of codes 0..29.

This script fits the pipeline the Go model is equivalent to: a mean
SimpleImputer, a StandardScaler, then LogisticRegression(lbfgs) for the
classifiers or Ridge (LinearRegression when ALPHA is 0) for regression;
with categorical features, a ColumnTransformer of that imputer and scaler
over the numeric features and a OneHotEncoder of every code over the
categorical ones. It prints one JSON object: the held-out metric of both
models, computed by scikit-learn ("sklearn", "go": ROC AUC, log loss or
R^2), for classifiers their F1 ("sklearn_f1", "go_f1": binary, or macro for
multiclass), and "max_difference", the largest difference between the two
models' predictions (probabilities or values).
"""
import json
import os
import sys

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import f1_score, log_loss, r2_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


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
        # A small tol for the sparse_cg solver Ridge takes on a sparse
        # one-hot matrix; the dense cholesky solver ignores it.
        final = Ridge(alpha=alpha, tol=1e-10) if alpha > 0 else LinearRegression()
    else:
        final = LogisticRegression(C=c, max_iter=max_iter, tol=tol)
    numeric = make_pipeline(SimpleImputer(strategy="mean"), StandardScaler())
    categorical = parse_categorical(os.environ.get("CATEGORICAL", ""))
    if categorical:
        numeric_columns = [f for f in range(x_train.shape[1]) if f not in categorical]
        columns = sorted(categorical)
        encoder = OneHotEncoder(
            categories=[[float(c) for c in range(categorical[f])] for f in columns],
            handle_unknown="ignore",
        )
        transform = ColumnTransformer([("numeric", numeric, numeric_columns), ("categorical", encoder, columns)])
        model = make_pipeline(transform, final)
    else:
        model = make_pipeline(numeric, final)
    model.fit(x_train, y_train)

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
    result = {
        "sklearn": metric(y_test, ours),
        "go": metric(y_test, theirs),
        "max_difference": float(np.max(np.abs(ours - theirs))),
    }
    if task == "classification":
        result["sklearn_f1"] = f1_score(y_test, ours > 0.5)
        result["go_f1"] = f1_score(y_test, theirs > 0.5)
    elif task == "multiclass":
        result["sklearn_f1"] = f1_score(y_test, np.argmax(ours, axis=1), average="macro")
        result["go_f1"] = f1_score(y_test, np.argmax(theirs, axis=1), average="macro")
    print(json.dumps(result))


def parse_categorical(spec):
    """Parse "1:7,4:30" into {1: 7, 4: 30}."""
    features = {}
    for item in filter(None, spec.split(",")):
        feature, codes = item.split(":")
        features[int(feature)] = int(codes)
    return features


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
