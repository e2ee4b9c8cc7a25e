package main

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"time"
)

// report prints the comparison and returns errTolerance if a metric of
// streamscore differs from scikit-learn's by more than tolerance (ROC AUC
// and F1 for classifiers, R² for regressors, a categorical set's
// numeric-only twin included), if a side of a set that must show early
// stopping did not stop early, or if the categorical features of a set add
// no more than tolerance to either side's ROC AUC.
func report(w io.Writer, results []result, tolerance float64) error {
	var failed []string
	over := func(name, metric string, d float64) {
		if math.Abs(d) > tolerance || math.IsNaN(d) {
			failed = append(failed, fmt.Sprintf("%s %s %+.4f", name, metric, d))
		}
	}
	fmt.Fprintf(w, "\nstreamscore trainer vs scikit-learn, same rows, same time-ordered split, both at their defaults, %d CPUs\n", runtime.NumCPU())
	var classifiers, regressors []result
	for _, r := range results {
		if r.set.task == regressionTask {
			regressors = append(regressors, r)
		} else {
			classifiers = append(classifiers, r)
		}
	}
	if len(classifiers) > 0 {
		fmt.Fprintf(w, "\nclassifiers: ROC AUC and F1 of the positive class; multiclass: one-vs-rest AUC and F1, macro averages\n\n")
		fmt.Fprintf(w, "%-14s %-10s %7s %7s %9s  %-24s  %-24s  %-9s  %s\n", "", "", "train", "holdout", "holdout", "ROC AUC", "F1", "n_iter", "train time")
		fmt.Fprintf(w, "%-14s %-10s %7s %7s %9s  %7s %7s %8s  %7s %7s %8s  %4s %4s  %7s %7s\n", "data set", "task", "rows", "rows", "positive",
			"ours", "sklearn", "diff", "ours", "sklearn", "diff", "ours", "skl", "ours", "sklearn")
		row := func(label string, r result) {
			aucOurs, aucTheirs, aucDiff := "-", "-", "-"
			if r.ours.hasAUC {
				aucOurs = fmt.Sprintf("%.4f", r.ours.auc)
			}
			if r.theirs.hasAUC {
				aucTheirs = fmt.Sprintf("%.4f", r.theirs.auc)
			}
			if r.ours.hasAUC && r.theirs.hasAUC {
				d := r.ours.auc - r.theirs.auc
				aucDiff = fmt.Sprintf("%+.4f", d)
				over(r.set.name, "AUC", d)
			} else if r.ours.hasAUC != r.theirs.hasAUC {
				failed = append(failed, r.set.name+" AUC defined on one side only")
			}
			f1Diff := r.ours.f1 - r.theirs.f1
			over(r.set.name, "F1", f1Diff)
			failed = append(failed, earlyStops(r)...)
			positive := fmt.Sprintf("%d cl.", r.classes)
			if r.set.task == binaryTask {
				positive = fmt.Sprintf("%.2f%%", 100*float64(r.holdPositive)/float64(max(r.holdRows, 1)))
			}
			fmt.Fprintf(w, "%-14s %-10s %7d %7d %9s  %7s %7s %8s  %7.4f %7.4f %+8.4f  %4s %4s  %7s %7s\n", label, r.set.task,
				r.trainRows, r.holdRows, positive, aucOurs, aucTheirs, aucDiff, r.ours.f1, r.theirs.f1, f1Diff,
				iterations(r.ours), iterations(r.theirs), seconds(r.ours.duration), seconds(r.theirs.duration))
		}
		for _, r := range classifiers {
			row(r.set.name, r)
			if r.numericOnly != nil {
				row("  numeric only", *r.numericOnly)
			}
		}
		failed = append(failed, categoriesMatter(w, classifiers, tolerance)...)
	}
	if len(regressors) > 0 {
		fmt.Fprintf(w, "\nregressors: R² and RMSE\n\n")
		fmt.Fprintf(w, "%-12s %7s %7s  %-24s  %-17s  %-9s  %s\n", "", "train", "holdout", "R²", "RMSE", "n_iter", "train time")
		fmt.Fprintf(w, "%-12s %7s %7s  %7s %7s %8s  %8s %8s  %4s %4s  %7s %7s\n", "data set", "rows", "rows",
			"ours", "sklearn", "diff", "ours", "sklearn", "ours", "skl", "ours", "sklearn")
		for _, r := range regressors {
			d := r.ours.r2 - r.theirs.r2
			over(r.set.name, "R²", d)
			failed = append(failed, earlyStops(r)...)
			fmt.Fprintf(w, "%-12s %7d %7d  %7.4f %7.4f %+8.4f  %8.4f %8.4f  %4s %4s  %7s %7s\n", r.set.name, r.trainRows, r.holdRows,
				r.ours.r2, r.theirs.r2, d, r.ours.rmse, r.theirs.rmse,
				iterations(r.ours), iterations(r.theirs), seconds(r.ours.duration), seconds(r.theirs.duration))
		}
	}
	fmt.Fprintln(w)
	for _, r := range results {
		fmt.Fprintf(w, "%s: %s\n", r.set.name, r.set.title)
		fmt.Fprintf(w, "  %d rows from %s; holdout the last %.1f%% in time", r.rows, r.set.topic, 100*r.holdout)
		if r.set.task == binaryTask {
			fmt.Fprintf(w, " (positives: %d train, %d holdout)", r.trainPositive, r.holdPositive)
		}
		fmt.Fprintf(w, "\n  %s\n  ours: %s\n  sklearn: %s\n", r.set.derivation, r.ours.params, r.theirs.params)
		if len(r.categories) > 0 {
			var sizes []string
			for _, t := range r.categories {
				sizes = append(sizes, fmt.Sprintf("%s %d", t.feature, len(t.categories)))
			}
			fmt.Fprintf(w, "  categories, learnt from the training rows, the same on both sides: %s\n", strings.Join(sizes, ", "))
		}
		if n := r.numericOnly; n != nil {
			fmt.Fprintf(w, "  numeric only: the same model on %s alone\n", strings.Join(n.set.features, ", "))
		}
	}
	fmt.Fprintf(w, "n_iter: boosting iterations grown (ours fit.Result.Fit, sklearn's n_iter_); * early stopping ended the fit\n")
	fmt.Fprintf(w, "train time: ours is fit.Fit (fit, ONNX export, ONNX Runtime evaluation and parity check);\n")
	fmt.Fprintf(w, "scikit-learn's is fit only (vectorising included for text)\n")
	if len(failed) > 0 {
		fmt.Fprintf(w, "\nFAIL: over the %.2f tolerance, no early stop where the set needs one, or categories that add nothing: %v\n", tolerance, failed)
		return fmt.Errorf("%w (%.2f): %v", errTolerance, tolerance, failed)
	}
	fmt.Fprintf(w, "\nok: every difference within %.2f\n", tolerance)
	return nil
}

