package main

import (
	"fmt"
	"io"
	"runtime"
	"time"
)

// report is what the benchmark prints: the parts that ran.
type report struct {
	parts                              parts
	records, pythonRecords, runs, rate int
	rateFor                            time.Duration
	goFull, goNoGuard, goEOS, goRate   measurement
	goNoMonitor                        measurement
	pyFull, pyRate                     []measurement // single, then batch
	nested                             nestedReport
}

var pythonNames = []string{"Python, one record at a time", "Python, batches of 128"}

func (r report) print(w io.Writer) {
	fmt.Fprintf(w, "\nstreamscore benchmark: io.streamscore.sensors.SensorReading records, 100-tree depth-6 GBDT, %d CPUs (parts: %s)\n", runtime.NumCPU(), r.parts)
	if r.parts[partPython] {
		fmt.Fprintf(w, "Python: confluent-kafka + avro + scikit-learn GradientBoostingClassifier of the same shape\n")
	}
	fmt.Fprintln(w)
	if r.parts[partFull] || r.parts[partEOS] || r.parts[partPython] {
		r.printFull(w)
	}
	if r.parts[partRate] || r.parts[partPython] {
		r.printRate(w)
	}
	if r.parts[partNested] {
		r.nested.print(w, r.runs, r.records)
		fmt.Fprintln(w)
	}
}

func (r report) printFull(w io.Writer) {
	fmt.Fprintf(w, "Full speed: drain a backlog, median of %d runs (Go %d records, Python %d)\n", r.runs, r.records, r.pythonRecords)
	fmt.Fprintf(w, "  %-34s %12s %16s %10s %22s %12s\n", "implementation", "records/s", "CPU us/record", "Go is", "poll-to-ack p50/p99 ms", "peak RSS MB")
	row := func(name string, m measurement) {
		processing := "-"
		if m.processing[1] > 0 {
			processing = fmt.Sprintf("%.2f / %.2f", ms(m.processing[0]), ms(m.processing[1]))
		}
		goIs := "-"
		if r.goFull.records > 0 {
			goIs = fmt.Sprintf("%.1fx", r.goFull.rate()/m.rate())
		}
		fmt.Fprintf(w, "  %-34s %12.0f %16.1f %10s %22s %12.0f\n", name, m.rate(), m.cpuPerRecord(), goIs, processing, float64(m.peakRSS)/(1<<20))
	}
	if r.parts[partFull] {
		row("streamscore (Go, ONNX Runtime)", r.goFull)
		row("streamscore, avro guard compiled out", r.goNoGuard)
		row("streamscore, monitoring off", r.goNoMonitor)
	}
	if r.parts[partEOS] {
		row("streamscore, exactly-once", r.goEOS)
	}
	for i, m := range r.pyFull {
		row(pythonNames[i], m)
	}
	fmt.Fprintf(w, "  (a backlog's end-to-end latency is its time in the queue; poll-to-ack is the scorer's own share;\n")
	fmt.Fprintf(w, "   exactly-once: transactions of 100 ms, records/s counts committed outputs)\n")
	if r.parts[partFull] {
		fmt.Fprintf(w, "  avro guard: %.1f%% of throughput (%.0f records/s with it, %.0f without; their runs taken in turns)\n",
			100*(1-r.goFull.rate()/r.goNoGuard.rate()), r.goFull.rate(), r.goNoGuard.rate())
		fmt.Fprintf(w, "  drift monitoring against a reference profile: %.1f%% of throughput, %.1f%% of CPU per record (target at most 5%%; -monitor=false: %.0f records/s)\n",
			100*(1-r.goFull.rate()/r.goNoMonitor.rate()), 100*(r.goFull.cpuPerRecord()/r.goNoMonitor.cpuPerRecord()-1), r.goNoMonitor.rate())
	}
	fmt.Fprintln(w)
}

func (r report) printRate(w io.Writer) {
	fmt.Fprintf(w, "Fixed rate: %d records/s offered for %v; latency from record creation to output readable\n", r.rate, r.rateFor)
	fmt.Fprintf(w, "  %-34s %12s %16s %10s %10s %12s\n", "implementation", "records", "CPU us/record", "p50 ms", "p99 ms", "peak RSS MB")
	latency := func(name string, m measurement) {
		fmt.Fprintf(w, "  %-34s %12d %16.1f %10.2f %10.2f %12.0f\n", name, m.records, m.cpuPerRecord(),
			ms(m.percentile(0.50)), ms(m.percentile(0.99)), float64(m.peakRSS)/(1<<20))
	}
	if r.parts[partRate] {
		latency("streamscore (Go, ONNX Runtime)", r.goRate)
	}
	for i, m := range r.pyRate {
		latency(pythonNames[i], m)
	}
	fmt.Fprintln(w)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
