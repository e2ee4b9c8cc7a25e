package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// historyTarget is what issue 11 asks of the trainer at one history size;
// a zero bound is no target.
type historyTarget struct {
	records int
	maxWall time.Duration // median wall time, start to exit
	maxRSS  int64         // highest peak RSS over the runs, bytes
}

var historyTargets = []historyTarget{
	{records: 1_000_000, maxRSS: 400 << 20},
	{records: 10_000_000, maxWall: 2 * time.Minute, maxRSS: 1536 << 20}, // 1.5 GiB
}

// verdict is one checked figure.
type verdict struct {
	what, measured string
	pass           bool
}

// verdicts checks every size: all runs exit 0 having read every record,
// and the targets of its size.
func (s historySize) verdicts() []verdict {
	label := formatCount(s.records)
	var out []verdict
	complete := len(s.runs) > 0
	var problems []string
	for i, r := range s.runs {
		if !r.ok() {
			complete = false
			problems = append(problems, fmt.Sprintf("run %d failed", i+1))
		} else if r.records != s.records || r.skipped != 0 || r.rows != s.records {
			complete = false
			problems = append(problems, fmt.Sprintf("run %d read %d, skipped %d, fitted %d rows", i+1, r.records, r.skipped, r.rows))
		} else if r.iterations != 0 && r.iterations != historyIterations {
			complete = false
			problems = append(problems, fmt.Sprintf("run %d grew %d iterations", i+1, r.iterations))
		}
	}
	measured := fmt.Sprintf("%d of %d runs", len(s.runs), len(s.runs))
	if !complete {
		measured = strings.Join(problems, "; ")
	}
	out = append(out, verdict{fmt.Sprintf("%s: every run exits 0, every record a row, %d iter.", label, historyIterations), measured, complete})
	i := slices.IndexFunc(historyTargets, func(t historyTarget) bool { return t.records == s.records })
	if i < 0 {
		return out
	}
	t := historyTargets[i]
	incomplete := ""
	if !complete {
		incomplete = " (failed run)"
	}
	if t.maxWall > 0 {
		wall := s.medianWall()
		out = append(out, verdict{
			fmt.Sprintf("%s: read, fit, check, publish < %.0f s (median)", label, t.maxWall.Seconds()),
			fmt.Sprintf("%.1f s%s", wall.Seconds(), incomplete), complete && wall < t.maxWall,
		})
	}
	if t.maxRSS > 0 {
		rss := s.maxRSS()
		measured := fmt.Sprintf("%d MiB%s", rss>>20, incomplete)
		if slices.ContainsFunc(s.runs, func(r trainerRun) bool { return r.killed }) {
			measured = fmt.Sprintf("> %d MiB (killed)", rss>>20)
		}
		out = append(out, verdict{
			fmt.Sprintf("%s: peak RSS < %d MiB (highest run)", label, t.maxRSS>>20),
			measured, complete && rss < t.maxRSS,
		})
	}
	return out
}

func (s historySize) medianWall() time.Duration {
	ts := make([]timing, len(s.runs))
	for i, r := range s.runs {
		ts[i] = timing{wall: r.wall, cpu: r.cpu}
	}
	return median(ts, func(t timing) time.Duration { return t.wall })
}

func (s historySize) maxRSS() int64 {
	var m int64
	for _, r := range s.runs {
		m = max(m, r.peakRSS)
	}
	return m
}

