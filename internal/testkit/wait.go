package testkit

import (
	"testing"
	"time"
)

// waitLimit is how long WaitFor waits before it gives up: long enough for a
// loaded machine, where a condition that holds at all holds in seconds.
const waitLimit = 60 * time.Second

// WaitFor polls cond every 10 ms until it holds, and fails the test,
// naming what it waited for, if it does not within a minute. A test waits
// on a condition it can observe, never on a window of wall time.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s", waitLimit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
