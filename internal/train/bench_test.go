package train

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// BenchmarkFit fits 100 rounds on 100k rows of 10 features, without early
// stopping so that every variant grows 100 trees: the default trees of 31
// leaves grown best-first, and trees grown to depth 6 (up to 64 leaves), the
// shape the ensemble had before best-first growth.
func BenchmarkFit(b *testing.B) {
	for _, obj := range []Objective{BinaryLogLoss, SquaredError} {
		for _, shape := range benchShapes {
			b.Run(obj.String()+"/"+shape.name, func(b *testing.B) {
				benchmarkFit(b, syntheticData(b, obj, 100_000, 31), shape.config(obj))
			})
		}
	}
}

// BenchmarkFit1M is BenchmarkFit's classifier on a million rows.
func BenchmarkFit1M(b *testing.B) {
	data := syntheticData(b, BinaryLogLoss, 1_000_000, 31)
	for _, shape := range benchShapes {
		b.Run(shape.name, func(b *testing.B) { benchmarkFit(b, data, shape.config(BinaryLogLoss)) })
	}
}

// BenchmarkFitCategorical is BenchmarkFit's classifier on 100k rows of
// mixed data: three numeric features and two categorical ones, of 42 and 7
// codes, split on sets of categories (codes=sets) and, for comparison, the
// same columns all taken as numbers (codes=numbers).
func BenchmarkFitCategorical(b *testing.B) {
	data := mixedData(b, BinaryLogLoss, 100_000, 31)
	numeric, err := NewDataset(data.features, data.numFeatures, data.labels)
	if err != nil {
		b.Fatal(err)
	}
	for _, variant := range []struct {
		name string
		data *Dataset
	}{{"codes=sets", data}, {"codes=numbers", numeric}} {
		for _, shape := range benchShapes {
			b.Run(variant.name+"/"+shape.name, func(b *testing.B) { benchmarkFit(b, variant.data, shape.config(BinaryLogLoss)) })
		}
	}
}

// benchShape is a shape of tree a benchmark grows.
type benchShape struct {
	name             string
	leaves, maxDepth int
}

var benchShapes = []benchShape{
	{"leaves=31", 31, 0},
	{"depth=6", 0, 6},
}

// config returns the default configuration for obj with the shape's
// limits, 100 rounds and no early stopping.
func (s benchShape) config(obj Objective) Config {
	cfg := configFor(obj, 100)
	cfg.MaxLeafNodes, cfg.MaxDepth = s.leaves, s.maxDepth
	cfg.EarlyStopping = EarlyStoppingOff
	return cfg
}

func benchmarkFit(b *testing.B, data *Dataset, cfg Config) {
	cpu := startCPUClock()
	for b.Loop() {
		if _, err := Fit(context.Background(), cfg, data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(cpu.elapsed().Seconds()/float64(b.N), "cpu-s/op")
}

// benchEnsemble fits a default classifier: 100 trees of up to 31 leaves
// on 10 features.
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
