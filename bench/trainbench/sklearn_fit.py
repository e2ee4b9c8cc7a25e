#!/usr/bin/python3
"""Time scikit-learn's HistGradientBoostingClassifier for trainbench.

Usage: sklearn_fit.py DATA_PREFIX ROWS HOLDOUT_ROWS FEATURES RUNS TREES DEPTH

trainbench (main.go) writes DATA_PREFIX.train.x/.y and
DATA_PREFIX.holdout.x/.y: little-endian float32 features, row-major, and
float64 labels. This script fits RUNS classifiers on the training rows,
timing each fit alone (not the loading), and prints one JSON object:
{"seconds": [...], "cpu_seconds": [...], "auc": holdout ROC AUC of the
last fit}. Threads follow OMP_NUM_THREADS, which trainbench sets.
"""
import json
import sys
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score


def load(prefix, rows, features):
    x = np.fromfile(prefix + ".x", dtype="<f4").reshape(rows, features)
    y = np.fromfile(prefix + ".y", dtype="<f8")
    return x, y


def main(prefix, rows, holdout_rows, features, runs, trees, depth):
    x, y = load(prefix + ".train", int(rows), int(features))
    x_holdout, y_holdout = load(prefix + ".holdout", int(holdout_rows), int(features))
    seconds, cpu_seconds = [], []
    for _ in range(int(runs)):
        model = HistGradientBoostingClassifier(
            max_iter=int(trees),
            max_depth=int(depth),
            max_leaf_nodes=None,  # grow every tree to max_depth, as the Go ensemble does
            learning_rate=0.1,
            max_bins=255,
            min_samples_leaf=20,
            l2_regularization=0.0,
            early_stopping=False,
            random_state=0,
        )
        wall, cpu = time.perf_counter(), time.process_time()
        model.fit(x, y)
        seconds.append(time.perf_counter() - wall)
        cpu_seconds.append(time.process_time() - cpu)
    auc = roc_auc_score(y_holdout, model.predict_proba(x_holdout)[:, 1])
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "auc": auc}))


if __name__ == "__main__":
    if len(sys.argv) != 8:
        sys.exit(__doc__)
    main(*sys.argv[1:])
