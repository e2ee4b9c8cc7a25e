"""Computes scikit-learn's metrics for the cases scores_internal_test.go writes.

Reads JSON from stdin: a list of {"kind", "truth", "scores" or "predicted",
"classes"} and prints a list of metric dicts, in the same order.
"""
import json
import sys

import numpy as np
from sklearn import metrics

out = []
for case in json.load(sys.stdin):
    truth = np.array(case["truth"])
    if case["kind"] == "regression":
        pred = np.array(case["predicted"])
        out.append({
            "rmse": float(np.sqrt(metrics.mean_squared_error(truth, pred))),
            "mae": float(metrics.mean_absolute_error(truth, pred)),
            "r2": float(metrics.r2_score(truth, pred)),
        })
        continue
    k = case["classes"]
    scores = np.array(case["scores"], dtype=np.float64).reshape(-1, k)
    pred = scores.argmax(axis=1)
    if k == 2:
        avg = dict(average="binary", pos_label=1)
        auc = metrics.roc_auc_score(truth, scores[:, 1])
    else:
        avg = dict(average="macro")
        auc = metrics.roc_auc_score(truth, scores, multi_class="ovr", average="macro")
    out.append({
        "auc": float(auc),
        "f1": float(metrics.f1_score(truth, pred, zero_division=0, **avg)),
        "precision": float(metrics.precision_score(truth, pred, zero_division=0, **avg)),
        "recall": float(metrics.recall_score(truth, pred, zero_division=0, **avg)),
        "accuracy": float(metrics.accuracy_score(truth, pred)),
        "log_loss": float(metrics.log_loss(truth, np.clip(scores, 1e-15, 1 - 1e-15), labels=list(range(k)))),
    })
json.dump(out, sys.stdout)
