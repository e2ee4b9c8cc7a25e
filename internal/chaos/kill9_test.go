//go:build chaos

package chaos

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/testkit"
)

const (
	kill9Inputs = 1_000_000
	kill9Count  = 3
)

// TestKill9DuringStream kills the scorer with SIGKILL, at random points,
// while it works through a backlog, restarting it each time in the same
// group under the same identity, and then checks every input offset
// against the results: none may be missing (at least once), nor repeated
// (exactly once). Each restarted scorer must score its partitions again
// within resumeBound of its start.
func TestKill9DuringStream(t *testing.T) {
	seed := chaosSeed(t)
	for i, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			e := newEnv(t, "kill9", m, seed, t.TempDir(), testkit.StackConfig{})
			began := time.Now()
			e.produceBacklog(kill9Inputs)
			ends := e.inputEnds()
			total := sum(ends)
			t.Logf("produced %d inputs %v in %v", total, ends, time.Since(began).Round(time.Millisecond))

			midStream := 0
			var watch *resumeWatch // the results since the last kill
			var restarts []resume
			for k := 1; k <= kill9Count; k++ {
				e.startScorer()
				if watch != nil {
					restarts = append(restarts, e.resumed(watch, k-1))
				}
				e.waitReady()
				point := e.waitKillPoint(rng, ends)
				e.scorer.Kill9(t)
				// The dead scorer commits nothing more: this is where it left off.
				committed, err := e.committed()
				if err != nil {
					t.Fatalf("committed offsets after kill %d: %v", k, err)
				}
				results, err := e.resultCount()
				if err != nil {
					t.Fatalf("result count after kill %d: %v", k, err)
				}
				if sum(committed) < total {
					midStream++
				}
				t.Logf("kill %d: SIGKILL %s %s; the group had committed %d of %d inputs %v, %d results in Kafka",
					k, e.scorer.Name, point, sum(committed), total, committed, results)
				watch = e.watchResume(committed, ends)
			}

			e.startScorer()
			restarts = append(restarts, e.resumed(watch, kill9Count))
			began = time.Now()
			e.waitCommitted(ends, 5*time.Minute)
			t.Logf("%s committed every input %v after its start", e.scorer.Name, time.Since(began).Round(time.Millisecond))
			e.stopScorer()
			e.verify(fmt.Sprintf("kill -9 x%d, scored again %s after each restart", kill9Count, resumes(restarts)))
			if midStream == 0 {
				t.Errorf("every kill came after the stream was done (seed %d): the fault was not exercised", seed)
			}
		})
	}
}

// waitKillPoint waits for the moment of the next kill, chosen at random:
// either a delay after the scorer got its partitions, or the moment the
// results in Kafka pass a threshold a random distance ahead. It describes
// the point it chose.
func (e *env) waitKillPoint(rng *rand.Rand, ends map[int32]int64) string {
	e.t.Helper()
	total := sum(ends)
	// Both numbers are drawn every time, so a seed replays the same choices
	// whatever the timing.
	delay := 200*time.Millisecond + time.Duration(rng.Int64N(int64(3*time.Second)))
	ahead := total * int64(2+rng.IntN(14)) / 100
	if rng.IntN(2) == 0 {
		// The delay is the fault, not a synchronisation: any moment will do.
		timer := time.NewTimer(delay)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-e.scorer.Done():
			e.checkScorer()
		}
		return fmt.Sprintf("%v after it was ready", delay)
	}
	var target int64 = -1
	point := ""
	e.waitFor("the results to reach the kill point", 3*time.Minute, func() (bool, string) {
		n, err := e.resultCount()
		if err != nil {
			return false, err.Error()
		}
		if target < 0 {
			target = n + ahead
		}
		if n >= target {
			point = fmt.Sprintf("once the results passed %d", target)
			return true, ""
		}
		// A threshold past what is left to do is never reached.
		committed, err := e.committed()
		if err == nil && sum(committed) >= total {
			point = fmt.Sprintf("once every input was committed, short of %d results", target)
			return true, ""
		}
		return false, fmt.Sprintf("%d results, waiting for %d", n, target)
	})
	return point
}
