package train

import (
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
