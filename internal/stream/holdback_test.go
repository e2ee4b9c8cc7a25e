package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/serde"
)

// The registry backoffs of the held-partition tests.
const (
	firstBackoff = 100 * time.Millisecond
	maxBackoff   = 300 * time.Millisecond
)

// holdEnv is a consumer's held partitions (of topic "t", partitions 0 to
// 3), pausing and resuming a client of a kfake broker, with a clock the
// test moves by hand and a resubmitter that records what it is handed.
type holdEnv struct {
	t     *testing.T
	c     *consumer // its held partitions, and its onRevoked and onLost
	cl    *kgo.Client
	start time.Time
	now   time.Time

	// What resubmit answers: with fail set, it hands nothing on and
	// fails; while down, the first passes records go through and the rest
	// come back with the registry's error; otherwise all go through.
	fail        error
	down        bool
	passes      int
	resubmitted []string // every record resubmit was handed, in order
}

func newHoldEnv(t *testing.T, exactlyOnce bool) *holdEnv {
	t.Helper()
	_, seeds := newKafka(t, kfake.SeedTopics(4, "t"))
	cl := newClient(t, seeds, kgo.ConsumeTopics("t"))
	cfg := Config{Topics: []string{"t"}, Group: "g", DeadLetterTopic: "dlq", ExactlyOnce: exactlyOnce,
		RegistryBackoff: firstBackoff, MaxRegistryBackoff: maxBackoff}.WithDefaults()
	c := newConsumer(cfg, testMetrics(t), slog.New(slog.DiscardHandler))
	c.assemble(cl, nil, nil, newTracker(func(...*kgo.Record) {}), noCommits{}, nil)
	start := time.Unix(1_000_000, 0)
	e := &holdEnv{t: t, c: c, cl: cl, start: start, now: start}
	c.held.now = func() time.Time { return e.now }
	return e
}

// noCommits is a committer with nothing to do: the held partitions are
// under test, not what the consumer commits.
type noCommits struct{}

func (noCommits) begin() error                          { return nil }
func (noCommits) settle() bool                          { return true }
func (noCommits) end(bool, []*kgo.Record) (bool, error) { return false, nil }
func (noCommits) mark(...*kgo.Record)                   {}
func (noCommits) revoked(context.Context)               {}

// hold holds partition p back at its records at offsets, polled now.
func (e *holdEnv) hold(p int32, offsets ...int64) error {
	return e.c.held.hold(records("t", p, offsets...), e.now, serde.ErrRegistryUnavailable)
}

// queue queues records of partition p polled before it was paused.
func (e *holdEnv) queue(p int32, offsets ...int64) error {
	return e.c.held.queue(records("t", p, offsets...))
}

func (e *holdEnv) advance(d time.Duration) { e.now = e.now.Add(d) }

// retry retries the held partitions due now, as the polling loop does.
func (e *holdEnv) retry() error {
	return e.c.held.retryDue(context.Background(), e.now, e.resubmit)
}

func (e *holdEnv) revoke(ps ...int32) {
	e.c.onRevoked(context.Background(), e.cl, map[string][]int32{"t": ps})
}

func (e *holdEnv) lose(ps ...int32) {
	e.c.onLost(context.Background(), e.cl, map[string][]int32{"t": ps})
}

func (e *holdEnv) resubmit(_ context.Context, rs []*kgo.Record, _ time.Time) ([]*kgo.Record, error) {
	for _, r := range rs {
		e.resubmitted = append(e.resubmitted, coords(r.Topic, r.Partition, r.Offset))
	}
	switch {
	case e.fail != nil:
		return nil, e.fail
	case e.down && e.passes < len(rs):
		return slices.Clone(rs[e.passes:]), fmt.Errorf("fetch schema: %w", serde.ErrRegistryUnavailable)
	}
	return nil, nil
}

// step checks the error of a step that is not a row's last.
func (e *holdEnv) step(err, want error) {
	e.t.Helper()
	if !errors.Is(err, want) {
		e.t.Fatalf("step failed with %v, want %v", err, want)
	}
}

// held returns the partitions held back.
func (e *holdEnv) held() []string {
	var out []string
	for id := range int32(4) {
		if e.c.held.holds(partition{"t", id}) {
			out = append(out, fmt.Sprintf("t/%d", id))
		}
	}
	return out
}

// paused returns the partitions the client does not fetch.
func (e *holdEnv) paused() []string {
	var out []string
	for topic, ps := range e.cl.PauseFetchPartitions(nil) {
		for _, p := range ps {
			out = append(out, fmt.Sprintf("%s/%d", topic, p))
		}
	}
	slices.Sort(out)
	return out
}

// retryIn returns how long after the start of the test the first held
// partition is due, or 0 if none is held.
func (e *holdEnv) retryIn() time.Duration {
	at := e.c.held.firstRetry()
	if at.IsZero() {
		return 0
	}
	return at.Sub(e.start)
}

