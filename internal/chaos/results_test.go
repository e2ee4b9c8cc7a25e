//go:build chaos

package chaos

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/deadletter"
)

// tally counts, per input offset, the results that name it.
type tally struct {
	ends    map[int32]int64    // the input partitions' end offsets
	results map[int32][]uint16 // per input partition, indexed by offset; saturates
	// deadInputs counts the dead letters per input; they are few, and
	// kept apart to find inputs that were both scored and dead-lettered.
	deadInputs map[inputRef]int
	out, dlq   int64 // outputs and dead letters read, repeats included
	wrongClass int64 // dead letters of another class than the injected one
	strays     []string
}

type inputRef struct {
	partition int32
	offset    int64
}

func (r inputRef) String() string { return fmt.Sprintf("%s/%d@%d", inputTopic, r.partition, r.offset) }

func newTally(ends map[int32]int64) *tally {
	ta := &tally{ends: ends, results: map[int32][]uint16{}, deadInputs: map[inputRef]int{}}
	for p, end := range ends {
		ta.results[p] = make([]uint16, end)
	}
	return ta
}

// add counts one output or dead letter against the input its headers name.
func (ta *tally) add(r *kgo.Record) {
	dead := r.Topic == dlqTopic
	if dead {
		ta.dlq++
		if header(r, deadletter.HeaderErrorClass) != deadletter.BadMagic {
			ta.wrongClass++
		}
	} else {
		ta.out++
	}
	topic := header(r, deadletter.HeaderSourceTopic)
	p, perr := strconv.ParseInt(header(r, deadletter.HeaderSourcePartition), 10, 32)
	off, oerr := strconv.ParseInt(header(r, deadletter.HeaderSourceOffset), 10, 64)
	counts := ta.results[int32(p)]
	if topic != inputTopic || perr != nil || oerr != nil || off < 0 || off >= int64(len(counts)) {
		ta.strays = append(ta.strays, fmt.Sprintf("%s/%d@%d names %s/%s@%s", r.Topic, r.Partition, r.Offset,
			topic, header(r, deadletter.HeaderSourcePartition), header(r, deadletter.HeaderSourceOffset)))
		return
	}
	if counts[off] < ^uint16(0) {
		counts[off]++
	}
	if dead {
		ta.deadInputs[inputRef{int32(p), off}]++
	}
}

// lost returns how many inputs have no result, and the first few of them.
func (ta *tally) lost() (int64, []inputRef) {
	var n int64
	var first []inputRef
	for _, p := range ta.partitions() {
		for off, c := range ta.results[p] {
			if c == 0 {
				n++
				if len(first) < 10 {
					first = append(first, inputRef{p, int64(off)})
				}
			}
		}
	}
	return n, first
}

// duplicated returns how many results there are beyond each input's first.
func (ta *tally) duplicated() int64 {
	var n int64
	for _, counts := range ta.results {
		for _, c := range counts {
			if c > 1 {
				n += int64(c) - 1
			}
		}
	}
	return n
}

// firstDuplicated returns up to n inputs that have more than one result.
func (ta *tally) firstDuplicated(n int) []string {
	var out []string
	for _, p := range ta.partitions() {
		for off, c := range ta.results[p] {
			if c > 1 && len(out) < n {
				out = append(out, fmt.Sprintf("%v x%d", inputRef{p, int64(off)}, c))
			}
		}
	}
	return out
}

// mixed returns the inputs that have an output as well as a dead letter.
func (ta *tally) mixed() []inputRef {
	var out []inputRef
	for ref, dead := range ta.deadInputs {
		if int(ta.results[ref.partition][ref.offset]) > dead {
			out = append(out, ref)
		}
	}
	slices.SortFunc(out, func(a, b inputRef) int {
		if a.partition != b.partition {
			return int(a.partition - b.partition)
		}
		return int(a.offset - b.offset)
	})
	return out
}

func (ta *tally) partitions() []int32 {
	var ps []int32
	for p := range ta.results {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// readResults reads the output and dead-letter topics from the start to
// their end offsets, as they are once the scorer has stopped, and tallies
// every result. With readCommitted it reads as a read_committed consumer
// downstream of an exactly-once scorer would: results of aborted
// transactions are skipped and must not count.
func (e *env) readResults(inputEnds map[int32]int64, readCommitted bool) *tally {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	ends, err := e.endOffsets(outputTopic, dlqTopic)
	if err != nil {
		e.t.Fatalf("end offsets of the results: %v", err)
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(e.stack.Brokers),
		kgo.ConsumeTopics(outputTopic, dlqTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// Transaction markers take offsets too, the last one often the
		// last offset of a partition: keep them, to see the end reached.
		kgo.KeepControlRecords(),
		kgo.FetchMaxBytes(64 << 20),
	}
	if readCommitted {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()

	ta := newTally(inputEnds)
	next := map[string]map[int32]int64{} // the offset after the last one read
	for topic, ps := range ends {
		next[topic] = map[int32]int64{}
		for p := range ps {
			next[topic][p] = 0
		}
	}
	done := func() bool {
		for topic, ps := range ends {
			for p, end := range ps {
				if next[topic][p] < end {
					return false
				}
			}
		}
		return true
	}
	for !done() {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			stable := ""
			if readCommitted {
				stable = e.stableOffsets()
			}
			e.t.Fatalf("reading the results: read up to %v of end offsets %v before the deadline%s", next, ends, stable)
		}
		fetches.EachError(func(topic string, p int32, err error) {
			e.t.Logf("reading the results: fetch %s/%d: %v", topic, p, err)
		})
		fetches.EachRecord(func(r *kgo.Record) {
			if next[r.Topic] != nil {
				next[r.Topic][r.Partition] = r.Offset + 1
			}
			if !r.Attrs.IsControl() {
				ta.add(r)
			}
		})
	}
	return ta
}

// stableOffsets describes the results' last stable offsets, which a
// read_committed reader cannot pass: below the end offset, a transaction
// is still open.
func (e *env) stableOffsets() string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	listed, err := e.admin.ListCommittedOffsets(ctx, outputTopic, dlqTopic)
	if err != nil {
		return "; last stable offsets: " + err.Error()
	}
	stable := map[string]map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) {
		if stable[o.Topic] == nil {
			stable[o.Topic] = map[int32]int64{}
		}
		stable[o.Topic][o.Partition] = o.Offset
	})
	return fmt.Sprintf("; last stable offsets %v", stable)
}
