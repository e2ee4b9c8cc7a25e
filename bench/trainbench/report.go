package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// report prints the settings and one line per library: median wall time,
// every run's wall time, median CPU time, holdout ROC AUC; then the ratio of
// the medians.
func report(w io.Writer, o options, results []result) {
	fmt.Fprintf(w, "\nGBDT fit of %d rows x %d features; both libraries: %d trees of depth %d (no leaf cap),\n",
		o.rows, numFeatures, o.trees, o.depth)
	fmt.Fprintf(w, "255 bins + 1 for missing values, learning rate 0.1, at least 20 rows per leaf, no L2,\n")
	fmt.Fprintf(w, "early stopping off, bin edges from 200k sampled rows, %d threads (GOMAXPROCS, OMP_NUM_THREADS);\n", o.threads)
	fmt.Fprintf(w, "time of the fit alone, binning included, data already in memory; %d runs each, taking turns.\n\n", o.runs)
	fmt.Fprintf(w, "%-28s %10s  %-24s %10s  %11s\n", "", "median s", "runs (s)", "CPU s", "holdout AUC")
	for _, r := range results {
		wall, cpu := median(r.timings, func(t timing) time.Duration { return t.wall }), median(r.timings, func(t timing) time.Duration { return t.cpu })
		var runs []string
		for _, t := range r.timings {
			runs = append(runs, fmt.Sprintf("%.2f", t.wall.Seconds()))
		}
		fmt.Fprintf(w, "%-28s %10.2f  %-24s %10.2f  %11.4f\n", r.name, wall.Seconds(), strings.Join(runs, " "), cpu.Seconds(), r.auc)
	}
	if len(results) == 2 {
		goWall := median(results[0].timings, func(t timing) time.Duration { return t.wall })
		skWall := median(results[1].timings, func(t timing) time.Duration { return t.wall })
		fmt.Fprintf(w, "\nGo median / scikit-learn median: %.2f (below 1: Go is faster)\n", goWall.Seconds()/skWall.Seconds())
	}
}

func median(ts []timing, get func(timing) time.Duration) time.Duration {
	values := make([]time.Duration, len(ts))
	for i, t := range ts {
		values[i] = get(t)
	}
	slices.Sort(values)
	n := len(values)
	if n%2 == 1 {
		return values[n/2]
	}
	return (values[n/2-1] + values[n/2]) / 2
}
