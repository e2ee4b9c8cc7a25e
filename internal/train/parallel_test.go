package train

import (
	"math"
	"math/rand/v2"
	"reflect"
	"sync/atomic"
	"testing"
)

func TestParallelForCoversEveryIndexOnce(t *testing.T) {
	tests := []struct {
		name                 string
		workers, n, minChunk int
		wantChunks           int
	}{
		{"empty", 4, 0, 1, 1},
		{"fewer than a chunk", 4, 10, 100, 1},
		{"one worker", 1, 1000, 1, 1},
		{"a chunk per worker", 4, 1000, 1, 4},
		{"chunks limited by size", 8, 1000, 300, 3},
		{"more workers than elements", 8, 3, 1, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counts := make([]atomic.Int32, tt.n)
			var calls atomic.Int32
			seen := make([]bool, tt.wantChunks)
			parallelFor(tt.workers, tt.n, tt.minChunk, func(c, lo, hi int) {
				calls.Add(1)
				seen[c] = true // each chunk index is written by one call only
				if tt.wantChunks > 1 && hi-lo < tt.minChunk {
					t.Errorf("chunk %d [%d, %d) is shorter than %d", c, lo, hi, tt.minChunk)
				}
				for i := lo; i < hi; i++ {
					counts[i].Add(1)
				}
			})
			if got := int(calls.Load()); got != tt.wantChunks || numChunks(tt.workers, tt.n, tt.minChunk) != got {
				t.Errorf("%d calls, numChunks %d; want %d", got, numChunks(tt.workers, tt.n, tt.minChunk), tt.wantChunks)
			}
			for c, ok := range seen {
				if !ok {
					t.Errorf("chunk %d never ran", c)
				}
			}
			for i := range counts {
				if got := counts[i].Load(); got != 1 {
					t.Fatalf("index %d visited %d times", i, got)
				}
			}
		})
	}
}

// TestFitDoesNotDependOnWorkers checks that splitting the work between
// goroutines changes nothing: the same ensemble comes out of one worker
// and of several, on data large enough that every parallel path runs.
func TestFitDoesNotDependOnWorkers(t *testing.T) {
	for _, obj := range []Objective{BinaryLogLoss, MulticlassLogLoss} {
		t.Run(obj.String(), func(t *testing.T) {
			data := syntheticData(t, obj, 3*minParallelRows+17, 71)
			cfg := configFor(obj, 5)
			cfg.Workers = 1
			serial := fitForTest(t, cfg, data)
			for _, workers := range []int{2, 3, 8} {
				cfg.Workers = workers
				if got := fitForTest(t, cfg, data); !reflect.DeepEqual(got, serial) {
					t.Errorf("%d workers: the ensemble differs from one worker's", workers)
				}
			}
		})
	}
}

func TestParallelRowsCoversEveryRowOnce(t *testing.T) {
	tests := []struct {
		name                  string
		workers, n, blockRows int
		wantCalls             int
	}{
		{"empty", 2, 0, 4, 1},
		{"under two blocks", 2, 7, 4, 1},
		{"one worker", 1, 100, 4, 1},
		{"blocks and a short last one", 2, 10, 4, 3},
		{"more workers than blocks", 8, 12, 4, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counts := make([]atomic.Int32, tt.n)
			var calls atomic.Int32
			parallelRows(tt.workers, tt.n, tt.blockRows, func(lo, hi int) {
				calls.Add(1)
				if tt.wantCalls > 1 && hi-lo > tt.blockRows {
					t.Errorf("range [%d, %d) is longer than %d", lo, hi, tt.blockRows)
				}
				for i := lo; i < hi; i++ {
					counts[i].Add(1)
				}
			})
			if got := int(calls.Load()); got != tt.wantCalls {
				t.Errorf("%d calls, want %d", got, tt.wantCalls)
			}
			for i := range counts {
				if got := counts[i].Load(); got != 1 {
					t.Fatalf("row %d visited %d times", i, got)
				}
			}
		})
	}
}

// TestHistogramDoesNotDependOnWorkers checks that a histogram summed in
// several blocks is the same, bit for bit, for any number of workers, and
// that its counts are every row's.
func TestHistogramDoesNotDependOnWorkers(t *testing.T) {
	data := syntheticData(t, BinaryLogLoss, 5*histogramBlockRows+3, 7)
	mapper := fitBinMapper(data, nil, 255, 1, 1)
	binned := mapper.transform(data, nil, 1)
	// Magnitudes from 1e-6 to 1e6, so that float64 sums round and the
	// order of the additions shows in the result.
	rng := rand.New(rand.NewPCG(3, 4))
	pairs := make([]gradPair, data.NumRows())
	for i := range pairs {
		scale := math.Pow(10, float64(rng.IntN(13)-6))
		pairs[i] = gradPair{float32(rng.NormFloat64() * scale), float32(rng.Float64() * scale)}
	}
	var rows []int32 // every row but each third, as a child node holds them
	for i := range data.NumRows() {
		if i%3 != 0 {
			rows = append(rows, int32(i))
		}
	}
	if histogramBlocks(len(rows)) < 2 {
		t.Fatalf("%d rows make one block: the test needs several", len(rows))
	}
	stride := int(mapper.missingBin) + 1
	serial := newHistogramBuilder(binned, stride, 1).build(rows, pairs)
	for f := range data.NumFeatures() {
		if got := serial.featureTotal(f, stride).count; got != len(rows) {
			t.Fatalf("feature %d counts %d rows, want %d", f, got, len(rows))
		}
	}
	for _, workers := range []int{2, 3, 8} {
		if got := newHistogramBuilder(binned, stride, workers).build(rows, pairs); !reflect.DeepEqual(got, serial) {
			t.Errorf("%d workers: the histogram differs from one worker's", workers)
		}
	}
}
