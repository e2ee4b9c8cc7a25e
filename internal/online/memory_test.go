package online

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// TestHeldBytesCoverHeap measures the heap a Join grows by while it holds
// predictions or waiting labels and checks that the bytes it charges its
// budget cover it (the budget is honest) without charging more than half
// again (the budget is not wasted). The key counts step by 12% so that
// they fall on every side of the points where the key map grows; they
// start at 16000, where the spans the allocator caches per processor (tens
// of kilobytes, counted as allocated) no longer blur the figure a key.
func TestHeldBytesCoverHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap over a hundred joins")
	}
	multiclass := Config{Task: TaskClassification, Labels: []string{"a", "b", "c", "d", "e"}, Window: time.Minute}
	tests := []struct {
		name   string
		cfg    Config
		keyLen int
		add    func(j *Join, key string, i int)
	}{
		{"binary predictions, 16-byte keys", binaryConfig(), 16, func(j *Join, key string, i int) {
			j.AddPrediction(Prediction{Key: key, Version: "v1", Role: RoleChampion, Label: "yes", Score: 0.5, At: at(float64(i))})
		}},
		{"multiclass predictions with scores, 36-byte keys", multiclass, 36, func(j *Join, key string, i int) {
			j.AddPrediction(Prediction{Key: key, Version: "v1", Role: RoleChampion, Label: "a", Scores: []float64{0.2, 0.2, 0.2, 0.2, 0.2}, At: at(float64(i))})
		}},
		{"champion and shadow predictions, 8-byte keys", binaryConfig(), 8, func(j *Join, key string, i int) {
			j.AddPrediction(Prediction{Key: key, Version: "v1", Role: RoleChampion, Label: "yes", Score: 0.5, At: at(float64(i))})
			j.AddPrediction(Prediction{Key: key, Version: "v2", Role: RoleShadow, Label: "yes", Score: 0.5, At: at(float64(i))})
		}},
		{"waiting labels, 24-byte keys", binaryConfig(), 24, func(j *Join, key string, i int) {
			j.AddLabel(Label{Key: key, Class: "yes", At: t0})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Budget = 1 << 40
			cfg.LabelWait = 100 * time.Hour
			baseline := heapGrowth(func() any { return mustJoin(t, cfg) })
			var worst float64 // heap grown / charged
			for n := 16_000; n < 130_000; n = n * 112 / 100 {
				keys := make([]string, n)
				for i := range keys {
					keys[i] = fmt.Sprintf("%0*d", tt.keyLen, i)
				}
				var j *Join
				grown := heapGrowth(func() any {
					j = mustJoin(t, cfg)
					for i, k := range keys {
						tt.add(j, k, i)
					}
					return j
				}) - baseline
				charged := j.Stats().HeldBytes
				if grown > charged || charged > grown*3/2 {
					t.Errorf("%d keys: heap grew %d bytes (%.1f a key), the budget was charged %d (%.1f a key)",
						n, grown, float64(grown)/float64(n), charged, float64(charged)/float64(n))
				}
				worst = max(worst, float64(grown)/float64(charged))
				runtime.KeepAlive(keys)
			}
			t.Logf("the heap grew by up to %.1f%% of the bytes charged", 100*worst)
		})
	}
}

// heapGrowth is how much the live heap grows while build runs and what it
// returns is still reachable.
func heapGrowth(build func() any) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	kept := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(kept)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc)
}
