// Package train fits histogram-based gradient-boosted decision trees, in the
// manner of scikit-learn's HistGradientBoosting estimators (Fit, Ensemble),
// linear baselines (FitLinear, LinearModel) and TF-IDF text classifiers
// over word n-grams, character n-grams within words (scikit-learn's
// char_wb) or both side by side (FitText, TextModel, TextConfig.Analyzer),
// and exports them to ONNX.
//
// Fitting bins every numeric feature into at most Config.MaxBins quantile
// bins (a categorical feature's bins are its codes), then grows each tree
// best-first from per-node gradient and hessian histograms. Only the
// smaller child of a split is histogrammed; the larger child's histogram
// is its parent's minus the smaller one's. Binning,
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
// # Categorical features
//
// Dataset.SetCategorical marks a feature categorical: its values are codes
// 0 to n-1, which Fit takes as the feature's bins as they are, with no
// quantiles, so n may be at most Config.MaxBins (the trainer keeps at most
// MaxBins-2 categories beside its "other" and "null" codes). At each node a
// categorical feature is split, as scikit-learn's HistGradientBoosting
// splits its categorical_features, into a set of codes that goes left and
// the rest:
//
//   - the categories whose hessians, scaled to count rows when hessians
//     are constant, reach 10 (scikit-learn's MIN_CAT_SUPPORT) take part;
//   - they are sorted by their gradient sum over their hessian sum plus
//     10, which smooths the ratio of small categories;
//   - the sorted categories are scanned from either end up to the middle,
//     the scanned ones going left, and the split of largest gain wins,
//     under the same min_samples_leaf and hessian limits as a threshold.
//
// So the left set holds at most half of the categories that take part;
// the categories short of support and the codes the node did not see go
// right. A tree keeps the left set of each such node as a CategorySet, a
// bitset, in Tree.Categories, and the node sends a row left when the row's
// value is one of its codes: a value that is no code (NaN, a negative or
// fractional number, a code past the set) goes right, as an unseen code
// does.
//
// Ties between equal ratios put the higher code first, the order that
// scikit-learn 1.2's qsort gives them on glibc
// (TestCategoricalTiesMatchScikitLearn). Where this differs from
// scikit-learn: a categorical feature has no missing values, since a
// record's null is a code of its own, chosen by whoever maps the records;
// and at prediction scikit-learn sends a category the fit never saw, a
// negative value or NaN the way of missing values, which for a feature
// that had none in training is the child that got more training rows,
// where here they always go right. The trainer maps a value it has no
// category for to the "other" code, which training saw unless every value
// was in the table. On data both bin alike the trees are scikit-learn's
// (TestCategoricalTreesMatchScikitLearn).
//
// An ensemble with a categorical split exports with the same
// TreeEnsembleRegressor (ai.onnx.ml opset 3, IR version 8) as one
// without, every split a BRANCH_LEQ. The graph first computes a
// membership column for each distinct category set of a feature, by a
// Gather from a constant table with a row per code (0 in the set, 1 not)
// and a last row of 1s for every value that is no code (a fraction, a
// negative, NaN, an infinity, a code no set holds), which Floor, Equal and
// Where pick for such values; it appends the columns to the features, and
// a set split becomes "column <= 0.5". ai.onnx.ml opset 5's TreeEnsemble,
// whose BRANCH_MEMBER nodes hold sets, would do without the tables, but
// ONNX Runtime 1.24 walks trees of mixed node modes 2.5 times slower than
// trees of BRANCH_LEQ alone and takes seconds to minutes to open them, and
// the onnx checker 1.12 does not know it. An ensemble without categorical
// splits exports byte for byte as before.
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
// FitLinear fits a logistic regression (binary, or multinomial with one
// weight vector per class) by L-BFGS, or a ridge regression, on the
// columns of scikit-learn's ColumnTransformer of a mean SimpleImputer and
// StandardScaler over the numeric features and a OneHotEncoder over every
// code of the categorical ones (Dataset.SetCategorical): the optima of that
// pipeline with LogisticRegression or Ridge. One-hot columns are never
// materialised: a row keeps the code of each categorical feature, whose
// weight is the score it adds, so a feature of 10,000 codes costs 4 bytes a
// row. A ridge regression of at most 512 columns is solved from its normal
// equations, a wider one by conjugate gradients; a code never seen in
// training weighs 0. A LinearModel keeps the means and scales beside the
// coefficients; its ONNX graph standardises in float32 as Go does, looks
// each code up in a weight table (Gather), sums the scores in float64 and
// rounds once, so ONNX Runtime and Go agree to float32 rounding. A
// categorical value that is not one of its codes (negative, too large,
// fractional, NaN) counts as the "other" code, codes-2, in both.
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