func modeName(exactlyOnce bool) string {
	if exactlyOnce {
		return "exactly once"
	}
	return "at least once"
}

// TestHeldPartitions runs the held partitions through holds, queues,
// retries on an injected clock, revokes and losses, and checks after each
// row which partitions are held back, that exactly those are paused in the
// client and counted in the metric, which records were handed on again, in
// what order, and when the next retry is due.
func TestHeldPartitions(t *testing.T) {
	tests := []struct {
		name        string
		exactlyOnce bool
		// act runs the row's steps and returns the last one's error.
		act             func(e *holdEnv) error
		wantErr         error
		wantHeld        []string // held back, paused and counted
		wantResubmitted []string
		wantRetryIn     time.Duration // from the start; 0 when none is held
	}{{
		name: "a hold pauses the partition and keeps its records until due",
		act: func(e *holdEnv) error {
			e.step(e.hold(0, 0, 1), nil)
			e.advance(firstBackoff - time.Nanosecond)
			return e.retry()
		},
		wantHeld:    []string{"t/0"},
		wantRetryIn: firstBackoff,
	}, {
		name: "due, its records are handed on again in order and it resumes",
		act: func(e *holdEnv) error {
			e.step(e.hold(0, 0, 1), nil)
			e.advance(firstBackoff)
			return e.retry()
		},
		wantResubmitted: []string{"t/0@0", "t/0@1"},
	}, {
		name: "records polled before the pause wait behind the held ones",
		act: func(e *holdEnv) error {
			e.step(e.hold(0, 0, 1), nil)
			e.step(e.queue(0, 2, 3), nil)
			e.advance(firstBackoff)
			return e.retry()
		},
		wantResubmitted: []string{"t/0@0", "t/0@1", "t/0@2", "t/0@3"},
	}, {
		name: "still unreachable: it keeps what did not go through, and its backoff doubles",
		act: func(e *holdEnv) error {
			e.down, e.passes = true, 1
			e.step(e.hold(0, 0, 1, 2), nil)
			e.advance(firstBackoff)
			return e.retry()
		},
		wantHeld:        []string{"t/0"},
		wantResubmitted: []string{"t/0@0", "t/0@1", "t/0@2"},
		wantRetryIn:     firstBackoff + 2*firstBackoff,
	}, {
		name: "the backoff stops at the longest, and the partition resumes once all went through",
		act: func(e *holdEnv) error {
			e.down, e.passes = true, 1
			e.step(e.hold(0, 0, 1, 2), nil)
			e.advance(firstBackoff) // 100 ms: due; 1 and 2 held, due at 300 ms
			e.step(e.retry(), nil)
			e.advance(2 * firstBackoff) // 300 ms: due; 2 held, due at 600 ms, not 700
			e.step(e.retry(), nil)
			e.advance(maxBackoff - time.Nanosecond)
			e.step(e.retry(), nil) // not due
			e.advance(time.Nanosecond)
			e.down = false
			return e.retry()
		},
		wantResubmitted: []string{"t/0@0", "t/0@1", "t/0@2", "t/0@1", "t/0@2", "t/0@2"},
	}, {
		name: "only the partitions due are retried",
		act: func(e *holdEnv) error {
			e.step(e.hold(0, 0), nil)
			e.advance(firstBackoff / 2)
			e.step(e.hold(1, 0), nil)
			e.advance(firstBackoff / 2)
			return e.retry()
		},
		wantHeld:        []string{"t/1"},
		wantResubmitted: []string{"t/0@0"},
		wantRetryIn:     firstBackoff + firstBackoff/2,
	}, {
		name: "a hand-on that fails outright is returned, and the partition stays held",
		act: func(e *holdEnv) error {
			e.fail = context.Canceled
			e.step(e.hold(0, 0), nil)
			e.advance(firstBackoff)
			return e.retry()
		},
		wantErr:         context.Canceled,
		wantHeld:        []string{"t/0"},
		wantResubmitted: []string{"t/0@0"},
		wantRetryIn:     firstBackoff,
	}, {
		name: "a revoke releases and resumes its partitions, not the others",
		act: func(e *holdEnv) error {
			e.step(e.hold(0, 0), nil)
			e.step(e.hold(1, 0), nil)
			e.revoke(0, 2)
			return nil
		},
		wantHeld:    []string{"t/1"},
		wantRetryIn: firstBackoff,
	}, {
		name: "a released partition's records are dropped, not retried",
		act: func(e *holdEnv) error {
			e.step(e.hold(0, 0, 1), nil)
			e.revoke(0)
			e.advance(firstBackoff)
			return e.retry()
		},
	}, {
		name: "a loss releases and resumes its partitions",
		act: func(e *holdEnv) error {
			e.step(e.hold(0, 0), nil)
			e.step(e.hold(3, 5), nil)
			e.lose(0, 3)
			e.advance(firstBackoff)
			return e.retry()
		},
	}, {
		name:        "exactly once, a hold pauses the partition, keeps nothing and aborts",
		exactlyOnce: true,
		act: func(e *holdEnv) error {
			return e.hold(0, 0, 1)
		},
		wantErr:     errAbort,
		wantHeld:    []string{"t/0"},
		wantRetryIn: firstBackoff,
	}, {
		name:        "exactly once, records polled before the pause abort too",
		exactlyOnce: true,
		act: func(e *holdEnv) error {
			e.step(e.hold(0, 0), errAbort)
			return e.queue(0, 1)
		},
		wantErr:     errAbort,
		wantHeld:    []string{"t/0"},
		wantRetryIn: firstBackoff,
	}, {
		name:        "exactly once, due, the partition resumes with nothing handed on",
		exactlyOnce: true,
		act: func(e *holdEnv) error {
			e.step(e.hold(0, 0, 1), errAbort)
			e.advance(firstBackoff)
			return e.retry()
		},
	}, {
		name:        "exactly once, held again at once, the backoff carries over",
		exactlyOnce: true,
		act: func(e *holdEnv) error {
			e.step(e.hold(0, 0), errAbort)
			e.advance(firstBackoff)
			e.step(e.retry(), nil)
			return e.hold(0, 0)
		},
		wantErr:     errAbort,
		wantHeld:    []string{"t/0"},
		wantRetryIn: firstBackoff + 2*firstBackoff,
	}, {
		name:        "exactly once, held again long after, the backoff starts afresh",
		exactlyOnce: true,
		act: func(e *holdEnv) error {
			e.step(e.hold(0, 0), errAbort)
			e.advance(firstBackoff)
			e.step(e.retry(), nil)
			e.advance(2*firstBackoff + time.Second)
			return e.hold(0, 0)
		},
		wantErr:     errAbort,
		wantHeld:    []string{"t/0"},
		wantRetryIn: firstBackoff + 2*firstBackoff + time.Second + firstBackoff,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newHoldEnv(t, tt.exactlyOnce)
			if err := tt.act(e); !errors.Is(err, tt.wantErr) {
				t.Fatalf("last step: %v, want %v", err, tt.wantErr)
			}
			if got := e.held(); !slices.Equal(got, tt.wantHeld) {
				t.Errorf("held back %v, want %v", got, tt.wantHeld)
			}
			if got := e.paused(); !slices.Equal(got, tt.wantHeld) {
				t.Errorf("paused in the client %v, want %v", got, tt.wantHeld)
			}
			if got := gaugeValue(t, e.c.metrics.heldBack); got != float64(len(tt.wantHeld)) {
				t.Errorf("held-back metric %v, want %d", got, len(tt.wantHeld))
			}
			if !slices.Equal(e.resubmitted, tt.wantResubmitted) {
				t.Errorf("handed on again %v, want %v", e.resubmitted, tt.wantResubmitted)
			}
			if got := e.retryIn(); got != tt.wantRetryIn {
				t.Errorf("first retry due %v after the start, want %v", got, tt.wantRetryIn)
			}
		})
	}
}

