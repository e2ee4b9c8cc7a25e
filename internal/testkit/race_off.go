//go:build !race

package testkit

// RaceEnabled says whether the test binary runs under the race detector,
// whose instrumentation changes what a test measuring the heap sees.
const RaceEnabled = false
