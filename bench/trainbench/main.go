// Command trainbench measures training on this machine, in two parts, both
// run by default (`make bench-train`; -parts chooses):
//
// compare times the Go gradient-boosted trees beside scikit-learn's
// HistGradientBoostingClassifier on the same data, in one run. It generates
// a deterministic binary task (1M training rows of 10 features by default,
// and a holdout set), fits the Go ensemble several times, writes the rows
// to a temporary binary file that numpy reads, and has /usr/bin/python3 fit
// scikit-learn as many times with the same settings: trees, depth, leaves,
// bins, learning rate, minimum leaf size, no L2, early stopping off, and
// the same number of threads. It prints the median wall time of each, every
// run's time, the CPU time, and each model's holdout ROC AUC.
//
// history times the trainer over long histories, as a user runs it: it
// starts the broker and registry (cmd/stack) in a process of their own,
// produces 1M and then 10M rows of the same task to a topic, and runs the
// real `trainer train` binary on each (gbdt, 100 iterations), measuring the
// process from start to exit: wall and CPU time, peak RSS (wait4's
// ru_maxrss), records read and holdout ROC AUC. It checks issue 11's
// targets: 10M records read, fitted, checked and published in under 2
// minutes within 1.5 GiB, 1M within 400 MiB.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

type options struct {
	parts       []string
	rows        int
	holdoutRows int
	runs        int
	trees       int
	depth       int
	threads     int
	python      string
	skipPython  bool
	cpuProfile  string
	history     historyOptions
}

func main() {
	var o options
	fs := flag.NewFlagSet("trainbench", flag.ContinueOnError)
	parts := fs.String("parts", "compare,history", "parts to run: compare (Go beside scikit-learn, in memory), history (the trainer over a topic)")
	fs.IntVar(&o.rows, "rows", 1_000_000, "compare: training rows")
	fs.IntVar(&o.holdoutRows, "holdout-rows", 200_000, "compare: holdout rows the ROC AUC is measured on")
	fs.IntVar(&o.runs, "runs", 3, "compare: fits of each library; medians are shown")
	fs.IntVar(&o.trees, "trees", 100, "compare: boosting rounds of both libraries")
	fs.IntVar(&o.depth, "depth", 6, "compare: depth of every tree, in both libraries")
	fs.IntVar(&o.threads, "threads", runtime.NumCPU(), "compare: threads of both libraries: GOMAXPROCS and OMP_NUM_THREADS")
	fs.StringVar(&o.python, "python", "/usr/bin/python3", "compare: Python with numpy and scikit-learn")
	fs.BoolVar(&o.skipPython, "skip-python", false, "compare: time the Go ensemble only")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "compare: write a CPU profile of the Go fits to this file")
	historyRecords := fs.String("history-records", "1000000,10000000", "history: sizes of the histories, comma-separated")
	fs.IntVar(&o.history.runs, "history-runs", 1, "history: trainer runs per size; the median wall time is checked")
	fs.IntVar(&o.history.partitions, "history-partitions", 4, "history: partitions of the topic")
	fs.StringVar(&o.history.compression, "history-compression", "none", "history: compression of the produced batches, none or lz4")
	rssLimit := fs.Int64("history-rss-limit-mib", 6144, "history: kill a trainer whose RSS passes this, to spare the machine (the run fails)")
	fs.IntVar(&o.history.memoryLimitMiB, "history-memory-limit-mib", 0, "history: the trainer's -memory-limit-mb (0: none, the trainer's default)")
	fs.StringVar(&o.history.params, "history-params", "", `history: gbdt params JSON (default `+paramsSklearn+`, or `+paramsLegacy+` for a trainer without those names)`)
	fs.BoolVar(&o.history.keep, "keep", false, "history: keep the work directory, with the trainer's logs")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	o.parts = strings.Split(*parts, ",")
	o.history.rssLimit = *rssLimit << 20
	if err := o.validate(*historyRecords); err != nil {
		fmt.Fprintln(os.Stderr, "trainbench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runParts(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "trainbench:", err)
		os.Exit(1)
	}
}

func (o *options) validate(historyRecords string) error {
	for _, p := range o.parts {
		if p != "compare" && p != "history" {
			return fmt.Errorf("-parts: %q is neither compare nor history", p)
		}
	}
	if o.rows < 1 || o.holdoutRows < 1 || o.runs < 1 || o.trees < 1 || o.depth < 1 || o.threads < 1 {
		return fmt.Errorf("-rows, -holdout-rows, -runs, -trees, -depth and -threads must be positive")
	}
	for _, s := range strings.Split(historyRecords, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-history-records: %q is not a positive count", s)
		}
		o.history.records = append(o.history.records, n)
	}
	if o.history.runs < 1 || o.history.partitions < 1 || o.history.rssLimit < 1 {
		return fmt.Errorf("-history-runs, -history-partitions and -history-rss-limit-mib must be positive")
	}
	if o.history.memoryLimitMiB < 0 {
		return fmt.Errorf("-history-memory-limit-mib: %d is negative", o.history.memoryLimitMiB)
	}
	if _, err := compressionCodec(o.history.compression); err != nil {
		return err
	}
	return nil
}

// runParts runs the parts asked for: compare (run, in run.go), then history.
func runParts(ctx context.Context, o options) error {
	if slices.Contains(o.parts, "compare") {
		if err := run(ctx, o); err != nil {
			return err
		}
	}
	if slices.Contains(o.parts, "history") {
		res, err := runHistory(ctx, o.history)
		if err != nil {
			return err
		}
		res.report(os.Stdout, o.history)
	}
	return nil
}
