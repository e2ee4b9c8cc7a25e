"""scikit-learn's side of `make eval`.

bench/eval writes the rows the streamscore trainer read from Kafka, in its
order and with its train/holdout split, to a JSON-lines file, and runs this
script with /usr/bin/python3 (Debian's python3-sklearn). The script fits the
scikit-learn counterpart of the trainer's model with the same parameters on
the training rows, scores the holdout, and prints one JSON object:

    {"auc": ..., "f1": ..., "train_rows": ..., "holdout_rows": ...,
     "fit_seconds": ..., "predict_seconds": ..., "sklearn": "1.2.1"}

Each input line is {"split": "train"|"holdout", "y": 0|1, "x": [numbers]} for
--model gbdt, or {"split": ..., "y": ..., "text": "..."} for --model text.
--params is the trainer's effective parameters (Result.Params) as JSON.

gbdt: HistGradientBoostingClassifier, depth-limited like the trainer's trees
(max_depth, no leaf limit), no early stopping. text: TfidfVectorizer with
the trainer's tokenisation (lowercased runs of letters and digits of at
least two characters; the default token pattern would also keep "_"),
sublinear TF, l2 rows, smooth idf; LogisticRegression with lbfgs.
F1 is of the positive class (y = 1) at predict()'s threshold, AUC of
predict_proba's positive column, as the trainer computes them.
"""

import argparse
import json
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score


def load(path, model):
    train_x, train_y, hold_x, hold_y = [], [], [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            x = row["x"] if model == "gbdt" else row["text"]
            if row["split"] == "train":
                train_x.append(x)
                train_y.append(row["y"])
            else:
                hold_x.append(x)
                hold_y.append(row["y"])
    if model == "gbdt":
        train_x = np.asarray(train_x, dtype=np.float32)
        hold_x = np.asarray(hold_x, dtype=np.float32)
    return train_x, np.asarray(train_y), hold_x, np.asarray(hold_y)


def gbdt(params):
    return HistGradientBoostingClassifier(
        max_iter=params.get("num_trees", 100),
        max_depth=params.get("max_depth", 6),
        max_leaf_nodes=None,
        learning_rate=params.get("learning_rate", 0.1),
        max_bins=params.get("max_bins", 255),
        min_samples_leaf=params.get("min_samples_leaf", 20),
        l2_regularization=params.get("l2", 0.0),
        early_stopping=False,
        random_state=params.get("seed", 0),
    )


def text(params):
    vectorizer = TfidfVectorizer(
        lowercase=True,
        token_pattern=r"(?u)[^\W_]{2,}",
        ngram_range=(params.get("min_ngram", 1), params.get("max_ngram", 2)),
        min_df=params.get("min_df", 2),
        max_features=params.get("max_features", 20000),
        sublinear_tf=True,
        norm="l2",
        smooth_idf=True,
    )
    classifier = LogisticRegression(
        C=params.get("c", 1.0),
        max_iter=params.get("max_iterations", 100),
        tol=1e-4,
        solver="lbfgs",
    )
    return vectorizer, classifier


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=["gbdt", "text"], required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--params", default="{}")
    args = parser.parse_args()
    params = json.loads(args.params)
    train_x, train_y, hold_x, hold_y = load(args.data, args.model)

    start = time.perf_counter()
    if args.model == "gbdt":
        clf = gbdt(params).fit(train_x, train_y)
        fitted = time.perf_counter()
        proba = clf.predict_proba(hold_x)[:, 1]
        predicted = clf.predict(hold_x)
    else:
        vectorizer, clf = text(params)
        clf.fit(vectorizer.fit_transform(train_x), train_y)
        fitted = time.perf_counter()
        features = vectorizer.transform(hold_x)
        proba = clf.predict_proba(features)[:, 1]
        predicted = clf.predict(features)
    done = time.perf_counter()

    result = {
        "f1": float(f1_score(hold_y, predicted, pos_label=1, zero_division=0)),
        "train_rows": len(train_y),
        "holdout_rows": len(hold_y),
        "fit_seconds": fitted - start,
        "predict_seconds": done - fitted,
        "sklearn": sklearn.__version__,
    }
    if len(set(hold_y.tolist())) == 2:
        result["auc"] = float(roc_auc_score(hold_y, proba))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
