// Package train fits histogram-based gradient-boosted decision trees, in the
// manner of scikit-learn's HistGradientBoosting estimators, and exports them
// to ONNX.
//
// Fitting bins every feature into at most Config.MaxBins quantile bins,
// then grows each tree depth-wise from per-node gradient and hessian
// histograms. Only the smaller child of a split is histogrammed; the larger
// child's histogram is its parent's minus the smaller one's.
//
// # Thresholds and missing values
//
// A split sends a row left when x <= threshold, comparing float32 values,
// which is exactly the BRANCH_LEQ rule of ONNX Runtime's tree ensembles.
// Missing values (NaN) compare false, so they always go right. Binning keeps
// NaN in a bin of its own, which lets a split with threshold +Inf separate
// "present" (left) from "missing" (right). The Go predictor and the exported
// ONNX model therefore route every row, NaN included, the same way.
//
// # Scores
//
// An ensemble's raw score for an output is its base score plus the float32
// sum of its trees' leaf values, added in tree order as ONNX Runtime does.
// Binary classification turns the raw score (a logit) into a probability with
// the sigmoid and predicts class 1 when the logit is positive.
//
// Multiclass classification (MulticlassLogLoss) keeps one raw score per
// class and, as scikit-learn's HistGradientBoostingClassifier does, grows
// one tree per class each round from the gradients of the softmax
// cross-entropy; tree i adds to class i % NumClasses. Probabilities are the
// softmax of the scores, and the predicted class is the first with the
// highest score, the rule of ONNX's ArgMax.
package train