// categoriesMatter prints, for each set with a numeric-only twin, the ROC
// AUC the categorical features add on each side, and names the sets where
// they add no more than tolerance on a side: there the comparison would
// not show that categories are learnt.
func categoriesMatter(w io.Writer, results []result, tolerance float64) []string {
	var failed []string
	header := false
	for _, r := range results {
		n := r.numericOnly
		if n == nil {
			continue
		}
		if !header {
			fmt.Fprintf(w, "\nwhat the categorical features add: holdout ROC AUC with them, and numeric only\n\n")
			header = true
		}
		var parts []string
		for _, s := range []struct {
			name       string
			with, wout side
		}{{"ours", r.ours, n.ours}, {"sklearn", r.theirs, n.theirs}} {
			gain := s.with.auc - s.wout.auc
			parts = append(parts, fmt.Sprintf("%s %.4f against %.4f (%+.4f)", s.name, s.with.auc, s.wout.auc, gain))
			if !s.with.hasAUC || !s.wout.hasAUC || gain <= tolerance || math.IsNaN(gain) {
				failed = append(failed, fmt.Sprintf("%s: the categories add %+.4f AUC to %s", r.set.name, gain, s.name))
			}
		}
		fmt.Fprintf(w, "%-14s %s\n", r.set.name, strings.Join(parts, "; "))
	}
	return failed
}

func iterations(s side) string {
	if s.iterations == 0 {
		return "-"
	}
	if s.stopped {
		return fmt.Sprintf("%d*", s.iterations)
	}
	return fmt.Sprint(s.iterations)
}

// earlyStops names the sides of an early-stopping set that ran to their
// last iteration.
func earlyStops(r result) []string {
	if !r.set.earlyStops {
		return nil
	}
	var failed []string
	for _, s := range []struct {
		name string
		side side
	}{{"ours", r.ours}, {"sklearn", r.theirs}} {
		if !s.side.stopped {
			failed = append(failed, fmt.Sprintf("%s: %s did not stop early (n_iter %d)", r.set.name, s.name, s.side.iterations))
		}
	}
	return failed
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }
