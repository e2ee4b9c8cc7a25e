package train

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// BenchmarkFit fits the default configuration (100 trees of depth 6) on
// 100k rows of 10 features.
func BenchmarkFit(b *testing.B) {
	for _, obj := range []Objective{BinaryLogLoss, SquaredError} {
		b.Run(obj.String(), func(b *testing.B) {
			data := syntheticData(b, obj, 100_000, 31)
			cfg := configFor(obj, 100)
			cpu := startCPUClock()
			for b.Loop() {
				if _, err := Fit(context.Background(), cfg, data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(cpu.elapsed().Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// benchEnsemble fits a default classifier: 100 trees of depth 6 on 10
// features.
func benchEnsemble(b *testing.B) (*Ensemble, []float32) {
	b.Helper()
	ens := fitForTest(b, configFor(BinaryLogLoss, 100), syntheticData(b, BinaryLogLoss, 20_000, 32))
	rows := syntheticData(b, BinaryLogLoss, 4096, 33).features
	return ens, rows
}

// BenchmarkPredict measures the Go predictor's class probabilities, one row
// at a time and in batches of 128.
func BenchmarkPredict(b *testing.B) {
	ens, rows := benchEnsemble(b)
	numRows := len(rows) / ens.NumFeatures
	for _, batch := range []int{1, 128} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			proba := make([]float32, 2*batch)
			i := 0
			cpu := startCPUClock()
			for b.Loop() {
				if i+batch > numRows {
					i = 0
				}
				if err := ens.PredictProbaBatch(rows[i*ens.NumFeatures:(i+batch)*ens.NumFeatures], proba); err != nil {
					b.Fatal(err)
				}
				i += batch
			}
			reportRowsPerSecond(b, batch, cpu)
		})
	}
}

// BenchmarkORT measures the exported classifier in ONNX Runtime on one
// thread, including copying each batch into the input tensor.
func BenchmarkORT(b *testing.B) {
	ens, rows := benchEnsemble(b)
	numRows := len(rows) / ens.NumFeatures
	for _, batch := range []int{1, 128} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			m := newORTModel(b, ens, ens.NumFeatures, batch)
			i := 0
			cpu := startCPUClock()
			for b.Loop() {
				if i+batch > numRows {
					i = 0
				}
				m.run(b, rows[i*ens.NumFeatures:(i+batch)*ens.NumFeatures])
				i += batch
			}
			reportRowsPerSecond(b, batch, cpu)
		})
	}
}

// reportRowsPerSecond reports throughput against wall time and against the
// process's CPU time; on a shared machine the second is the steadier figure.
func reportRowsPerSecond(b *testing.B, batch int, cpu cpuClock) {
	rows := float64(b.N * batch)
	b.ReportMetric(rows/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(rows/cpu.elapsed().Seconds(), "rows/cpu-s")
}

// cpuClock measures the CPU time, user and system, the process has used.
type cpuClock struct{ start time.Duration }

func startCPUClock() cpuClock { return cpuClock{processCPUTime()} }

func (c cpuClock) elapsed() time.Duration { return processCPUTime() - c.start }

func processCPUTime() time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		panic(err)
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}