// TestHeldPartitionsSharedWithGroupCallbacks holds, queues and retries
// partitions on one goroutine while another releases them and reads when
// they are due, as the group callbacks may: under -race this checks the
// locking the type documents, and afterwards the partitions it holds and
// its metric agree, and a release of all leaves none held.
func TestHeldPartitionsSharedWithGroupCallbacks(t *testing.T) {
	for _, exactlyOnce := range []bool{false, true} {
		t.Run(modeName(exactlyOnce), func(t *testing.T) {
			const rounds = 400
			e := newHoldEnv(t, exactlyOnce)
			h := e.c.held
			var wg sync.WaitGroup
			wg.Go(func() { // the polling goroutine
				for i := range rounds {
					p := int32(i % 4)
					if err := e.hold(p, int64(i)); err != nil && !errors.Is(err, errAbort) {
						t.Errorf("hold: %v", err)
					}
					if err := e.queue(p, int64(i+1)); err != nil && !errors.Is(err, errAbort) {
						t.Errorf("queue: %v", err)
					}
					e.advance(firstBackoff)
					if err := e.retry(); err != nil {
						t.Errorf("retry: %v", err)
					}
				}
			})
			wg.Go(func() { // the group callbacks
				for i := range rounds {
					h.releaseAll(map[string][]int32{"t": {int32(i % 4)}})
					h.holds(partition{"t", int32(i+1) % 4})
					h.firstRetry()
				}
			})
			wg.Wait()
			if got, want := gaugeValue(t, e.c.metrics.heldBack), float64(len(e.held())); got != want {
				t.Errorf("held-back metric %v with %v partitions held", got, want)
			}
			h.releaseAll(map[string][]int32{"t": {0, 1, 2, 3}})
			if held := e.held(); len(held) != 0 {
				t.Errorf("%v still held after releasing all", held)
			}
			if got := gaugeValue(t, e.c.metrics.heldBack); got != 0 {
				t.Errorf("held-back metric %v after releasing all", got)
			}
		})
	}
}
