package main

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"time"
)

// report prints the comparison and returns errTolerance if a metric of
// streamscore differs from scikit-learn's by more than tolerance.
func report(w io.Writer, results []result, tolerance float64) error {
	fmt.Fprintf(w, "\nstreamscore trainer vs scikit-learn, same rows, same time-ordered split, %d CPUs\n\n", runtime.NumCPU())
	fmt.Fprintf(w, "%-8s %7s %7s  %-24s  %-24s  %s\n", "", "train", "holdout", "ROC AUC", "F1", "train time")
	fmt.Fprintf(w, "%-8s %7s %7s  %7s %7s %8s  %7s %7s %8s  %9s %9s\n", "data set", "rows", "rows",
		"ours", "sklearn", "diff", "ours", "sklearn", "diff", "ours", "sklearn")
	var failed []string
	for _, r := range results {
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
			if math.Abs(d) > tolerance {
				failed = append(failed, fmt.Sprintf("%s AUC %+.4f", r.set.name, d))
			}
		} else if r.ours.hasAUC != r.theirs.hasAUC {
			failed = append(failed, r.set.name+" AUC defined on one side only")
		}
		f1Diff := r.ours.f1 - r.theirs.f1
		if math.Abs(f1Diff) > tolerance {
			failed = append(failed, fmt.Sprintf("%s F1 %+.4f", r.set.name, f1Diff))
		}
		fmt.Fprintf(w, "%-8s %7d %7d  %7s %7s %8s  %7.4f %7.4f %+8.4f  %9s %9s\n", r.set.name, r.trainRows, r.holdRows,
			aucOurs, aucTheirs, aucDiff, r.ours.f1, r.theirs.f1, f1Diff, seconds(r.ours.duration), seconds(r.theirs.duration))
	}
	fmt.Fprintln(w)
	for _, r := range results {
		fmt.Fprintf(w, "%s: %s\n", r.set.name, r.set.title)
		fmt.Fprintf(w, "  %d rows from %s; holdout the last %.1f%% in time (positives: %d train, %d holdout); params %s\n",
			r.rows, r.set.topic, 100*r.holdout, r.trainPositive, r.holdPositive, r.params)
	}
	fmt.Fprintf(w, "train time: ours is trainer.Fit (fit, ONNX export, ONNX Runtime evaluation and parity check);\n")
	fmt.Fprintf(w, "scikit-learn's is fit only (vectorising included for text)\n")
	if len(failed) > 0 {
		fmt.Fprintf(w, "\nFAIL: over the %.2f tolerance: %v\n", tolerance, failed)
		return fmt.Errorf("%w (%.2f): %v", errTolerance, tolerance, failed)
	}
	fmt.Fprintf(w, "\nok: every difference within %.2f\n", tolerance)
	return nil
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }
