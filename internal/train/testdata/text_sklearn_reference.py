#!/usr/bin/python3
"""Score scikit-learn's TF-IDF + logistic regression against the Go text model.

Usage: text_sklearn_reference.py CORPUS_CSV

TestTextQualityMatchesScikitLearn (text_quality_test.go) writes the corpus:
a header, then one row per message with the columns
  split     "train" or "test"
  label     0 (ham) or 1 (spam)
  text      the message
  go_score  the Go model's probability of spam (test rows only)
and the Go model's settings as the environment variables MIN_NGRAM and
MAX_NGRAM (the word n-grams' ngram_range), MIN_DF, MAX_FEATURES (0 for
None), SUBLINEAR_TF (0/1), C, ANALYZER (word, char or word+char; word if
unset), CHAR_MIN_NGRAM and CHAR_MAX_NGRAM.

This script fits scikit-learn on the train rows with the same settings:
word n-grams of scikit-learn's default analyzer (lowercase, token_pattern
(?u)\b\w\w+\b, which the Go tokenizer follows), and/or
character n-grams of words padded with spaces (analyzer "char_wb"), each
with smooth idf and L2 rows (a FeatureUnion of the two for word+char, so
each block is normalised on its own, and MIN_DF and MAX_FEATURES apply to
each), then LogisticRegression(lbfgs). It prints one JSON object with
ROC AUC and F1 (threshold 0.5) of both models on the test rows, both
computed by scikit-learn, the vocabulary size, and the largest difference
between the two models' probabilities.
"""
import csv
import json
import os
import sys

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion
from sklearn.metrics import f1_score, roc_auc_score


def main(corpus_path):
    rows = {"train": [], "test": []}
    with open(corpus_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            rows[row["split"]].append(row)
    train, test = rows["train"], rows["test"]

    common = dict(
        min_df=int(os.environ["MIN_DF"]),
        max_features=int(os.environ["MAX_FEATURES"]) or None,
        sublinear_tf=os.environ["SUBLINEAR_TF"] == "1",
        norm="l2",
        smooth_idf=True,
    )
    blocks = []
    analyzer = os.environ.get("ANALYZER", "word")
    if analyzer in ("word", "word+char"):
        word_range = (int(os.environ["MIN_NGRAM"]), int(os.environ["MAX_NGRAM"]))
        blocks.append(("word", TfidfVectorizer(ngram_range=word_range, **common)))
    if analyzer in ("char", "word+char"):
        char_range = (int(os.environ["CHAR_MIN_NGRAM"]), int(os.environ["CHAR_MAX_NGRAM"]))
        blocks.append(("char", TfidfVectorizer(analyzer="char_wb", ngram_range=char_range, **common)))
    if not blocks:
        sys.exit(f"unknown ANALYZER {analyzer!r}")
    vectorizer = blocks[0][1] if len(blocks) == 1 else FeatureUnion(blocks)
    x_train = vectorizer.fit_transform([r["text"] for r in train])
    x_test = vectorizer.transform([r["text"] for r in test])
    y_train = np.array([int(r["label"]) for r in train])
    y_test = np.array([int(r["label"]) for r in test])

    model = LogisticRegression(C=float(os.environ["C"]), max_iter=100, tol=1e-4)
    model.fit(x_train, y_train)
    ours = model.predict_proba(x_test)[:, 1]
    theirs = np.array([float(r["go_score"]) for r in test])

    def metrics(scores):
        return {"auc": roc_auc_score(y_test, scores), "f1": f1_score(y_test, scores > 0.5)}

    print(json.dumps({
        "sklearn": metrics(ours),
        "go": metrics(theirs),
        "vocabulary": sum(len(block.vocabulary_) for _, block in blocks),
        "max_probability_difference": float(np.max(np.abs(ours - theirs))),
    }))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
