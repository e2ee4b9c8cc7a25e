"""scikit-learn's side of `make eval`.

bench/eval writes the rows the streamscore trainer read from Kafka, in its
order and with its train/holdout split, to a JSON-lines file, and runs this
script with /usr/bin/python3 (Debian's python3-sklearn). The script fits
scikit-learn's counterpart of the trainer's model AT SCIKIT-LEARN'S DEFAULTS
on the training rows, scores the holdout, and prints one JSON object:

    {"auc": ..., "f1": ..., "r2": ..., "rmse": ..., "n_iter": ...,
     "early_stopped": ..., "train_rows": ..., "holdout_rows": ...,
     "fit_seconds": ..., "predict_seconds": ..., "params": {...},
     "sklearn": "1.2.1"}

Each input line is {"split": "train"|"holdout", "y": ..., "x": [numbers]}
for --model gbdt, or {"split": ..., "y": ..., "text": "..."} for --model
text. y is 0 or 1 (--task binary), a class name (multiclass) or a number
(regression). With --categorical, the columns it lists hold a category's
raw value instead, a string or null, which the script encodes (see
encode_categories) and hands to the estimator as categorical_features.

gbdt: HistGradientBoostingClassifier or HistGradientBoostingRegressor with
every parameter at its default but random_state (--random-state, 0 unless
bench/eval's -random-state says otherwise), which only fixes the rows
that early_stopping='auto' holds out for validation (above 10,000 training
rows), so that runs repeat; the trainer's gbdt defaults are scikit-learn's.

categorical gbdt: the same estimator with categorical_features set to the
--categorical columns, every other parameter still at its default; the
output gains "categories", the table learnt for each of those columns.

text: TfidfVectorizer and LogisticRegression. The trainer's text defaults
are scikit-learn's, and so is its tokenisation (the default token pattern);
--params, the trainer's effective parameters, are still passed to them by
name, so that a run with other parameters compares like with like. Every
other parameter is at its default.

Metrics as the trainer computes them: binary, ROC AUC of predict_proba's
positive column and F1 of the positive class at predict(); multiclass,
roc_auc_score(multi_class="ovr", average="macro") and
f1_score(average="macro"); regression, R² and RMSE.
"""

import argparse
import json
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, mean_squared_error, r2_score, roc_auc_score
from sklearn.pipeline import make_pipeline



def encode_categories(train_x, hold_x, columns, caps):
    """Replaces the raw categories of the given columns by codes, in place,
    and returns each column's table.

    scikit-learn wants categories as small non-negative integer codes; the
    streamscore trainer makes its codes the same way, and this function
    follows its rule so that both models see the very same categories, and
    the Go side checks that the tables printed equal the ones in its model.
    The table is learnt from the training rows only (the holdout is the
    future), most frequent first, ties by value (Python orders str by code
    point, as Go orders UTF-8 strings by byte), capped at the column's cap
    in caps: the trainer's, which keeps every code below max_bins. Code i
    is table[i]; len(table), "other", is a value outside the table (a rare
    one cut by the cap, or one first seen in the holdout); len(table) + 1 is
    a null. Both of the last two are ordinary codes to the estimator, as
    they are to the trainer, rather than NaN, which scikit-learn treats by
    rules of its own (where no NaN was seen in training, it goes to the
    child with more samples).
    """
    tables = []
    for c, cap in zip(columns, caps):
        counts = {}
        for x in train_x:
            if x[c] is not None:
                counts[x[c]] = counts.get(x[c], 0) + 1
        table = sorted(counts, key=lambda v: (-counts[v], v))[:cap]
        codes = {v: i for i, v in enumerate(table)}
        other, null = len(table), len(table) + 1
        for rows in (train_x, hold_x):
            for x in rows:
                x[c] = null if x[c] is None else codes.get(x[c], other)
        tables.append(table)
    return tables


def load(path, model, task):
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
    dtype = np.float64 if task == "regression" else None
    return train_x, np.asarray(train_y, dtype=dtype), hold_x, np.asarray(hold_y, dtype=dtype)


def by_name(est, params, applied):
    """Sets the parameters of params that est has, noting them in applied."""
    known = est.get_params()
    given = {}
    for k, v in params.items():
        if k in known:
            given[k] = tuple(v) if isinstance(v, list) else v
    est.set_params(**given)
    applied.update(given)
    return est


