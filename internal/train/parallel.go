package train

import (
	"runtime"
	"sync"
)

// numChunks returns how many chunks parallelFor splits n elements into.
func numChunks(workers, n, minChunk int) int {
	return max(1, min(workers, n/max(minChunk, 1)))
}

// parallelFor splits [0, n) into numChunks(workers, n, minChunk)
// contiguous chunks, each of at least minChunk elements unless there is
// only one, and calls fn on every chunk, with its index, concurrently: one
// goroutine per chunk but the last, which runs on the caller's. It returns
// when every call has. A single chunk runs without a goroutine.
func parallelFor(workers, n, minChunk int, fn func(chunk, lo, hi int)) {
	chunks := numChunks(workers, n, minChunk)
	if chunks == 1 {
		fn(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	for c := range chunks - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(c, c*n/chunks, (c+1)*n/chunks)
		}()
	}
	fn(chunks-1, (chunks-1)*n/chunks, n)
	wg.Wait()
}

// resolveWorkers returns how many goroutines a fit uses: workers, or
// GOMAXPROCS when it is 0.
func resolveWorkers(workers int) int {
	if workers > 0 {
		return workers
	}
	return runtime.GOMAXPROCS(0)
}
