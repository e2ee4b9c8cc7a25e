// Command eval trains streamscore's models on nine comparisons over six real data sets through
// the trainer's Kafka path and compares them with scikit-learn on exactly
// the same split, in one run: `make eval`.
//
// Two of them (damage and night) read the bird strikes as a producer
// reports them (schemas/birdstrike_report.avsc): eight categorical columns
// as strings and enums, which the trainer reads as categories by their
// schema types, as a job does, and scikit-learn as categorical_features,
// encoded by reference.py with the trainer's rule (the run checks the two
// sides' category tables are equal). Each is fitted again on both sides
// with only its numeric feature, to show what the categories add: the run
// fails unless they add more than the tolerance to ROC AUC on both sides.
// A third, the four-class time-of-day, is a multiclass one.
//
// It starts the embedded broker and registry in a temporary directory,
// registers each set's schema (schemas/*.avsc), produces each data set to
// its topic (Confluent framing, record timestamps = event time), reads each
// topic back with jobs.Read, and fits with fit.Fit. The rows the
// trainer read, in its order and with its train/holdout split, go to
// /usr/bin/python3 running bench/eval/reference.py, which fits scikit-learn's
// counterpart. Both sides run at their defaults: the trainer is given only
// the fields, the label and (for one set) the holdout, and scikit-learn's
// estimators only random_state=0, so that its early stopping draws the same
// validation rows on every run (-random-state gives both sides another). The tables show, on the holdout, ROC AUC
// and F1 for classifiers (macro one-vs-rest for multiclass) and R² and RMSE
// for regressors, the differences, the boosting iterations each side grew
// (marked where early stopping ended the fit) and the training times; the
// command exits 1 if a difference exceeds -tolerance, or if a side of an
// early-stopping set (the syllables regression and the miscounts
// classifier, above 10,000 training rows) runs to its last iteration.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

type options struct {
	data        string
	sklearnData string
	schemas     string
	python      string
	reference   string
	sets        []string
	tolerance   float64
	keep        bool
	randomState uint64
}

func main() {
	o := options{}
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.StringVar(&o.data, "data", ".cache/datasets", "where scripts/datasets.sh unpacked the data sets")
	fs.StringVar(&o.sklearnData, "sklearn-data", "/usr/lib/python3/dist-packages/sklearn/datasets", "scikit-learn's bundled data sets (Debian's python3-sklearn), for digits")
	fs.StringVar(&o.schemas, "schemas", "schemas", "directory of the .avsc files")
	fs.StringVar(&o.python, "python", "/usr/bin/python3", "Python with scikit-learn (Debian's python3-sklearn)")
	fs.StringVar(&o.reference, "reference", "bench/eval/reference.py", "the scikit-learn side")
	sets := fs.String("sets", strings.Join(setNames(), ","), "data sets to evaluate, comma-separated")
	fs.Float64Var(&o.tolerance, "tolerance", 0.01, "largest AUC, F1 or R² difference from scikit-learn that passes")
	fs.Uint64Var(&o.randomState, "random-state", 0, "random_state of both sides' gbdt (early stopping's validation rows, bin sampling)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (broker data, the rows given to Python)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	o.sets = strings.Split(*sets, ",")
	for _, s := range o.sets {
		if _, ok := dataSets[s]; !ok {
			fmt.Fprintf(os.Stderr, "eval: unknown data set %q (have %s)\n", s, strings.Join(setNames(), ", "))
			os.Exit(2)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("component", "eval")
	if err := run(ctx, o, logger, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "eval:", err)
		os.Exit(1)
	}
}
