// Package train fits histogram-based gradient-boosted decision trees, in the
// manner of scikit-learn's HistGradientBoosting estimators (Fit, Ensemble),
// linear baselines (FitLinear, LinearModel) and TF-IDF text classifiers
// over word n-grams, character n-grams within words (scikit-learn's
// char_wb) or both side by side (FitText, TextModel, TextConfig.Analyzer),
// and exports them to ONNX.
//
// Fitting bins every feature into at most Config.MaxBins quantile bins,
// then grows each tree best-first from per-node gradient and hessian
// histograms. Only the smaller child of a split is histogrammed; the larger
// child's histogram is its parent's minus the smaller one's. Binning,
// gradients, histograms (in blocks of rows), row partitions and score
// updates run on up to Config.Workers goroutines, GOMAXPROCS by default,
// which take the pieces of work in turn; how a node's rows are cut into
// blocks depends on its size alone and the blocks are added up in order,
// so the ensemble does not depend on the number of workers.
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
//
// # Linear models
//
// FitLinear fits, on features imputed with their training means and
// standardised, a logistic regression (binary, or multinomial with one
// weight vector per class) by L-BFGS, or a ridge regression from its
// normal equations: the optima of scikit-learn's SimpleImputer,
// StandardScaler and LogisticRegression or Ridge. A LinearModel keeps the
// means and scales beside the coefficients, and its ONNX graph computes
// them in float32 as Go does.
//
// # One interface for the tabular models
//
// Ensemble and LinearModel export the same ONNX interface: input
// InputFeatures, float32 [N, features]; outputs OutputLabel (int64 [N]) and
// OutputProbabilities (float32 [N, classes]) for a classifier,
// OutputVariable (float32 [N, 1]) for a regressor. Both reach their outputs
// through the same head: sigmoid of a logit for two classes, softmax and
// argmax of class scores for more. Every fit takes an optional progress
// hook in its config, called after each boosting round or optimizer
// iteration.
package train
