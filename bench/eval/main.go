// Command eval trains streamscore's models on two real data sets through
// the trainer's Kafka path and compares them with scikit-learn on exactly
// the same split, in one run: `make eval`.
//
// It starts the embedded broker and registry in a temporary directory,
// registers schemas/sensor_network.avsc and schemas/mail.avsc, produces
// each data set to its topic (Confluent framing, record timestamps = event
// time), reads each topic back with trainer.Read, and fits with
// trainer.Fit. The rows the trainer read, in its order and with its
// train/holdout split, go to /usr/bin/python3 running bench/eval/reference.py,
// which fits scikit-learn's counterpart with the same parameters. The table
// shows ROC AUC and F1 on the holdout for both, the differences and the
// training times; the command exits 1 if a difference exceeds -tolerance.
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
	data      string
	schemas   string
	python    string
	reference string
	sets      []string
	tolerance float64
	keep      bool
}

func main() {
	o := options{}
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.StringVar(&o.data, "data", ".cache/datasets", "where scripts/datasets.sh unpacked the data sets")
	fs.StringVar(&o.schemas, "schemas", "schemas", "directory of the .avsc files")
	fs.StringVar(&o.python, "python", "/usr/bin/python3", "Python with scikit-learn (Debian's python3-sklearn)")
	fs.StringVar(&o.reference, "reference", "bench/eval/reference.py", "the scikit-learn side")
	sets := fs.String("sets", strings.Join(setNames(), ","), "data sets to evaluate, comma-separated")
	fs.Float64Var(&o.tolerance, "tolerance", 0.01, "largest AUC or F1 difference from scikit-learn that passes")
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