// report prints the settings, one line per size and one per checked
// figure; it returns whether every figure passed.
func (h *historyResult) report(w io.Writer, o historyOptions) bool {
	fmt.Fprintf(w, "\nHistory: N records x %d double features + an int label, Confluent-framed Avro, produced\n", numFeatures)
	fmt.Fprintf(w, "with franz-go to kfake (cmd/stack in its own process, memory only, %d partitions, compression: %s),\n", o.partitions, o.compression)
	fmt.Fprintf(w, "then the real `trainer train` binary on one job over the whole topic: gbdt, params %s,\n", h.params)
	if h.params == paramsLegacy {
		fmt.Fprintf(w, "(this trainer refused %s: its own early stopping default applied),\n", paramsSklearn)
	}
	fmt.Fprintf(w, "default holdout (the last 20%% in time), a new catalog topic on the same broker per run.\n")
	if o.memoryLimitMiB > 0 {
		fmt.Fprintf(w, "The trainer runs with -memory-limit-mb %d (Go's soft memory limit) and its default -gc-percent.\n", o.memoryLimitMiB)
	} else {
		fmt.Fprintf(w, "The trainer runs at its defaults: -gc-percent 25, no Go memory limit (GOGC and GOMEMLIMIT dropped).\n")
	}
	fmt.Fprintf(w, "wall: trainer process start to exit (read, fit, parity check, publish); CPU and peak RSS:\n")
	fmt.Fprintf(w, "the trainer's own, from wait4 (ru_maxrss); broker CPU: the stack's meanwhile. Produce time apart.\n")
	fmt.Fprintf(w, "read: start to the log's \"training data read\"; fit: the fit as logged; CPU, broker, read, fit: means;\n")
	fmt.Fprintf(w, "at read: the most RSS sampled (50 ms) until the read ended, highest run.\n\n")
	fmt.Fprintf(w, "%11s %9s  %-18s %7s %7s %7s %7s %7s %9s %8s %11s %5s %7s\n",
		"records", "produce s", "wall s of each run", "median", "read s", "fit s", "CPU s", "broker",
		"peak MiB", "at read", "rows", "iter", "AUC")
	for _, s := range h.sizes {
		var walls []string
		var cpu, broker, read, fit time.Duration
		var readRSS int64
		for _, r := range s.runs {
			readRSS = max(readRSS, r.readRSS)
			walls = append(walls, fmt.Sprintf("%.1f", r.wall.Seconds()))
			cpu += r.cpu
			broker += r.brokerCPU
			read += r.read
			fit += r.fit
		}
		last := s.runs[len(s.runs)-1]
		n := time.Duration(len(s.runs))
		iterations := "?" // a trainer that does not log them
		if last.iterations > 0 {
			iterations = fmt.Sprint(last.iterations)
		}
		fmt.Fprintf(w, "%11s %9.1f  %-18s %7.1f %7.1f %7.1f %7.1f %7.1f %9d %8d %11d %5s %7.4f\n",
			formatCount(s.records), s.produce.Seconds(), strings.Join(walls, " "), s.medianWall().Seconds(),
			(read / n).Seconds(), (fit / n).Seconds(), (cpu / n).Seconds(), (broker / n).Seconds(),
			s.maxRSS()>>20, readRSS>>20, last.rows, iterations, last.auc)
	}
	fmt.Fprintln(w)
	checks, failed := 0, 0
	for _, s := range h.sizes {
		for _, v := range s.verdicts() {
			result := "PASS"
			if !v.pass {
				result = "FAIL"
				failed++
			}
			checks++
			fmt.Fprintf(w, "%-62s %-24s %s\n", v.what, v.measured, result)
		}
	}
	fmt.Fprintf(w, "%d of %d checks failed\n", failed, checks)
	var held historySize
	for _, s := range h.sizes {
		if s.records >= held.records {
			held = s
		}
	}
	fmt.Fprintf(w, "\nbroker (kfake): %s resident once %s records were produced, peak %s over the part\n",
		mib(held.brokerRSS), formatCount(held.records), mib(h.brokerPeak))
	for _, s := range h.sizes {
		for i, r := range s.runs {
			if !r.ok() {
				fmt.Fprintf(w, "%s records, run %d: %s\n", formatCount(s.records), i+1, r.failure)
			}
		}
	}
	return failed == 0
}

// formatCount writes n with thousands separators: 10,000,000.
func formatCount(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
