// Command trainbench times the Go gradient-boosted trees beside
// scikit-learn's HistGradientBoostingClassifier on the same data, in one
// run, on this machine: `make bench-train`.
//
// It generates a deterministic binary task (1M training rows of 10
// features by default, and a holdout set), fits the Go ensemble several
// times, writes the rows to a temporary binary file that numpy reads, and
// has /usr/bin/python3 fit scikit-learn as many times with the same
// settings: trees, depth, leaves, bins, learning rate, minimum leaf size,
// no L2, early stopping off, and the same number of threads. It prints the
// median wall time of each, every run's time, the CPU time, and each
// model's holdout ROC AUC.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

type options struct {
	rows        int
	holdoutRows int
	runs        int
	trees       int
	depth       int
	threads     int
	python      string
	skipPython  bool
	cpuProfile  string
}

func main() {
	var o options
	fs := flag.NewFlagSet("trainbench", flag.ContinueOnError)
	fs.IntVar(&o.rows, "rows", 1_000_000, "training rows")
	fs.IntVar(&o.holdoutRows, "holdout-rows", 200_000, "holdout rows the ROC AUC is measured on")
	fs.IntVar(&o.runs, "runs", 3, "fits of each library; medians are shown")
	fs.IntVar(&o.trees, "trees", 100, "boosting rounds of both libraries")
	fs.IntVar(&o.depth, "depth", 6, "depth of every tree, in both libraries")
	fs.IntVar(&o.threads, "threads", runtime.NumCPU(), "threads of both libraries: GOMAXPROCS and OMP_NUM_THREADS")
	fs.StringVar(&o.python, "python", "/usr/bin/python3", "Python with numpy and scikit-learn")
	fs.BoolVar(&o.skipPython, "skip-python", false, "time the Go ensemble only")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the Go fits to this file")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if o.rows < 1 || o.holdoutRows < 1 || o.runs < 1 || o.trees < 1 || o.depth < 1 || o.threads < 1 {
		fmt.Fprintln(os.Stderr, "trainbench: -rows, -holdout-rows, -runs, -trees, -depth and -threads must be positive")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "trainbench:", err)
		os.Exit(1)
	}
}