def estimator(model, task, params, random_state, categorical):
    if model == "text":
        applied = {}
        vectorizer = by_name(TfidfVectorizer(), params, applied)
        classifier = by_name(LogisticRegression(), params, applied)
        unused = sorted(set(params) - set(applied))
        if any(params[k] not in (None, False, "word") for k in unused):
            sys.exit(f"reference.py: trainer text parameters with no scikit-learn counterpart: {unused}")
        return make_pipeline(vectorizer, classifier)
    # The one parameter set apart from scikit-learn's defaults, and why: see
    # the docstring.
    # categorical_features None is the default: no categorical column.
    if task == "regression":
        return HistGradientBoostingRegressor(random_state=random_state, categorical_features=categorical)
    return HistGradientBoostingClassifier(random_state=random_state, categorical_features=categorical)


def given_params(est):
    """The estimator's parameters that differ from scikit-learn's defaults,
    and the ones that say how it boosts, as the report prints them."""
    if hasattr(est, "steps"):
        vectorizer, classifier = est.steps[0][1], est.steps[1][1]
        v, c = vectorizer.get_params(), classifier.get_params()
        return {
            "ngram_range": v["ngram_range"], "min_df": v["min_df"], "max_features": v["max_features"],
            "sublinear_tf": v["sublinear_tf"], "token_pattern": v["token_pattern"],
            "C": c["C"], "max_iter": c["max_iter"], "tol": c["tol"], "class_weight": c["class_weight"],
        }
    p = est.get_params()
    keys = ["max_iter", "learning_rate", "max_leaf_nodes", "max_depth", "min_samples_leaf",
            "l2_regularization", "max_bins", "early_stopping", "validation_fraction",
            "n_iter_no_change", "random_state"]
    given = {k: p[k] for k in keys}
    if p["categorical_features"] is not None:
        given["categorical_features"] = list(p["categorical_features"])
    return given


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=["gbdt", "text"], required=True)
    parser.add_argument("--task", choices=["binary", "multiclass", "regression"], required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--params", default="{}", help="the trainer's effective parameters (used for text)")
    parser.add_argument("--random-state", type=int, default=0, help="the gbdt estimators' random_state")
    parser.add_argument("--categorical", default="",
                        help="comma-separated indices of the gbdt's categorical columns, which hold raw values")
    parser.add_argument("--max-categories", default="",
                        help="comma-separated, for each --categorical column, the most categories it keeps (the trainer's caps)")
    args = parser.parse_args()
    train_x, train_y, hold_x, hold_y = load(args.data, args.model, args.task)
    categorical = [int(c) for c in args.categorical.split(",")] if args.categorical else None
    tables = None
    if categorical:
        if args.model != "gbdt":
            sys.exit("reference.py: --categorical is for --model gbdt")
        caps = [int(c) for c in args.max_categories.split(",")] if args.max_categories else []
        if len(caps) != len(categorical):
            sys.exit(f"reference.py: {len(caps)} --max-categories for {len(categorical)} --categorical columns")
        tables = encode_categories(train_x, hold_x, categorical, caps)
    if args.model == "gbdt":
        train_x = np.asarray(train_x, dtype=np.float32)
        hold_x = np.asarray(hold_x, dtype=np.float32)

    est = estimator(args.model, args.task, json.loads(args.params), args.random_state, categorical)
    start = time.perf_counter()
    est.fit(train_x, train_y)
    fitted = time.perf_counter()
    predicted = est.predict(hold_x)
    result = {
        "train_rows": len(train_y),
        "holdout_rows": len(hold_y),
        "params": given_params(est),
        "sklearn": sklearn.__version__,
    }
    if tables is not None:
        result["categories"] = tables
    if hasattr(est, "n_iter_"):
        result["n_iter"] = int(est.n_iter_)
        # Early stopping ended the fit before max_iter.
        result["early_stopped"] = bool(est.do_early_stopping_ and est.n_iter_ < est.max_iter)
    if args.task == "regression":
        result["r2"] = float(r2_score(hold_y, predicted))
        result["rmse"] = float(np.sqrt(mean_squared_error(hold_y, predicted)))
    else:
        proba = est.predict_proba(hold_x)
        present = set(hold_y.tolist())
        if args.task == "binary":
            result["f1"] = float(f1_score(hold_y, predicted, pos_label=1, zero_division=0))
            if len(present) == 2:
                result["auc"] = float(roc_auc_score(hold_y, proba[:, 1]))
        else:
            classes = est.classes_
            result["f1"] = float(f1_score(hold_y, predicted, labels=classes, average="macro", zero_division=0))
            # Like the trainer, no AUC when a class is missing from the
            # holdout.
            if present == set(classes.tolist()):
                result["auc"] = float(roc_auc_score(hold_y, proba, multi_class="ovr", average="macro", labels=classes))
    result["fit_seconds"] = fitted - start
    result["predict_seconds"] = time.perf_counter() - fitted
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
