package stream

// The sink: results to Kafka. It produces every result the processor
// makes, hears each acknowledgement, falls back to a value-less dead letter
// when the output topic refuses a record as too large, and stops the
// Scorer on any other produce failure.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/deadletter"
)

// maxBufferedBytes bounds the results waiting for acknowledgement: about
// half a second of output at full speed, many times a produce's round
// trip, and little enough that a burst of large records cannot grow the
// heap far (TestSlowModelUnderBurstStaysBounded). At 64 MiB the buffer was
// most of the live heap while a backlog drained, and the collector's
// target a multiple of it: the scorer's peak RSS on a hostile stream
// (internal/hostile) went from 195 to 171 MB at 16 MiB, its throughput
// unchanged.
const maxBufferedBytes = 16 << 20

// tally counts consumed records and acknowledged results into the
// metrics: at once at least once (liveTally), only when their transaction
// commits exactly once (txnCounts), so the metrics count what
// read_committed consumers see.
type tally interface {
	consumed(topic string, n int)
	acknowledged(res result)
}

// liveTally counts into the metrics at once.
type liveTally struct {
	in, out      topicCounters // per-topic series of metrics.recordsIn and recordsOut
	deadLettered *prometheus.CounterVec
}

func newLiveTally(met *metrics, topics []string) liveTally {
	return liveTally{
		in:           newTopicCounters(met.recordsIn, topics),
		out:          newTopicCounters(met.recordsOut, topics),
		deadLettered: met.deadLettered,
	}
}

func (t liveTally) consumed(topic string, n int) { t.in.add(topic, n) }

func (t liveTally) acknowledged(res result) {
	if res.reason == "" {
		t.out.add(res.source.Topic, 1)
		return
	}
	t.deadLettered.WithLabelValues(res.reason).Inc()
}

// sink produces results through the Scorer's client (transactional exactly
// once) and, as each is acknowledged, counts it and tells the tracker,
// whose marks let its input offset commit. It is the processor's
// resultSink; acknowledgements run on the client's goroutine.
type sink struct {
	client          *kgo.Client
	deadLetterTopic string
	tracker         *tracker
	counts          tally
	metrics         *metrics

	failure atomic.Pointer[error] // the first produce failure; ends the run
	broken  chan struct{}         // closed with failure set
}

func newSink(cl *kgo.Client, deadLetterTopic string, inFlight *tracker, counts tally, met *metrics) *sink {
	return &sink{client: cl, deadLetterTopic: deadLetterTopic, tracker: inFlight, counts: counts, metrics: met, broken: make(chan struct{})}
}

// send produces a result, waiting for buffer space when the producer is
// full, which pushes back on the processor and so on polling.
func (s *sink) send(res result) {
	s.client.Produce(context.Background(), res.out, func(_ *kgo.Record, err error) { s.acknowledged(res, err) })
}

// acknowledged runs on the producer's goroutine for every result.
func (s *sink) acknowledged(res result, err error) {
	if errors.Is(err, kerr.MessageTooLarge) && res.out.Value != nil {
		s.tooLarge(res, err)
		return
	}
	if err != nil {
		// Nothing of this poll, nor of any later one, will be marked: the
		// records are consumed again after a restart. Stopping beats
		// silently skipping a record whose result is not in Kafka.
		err = fmt.Errorf("produce to %s for %s/%d@%d: %w", res.out.Topic, res.source.Topic, res.source.Partition, res.source.Offset, err)
		if s.failure.CompareAndSwap(nil, &err) {
			close(s.broken)
		}
		return
	}
	s.counts.acknowledged(res)
	now := time.Now()
	s.metrics.endToEnd.Observe(now.Sub(res.source.Timestamp).Seconds())
	s.metrics.processing.Observe(now.Sub(res.seg.polledAt).Seconds())
	s.tracker.ack(res.seg)
}

// tooLarge dead-letters the source of a result its topic refused as too
// large (the topic's max.message.bytes is lower than the producer's
// limit) without its value, which always fits. TryProduce, because this
// runs on the producer's own goroutine, where waiting for buffer space
// could wait for itself.
func (s *sink) tooLarge(res result, err error) {
	dl := deadLetter(s.deadLetterTopic, res.source, res.seg, fmt.Errorf("%s: %w", res.out.Topic, err))
	dl.out.Value = nil
	dl.out.Headers = append(dl.out.Headers, kgo.RecordHeader{Key: deadletter.HeaderValueDropped, Value: []byte(strconv.Itoa(len(res.source.Value)))})
	s.client.TryProduce(context.Background(), dl.out, func(_ *kgo.Record, err error) { s.acknowledged(dl, err) })
}

// failed returns the first produce failure, if any.
func (s *sink) failed() error {
	if p := s.failure.Load(); p != nil {
		return *p
	}
	return nil
}
