// Command scorebench measures the streamscore scorer beside a Python
// consumer (confluent-kafka, avro, scikit-learn) on the same records, in one
// run, on this machine: `make bench`.
//
// The broker and registry run in their own process (cmd/stack), the scorer
// in its own (cmd/scorer), the Python consumer in its own. Each full-speed
// measurement drains a preloaded backlog with a new consumer group and is
// repeated; the table shows medians. Each fixed-rate measurement offers
// records at a steady rate and measures end-to-end latency, from a record's
// creation to its output being readable by a consumer, with one consumer in
// this process for every implementation. The nested part drains backlogs
// of nested records with models that read paths and categories into them,
// taking turns with the flat runs, and prints what a nested record costs
// beside a flat one: the grouped record (the flat one's values in nested
// records, with a site and a status) against issue 13's 15%, the rich one
// (schemas/sensor_reading_nested.avsc, twice the data) for information;
// `-parts nested` runs only that.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

type options struct {
	records       int
	pythonRecords int
	runs          int
	rate          int
	rateFor       time.Duration
	partitions    int
	parts         parts
	skipPython    bool
	keep          bool
	profile       string
	profilePhase  string
	scorerFlags   []string
}

func main() {
	var o options
	fs := flag.NewFlagSet("scorebench", flag.ContinueOnError)
	fs.IntVar(&o.records, "records", 500_000, "backlog drained by the Go scorer at full speed")
	fs.IntVar(&o.pythonRecords, "python-records", 50_000, "backlog drained by each Python run (it is slower)")
	fs.IntVar(&o.runs, "runs", 3, "repetitions of each full-speed measurement; medians are shown")
	fs.IntVar(&o.rate, "rate", 1000, "offered records per second in the fixed-rate measurement")
	fs.DurationVar(&o.rateFor, "rate-for", 15*time.Second, "how long records are offered at that rate")
	fs.IntVar(&o.partitions, "partitions", 3, "partitions of every topic")
	o.parts, _ = parseParts("all")
	fs.Func("parts", "parts to run, comma separated: "+joinParts(allParts)+" (default all)", func(s string) (err error) {
		o.parts, err = parseParts(s)
		return err
	})
	fs.BoolVar(&o.skipPython, "skip-python", false, "leave out the python part")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory")
	fs.StringVar(&o.profile, "profile", "", "write a CPU profile of the busy scorer to this file")
	fs.StringVar(&o.profilePhase, "profile-phase", "go-full", "profile the first scorer whose consumer group starts so: go-full, go-noguard, go-grouped, go-flatmodel (nested records, flat model), go-nested, go-eos or go-live")
	fs.Func("scorer-flags", "extra flags for every scorer run, space separated (e.g. \"-gc-percent=200\")", func(s string) error {
		o.scorerFlags = strings.Fields(s)
		return nil
	})
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if o.skipPython {
		delete(o.parts, partPython)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "scorebench:", err)
		os.Exit(1)
	}
}
