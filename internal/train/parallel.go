package train

import (
	"runtime"
	"sync"
	"sync/atomic"
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

// parallelTasks calls fn(t) for every task t in [0, numTasks) on up to
// workers goroutines (the caller's among them), each taking the next task
// not yet taken until none is left. Unlike parallelFor's fixed shares,
// a goroutine that the OS holds back on a shared machine takes fewer
// tasks instead of holding the others up at the end. Which goroutine runs
// a task varies from run to run, so fn's result must depend only on t.
func parallelTasks(workers, numTasks int, fn func(task int)) {
	workers = min(workers, numTasks)
	if workers <= 1 {
		for t := range numTasks {
			fn(t)
		}
		return
	}
	var next atomic.Int64
	run := func() {
		for t := int(next.Add(1) - 1); t < numTasks; t = int(next.Add(1) - 1) {
			fn(t)
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(run)
	}
	run()
	wg.Wait()
}

// parallelRows calls fn on consecutive ranges of [0, n), of blockRows
// each but the last, on up to workers goroutines, as parallelTasks does;
// below 2·blockRows it calls fn once on the caller's goroutine. fn must
// compute each row alone, so that how the rows are split changes nothing.
func parallelRows(workers, n, blockRows int, fn func(lo, hi int)) {
	if n < 2*blockRows || workers <= 1 {
		fn(0, n)
		return
	}
	parallelTasks(workers, (n+blockRows-1)/blockRows, func(t int) {
		fn(t*blockRows, min(n, (t+1)*blockRows))
	})
}
