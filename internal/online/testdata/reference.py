"""Reference values for internal/online's tests.

Usage: reference.py CASES.json -- prints a JSON list, one result per case.

Each case is {"kind": ..., ...}:
  binary:     score, predicted (0/1), truth (0/1) -> roc_auc, f1, log_loss
              as scikit-learn computes them (roc_auc null when it raises).
  multiclass: predicted, truth (class indexes; -1 = not a model class),
              scores (rows), classes -> f1 (macro), log_loss.
  regression: predicted, truth -> rmse, mae.
  delong:     champion, challenger (scores), truth (0/1) -> the two AUCs, z
              and one-sided p-value of DeLong's test, from the definition in
              O(n^2) (not the midrank algorithm the Go code implements).
  ttest:      champion, challenger (absolute errors) -> scipy.stats.ttest_rel
              statistic and the one-sided p-value of the challenger's errors
              being smaller.
"""
import json
import math
import sys

import numpy as np
import scipy.stats
from sklearn.metrics import (f1_score, log_loss, mean_absolute_error,
                             mean_squared_error, roc_auc_score)


def binary(case):
    truth = np.array(case["truth"])
    predicted = np.array(case["predicted"])
    score = np.array(case["score"], dtype=np.float64)
    try:
        auc = float(roc_auc_score(truth, score))
    except ValueError:
        auc = None
    return {
        "roc_auc": auc,
        "f1": float(f1_score(truth, predicted, pos_label=1, zero_division="warn")),
        "log_loss": float(log_loss(truth, score, labels=[0, 1])),
    }


def multiclass(case):
    truth = np.array(case["truth"])
    predicted = np.array(case["predicted"])
    out = {"f1": float(f1_score(truth, predicted, average="macro"))}
    if case.get("scores"):
        scores = np.array(case["scores"], dtype=np.float64)
        out["log_loss"] = float(log_loss(truth, scores, labels=list(range(case["classes"]))))
    return out


def regression(case):
    truth = np.array(case["truth"], dtype=np.float64)
    predicted = np.array(case["predicted"], dtype=np.float64)
    return {
        "rmse": float(mean_squared_error(truth, predicted, squared=False)),
        "mae": float(mean_absolute_error(truth, predicted)),
    }


def psi(x, y):
    return 1.0 if x > y else 0.5 if x == y else 0.0


def delong(case):
    truth = np.array(case["truth"])
    models = [np.array(case["champion"]), np.array(case["challenger"])]
    pos_idx = np.flatnonzero(truth == 1)
    neg_idx = np.flatnonzero(truth == 0)
    m, n = len(pos_idx), len(neg_idx)
    v10 = np.zeros((2, m))
    v01 = np.zeros((2, n))
    aucs = []
    for r, s in enumerate(models):
        kernel = np.array([[psi(s[i], s[j]) for j in neg_idx] for i in pos_idx])
        v10[r] = kernel.mean(axis=1)
        v01[r] = kernel.mean(axis=0)
        aucs.append(kernel.sum() / (m * n))
    s10 = np.cov(v10)
    s01 = np.cov(v01)
    contrast = np.array([-1.0, 1.0])
    var = contrast @ s10 @ contrast / m + contrast @ s01 @ contrast / n
    z = (aucs[1] - aucs[0]) / math.sqrt(var)
    return {"champion": aucs[0], "challenger": aucs[1], "z": z,
            "p_value": float(scipy.stats.norm.sf(z))}


def ttest(case):
    champion = np.array(case["champion"], dtype=np.float64)
    challenger = np.array(case["challenger"], dtype=np.float64)
    res = scipy.stats.ttest_rel(champion, challenger, alternative="greater")
    return {"champion": float(champion.mean()), "challenger": float(challenger.mean()),
            "z": float(res.statistic), "p_value": float(res.pvalue)}


KINDS = {"binary": binary, "multiclass": multiclass, "regression": regression,
         "delong": delong, "ttest": ttest}

if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    json.dump([KINDS[c["kind"]](c) for c in cases], sys.stdout)
