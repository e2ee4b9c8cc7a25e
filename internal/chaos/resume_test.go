//go:build chaos

package chaos

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/deadletter"
)

// resumeBound is how soon after a restarted scorer starts every input
// partition it inherits must be scored again (issue 10: a crash used to
// stall them for about 44 s, the dead member's session timeout).
const resumeBound = 10 * time.Second

// resumeWatch times a scorer's restart after a kill: it reads every result
// written after the kill and notes when the first result of each input
// partition arrived. A produce request the killed scorer had already
// written to its socket can still reach the broker after the kill, so a
// result counts only if the killed scorer did not write it: exactly once,
// a read_committed reader never sees the killed scorer's open transaction;
// at least once, each scorer process has its own idempotent producer id.
type resumeWatch struct {
	// pending are the input partitions with inputs left to score at the
	// kill: those whose committed offset is short of their end.
	pending []int32
	// dead are the producer ids of the last results before the kill: the
	// killed scorer's (at least once).
	dead map[int64]bool

	mu    sync.Mutex
	first map[int32]time.Time // input partition -> its first result read

	cancel context.CancelFunc
	done   chan struct{}
}

// watchResume starts watching, from the results' end offsets now; call it
// once the killed scorer is gone. committed and ends are the group's
// committed input offsets and the inputs' end offsets.
func (e *env) watchResume(committed, ends map[int32]int64) *resumeWatch {
	e.t.Helper()
	w := &resumeWatch{first: map[int32]time.Time{}, dead: map[int64]bool{}, done: make(chan struct{})}
	for p, end := range ends {
		if committed[p] < end {
			w.pending = append(w.pending, p)
		}
	}
	slices.Sort(w.pending)
	resultEnds, err := e.endOffsets(outputTopic, dlqTopic)
	if err != nil {
		e.t.Fatalf("end offsets of the results: %v", err)
	}
	from := map[string]map[int32]kgo.Offset{}
	for topic, ps := range resultEnds {
		from[topic] = map[int32]kgo.Offset{}
		for p, end := range ps {
			from[topic][p] = kgo.NewOffset().At(end)
		}
	}
	if !e.mode.exact {
		w.dead = e.lastProducers(resultEnds)
	}
	opts := []kgo.Opt{kgo.SeedBrokers(e.stack.Brokers), kgo.ConsumePartitions(from)}
	if e.mode.exact {
		// Scored means visible downstream: a read_committed consumer sees
		// a result once its transaction commits, and nothing past the
		// killed scorer's open transaction until the restart aborts it.
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go func() {
		defer close(w.done)
		defer cl.Close()
		for {
			fetches := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				return
			}
			at := time.Now()
			w.mu.Lock()
			fetches.EachRecord(func(r *kgo.Record) {
				if w.dead[r.ProducerID] {
					return // sent by the killed scorer, stored after the kill
				}
				p, err := strconv.ParseInt(header(r, deadletter.HeaderSourcePartition), 10, 32)
				if _, seen := w.first[int32(p)]; err == nil && !seen {
					w.first[int32(p)] = at
				}
			})
			w.mu.Unlock()
		}
	}()
	e.t.Cleanup(w.stop)
	return w
}

// lastProducers returns the producer ids of the last record of each
// result partition below ends (at least once, where every offset is a
// record, none a transaction marker).
func (e *env) lastProducers(ends map[string]map[int32]int64) map[int64]bool {
	e.t.Helper()
	from := map[string]map[int32]kgo.Offset{}
	left := 0
	for topic, ps := range ends {
		for p, end := range ps {
			if end > 0 {
				if from[topic] == nil {
					from[topic] = map[int32]kgo.Offset{}
				}
				from[topic][p] = kgo.NewOffset().At(end - 1)
				left++
			}
		}
	}
	ids := map[int64]bool{}
	if left == 0 {
		return ids
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.stack.Brokers), kgo.ConsumePartitions(from))
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for left > 0 {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			e.t.Fatalf("reading the last results before the kill: %d partitions unread", left)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if r.Offset == ends[r.Topic][r.Partition]-1 {
				ids[r.ProducerID] = true
				left--
			}
		})
	}
	return ids
}

func (w *resumeWatch) stop() {
	w.cancel()
	<-w.done
}

// resume is how long a restarted scorer took after its start.
type resume struct {
	took time.Duration
	// idle: nothing was left to score, so took is the time to owning
	// partitions.
	idle bool
}

func (r resume) String() string {
	s := r.took.Round(100 * time.Millisecond).String()
	if r.idle {
		s += " (nothing left to score: to owning partitions)"
	}
	return s
}

// resumed waits until the scorer started after the kill has scored a
// record of every pending partition, reports how long after its start
// that took (the last partition's first result), and fails the test above
// resumeBound. With nothing left to score, it times the scorer's start to
// owning partitions instead.
func (e *env) resumed(w *resumeWatch, kill int) resume {
	e.t.Helper()
	defer w.stop()
	started := e.scorer.Started
	if len(w.pending) == 0 {
		e.waitReady()
		took := time.Since(started)
		e.t.Logf("kill %d: nothing was left to score; %s owned partitions %v after its start",
			kill, e.scorer.Name, took.Round(10*time.Millisecond))
		e.checkResume(kill, took)
		return resume{took: took, idle: true}
	}
	var per []string
	var took time.Duration
	e.waitFor(fmt.Sprintf("a result of each of input partitions %v after kill %d", w.pending, kill), 3*time.Minute, func() (bool, string) {
		w.mu.Lock()
		defer w.mu.Unlock()
		per, took = per[:0], 0
		for _, p := range w.pending {
			at, ok := w.first[p]
			if !ok {
				return false, fmt.Sprintf("partitions scored again so far: %v", per)
			}
			per = append(per, fmt.Sprintf("%d after %v", p, at.Sub(started).Round(10*time.Millisecond)))
			took = max(took, at.Sub(started))
		}
		return true, ""
	})
	e.t.Logf("kill %d: %s scored every pending input partition again %v after its start (%s)",
		kill, e.scorer.Name, took.Round(10*time.Millisecond), strings.Join(per, ", "))
	e.checkResume(kill, took)
	return resume{took: took}
}

func (e *env) checkResume(kill int, took time.Duration) {
	e.t.Helper()
	if took > resumeBound {
		e.t.Errorf("kill %d: %s took %v after its start to score its partitions again, over %v (seed %d)",
			kill, e.scorer.Name, took.Round(10*time.Millisecond), resumeBound, e.seed)
	}
}

// resumes formats resume times for the report, e.g. "1.2s, 0.9s".
func resumes(rs []resume) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, r.String())
	}
	return strings.Join(parts, ", ")
}
