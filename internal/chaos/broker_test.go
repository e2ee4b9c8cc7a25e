//go:build chaos

package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/testkit"
)

const (
	brokerInputs = 20_000
	brokerRate   = 1_000 // inputs per second: the stream lasts 20 s
)

// TestBrokerRestartMidStream restarts the broker and registry process
// (SIGTERM, then the same data directory and ports) while inputs stream in
// at a steady rate and the scorer works on them, keeps producing once it
// is back, and then checks every input offset against the results. The
// scorer is expected to ride the restart out; if it exits instead, it is
// restarted and the test log says so, but the check is the same.
func TestBrokerRestartMidStream(t *testing.T) {
	seed := chaosSeed(t)
	for i, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			dir := t.TempDir()
			// Any free ports: the restart reuses those the stack bound.
			e := newEnv(t, "broker-restart", m, seed, dir, testkit.StackConfig{DataDir: filepath.Join(dir, "stack")})
			e.restartOnExit = true
			e.startScorer()
			e.waitReady()

			prod := e.produceSteadily(brokerInputs, brokerRate)
			// The restart comes once 20-50% of the stream has results, so
			// that there is scoring before it and producing after it.
			at := int64(brokerInputs * (20 + rng.IntN(31)) / 100)
			// The broker stays down 0.5-5 s: long enough for produce
			// requests, fetches and commits to fail and be retried.
			downFor := 500*time.Millisecond + time.Duration(rng.Int64N(int64(4500*time.Millisecond)))
			e.waitFor(fmt.Sprintf("%d results before the restart", at), 2*time.Minute, func() (bool, string) {
				n, err := e.resultCount()
				if err != nil {
					return false, err.Error()
				}
				return n >= at, fmt.Sprintf("%d results", n)
			})
			ackedBefore := prod.acked.Load()
			down := e.stack.Restart(downFor)
			sentByReturn := prod.sent.Load()
			t.Logf("restarted the stack once the results passed %d, with %d inputs acknowledged; it was away %v (held down %v)",
				at, ackedBefore, down.Round(time.Millisecond), downFor.Round(time.Millisecond))

			e.waitFor("the producer to send every input", 4*time.Minute, func() (bool, string) {
				select {
				case <-prod.done:
					return true, ""
				default:
					return false, fmt.Sprintf("%d of %d inputs sent, %d acknowledged", prod.sent.Load(), brokerInputs, prod.acked.Load())
				}
			})
			if err := prod.first.get(); err != nil {
				t.Fatalf("the producer did not outlast the restart (seed %d): %v", seed, err)
			}
			if sentByReturn >= brokerInputs {
				t.Errorf("every input was sent before the broker came back: nothing was produced after the restart")
			}
			ends := e.inputEnds()
			t.Logf("%d inputs acknowledged, %d before the restart; the input topic ends at %v", prod.acked.Load(), ackedBefore, ends)
			if got := sum(ends); got < brokerInputs {
				// Not the scorer's doing, but nothing downstream can be judged.
				t.Fatalf("the broker kept %d of the %d inputs it acknowledged", got, brokerInputs)
			}

			e.waitCommitted(ends, 4*time.Minute)
			e.stopScorer()
			e.verify("broker restart")
			if len(e.unplanned) == 0 {
				t.Logf("the scorer rode the broker restart out: one process throughout")
			} else {
				t.Logf("the scorer exited on its own %d times and was restarted: %v", len(e.unplanned), e.unplanned)
			}
		})
	}
}

// steadyProducer sends inputs at a fixed rate in the background.
type steadyProducer struct {
	sent, acked atomic.Int64
	first       firstErr
	done        chan struct{} // closed once every input is acknowledged or failed
}

// produceSteadily sends n inputs at rate per second. Produce calls do not
// wait for the broker: during an outage records queue in the client, which
// retries them until its delivery timeout, and sending goes on.
func (e *env) produceSteadily(n, rate int) *steadyProducer {
	p := &steadyProducer{done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	e.t.Cleanup(func() {
		cancel()
		<-p.done
	})
	go func() {
		defer close(p.done)
		gen := sample.NewSensors(e.seed, 200, 0.05)
		promise := func(r *kgo.Record, err error) {
			if err == nil {
				p.acked.Add(1)
			}
			p.first.record(r, err)
		}
		start := time.Now()
		ticker := time.NewTicker(10 * time.Millisecond)
		defer ticker.Stop()
		for i := 0; i < n; {
			select {
			case <-ctx.Done():
				return
			case now := <-ticker.C:
				for due := min(n, int(now.Sub(start).Seconds()*float64(rate))); i < due; i++ {
					e.client.Produce(ctx, e.input(gen, i), promise)
					p.sent.Add(1)
				}
			}
		}
		if err := e.client.Flush(ctx); err != nil {
			p.first.set(fmt.Errorf("flush: %w", err))
		}
	}()
	return p
}
