#!/usr/bin/python3
"""Fit scikit-learn's HistGradientBoosting with given parameters and report
what the Go ensemble is compared with.

Usage: hgb_reference.py {classifier|regressor} PARAMS_JSON TRAIN_CSV TEST_CSV [SEEDS]

The CSV files are those of quality_test.go's writeCSV: features f0..fN, then
"label". PARAMS_JSON holds the estimator's parameters (null for None). The
script fits the estimator once per random_state in 0..SEEDS-1 (default 1)
and prints one JSON object: the first fit's baseline raw score, leaves per
tree and predictions on the test rows (probability of class 1, or the
regressed value), every fit's n_iter_, and do_early_stopping_.
"""
import json
import sys

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor


def load(path):
    with open(path) as f:
        header = f.readline().strip().split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    features = [i for i, n in enumerate(header) if n[0] == "f" and n[1:].isdigit()]
    return data[:, features], data[:, header.index("label")]


def main(kind, params, train_path, test_path, seeds="1"):
    params = json.loads(params)
    x_train, y_train = load(train_path)
    x_test, _ = load(test_path)
    estimator = HistGradientBoostingClassifier if kind == "classifier" else HistGradientBoostingRegressor
    result = {"n_iter": []}
    for seed in range(int(seeds)):
        model = estimator(random_state=seed, **params).fit(x_train, y_train)
        result["n_iter"].append(int(model.n_iter_))
        if seed > 0:
            continue
        result["early_stopping"] = bool(model.do_early_stopping_)
        result["baseline"] = float(model._baseline_prediction.ravel()[0])
        result["leaves"] = [p.get_n_leaf_nodes() for it in model._predictors for p in it]
        if kind == "classifier":
            result["predictions"] = model.predict_proba(x_test)[:, 1].tolist()
        else:
            result["predictions"] = model.predict(x_test).tolist()
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    main(*sys.argv[1:])
