package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/serde"
)

// Decoder decodes a framed Avro value; *serde.Decoder is the one in use.
type Decoder interface {
	Decode(value []byte) (serde.Decoded, error)
}

// OutputSchemas gives the registered output schema id for records of an
// input schema written to an output topic; *serde.OutputEncoder is the one
// in use.
type OutputSchemas interface {
	OutputID(topic string, input *serde.Schema) (uint32, error)
}

// result is what one input record became: a record to produce (an output or
// a dead letter) and, for a dead letter, why.
type result struct {
	out    *kgo.Record
	source *kgo.Record
	reason string // empty for a scored output
}

// row is an input record that is in the model batch, waiting for its score.
type row struct {
	source   *kgo.Record
	decoded  serde.Decoded
	outTopic string
	outID    uint32
}

// processor turns polled records into results: decode, map features, score
// in batches, encode. It is the part of the scorer that knows nothing of
// consumer groups or commits, so the at-least-once and the transactional
// loops can share it. One goroutine owns a processor.
type processor struct {
	cfg     Config
	decoder Decoder
	schemas OutputSchemas
	model   *model.Model
	batch   *model.Batch
	metrics *metrics
	logger  *slog.Logger
	now     func() time.Time

	rows   []row
	scores []serde.ClassScore
	slab   []byte // backing store for the output values of one poll
	emit   func(result)
}

func newProcessor(cfg Config, dec Decoder, schemas OutputSchemas, m *model.Model, met *metrics, logger *slog.Logger) *processor {
	return &processor{
		cfg: cfg, decoder: dec, schemas: schemas, model: m, batch: m.NewBatch(),
		metrics: met, logger: logger, now: time.Now,
		rows: make([]row, 0, cfg.MaxBatch),
	}
}

// process handles one poll's records in offset order, calling emit exactly
// once per record. It returns early only when ctx ends (while it waits for
// an unreachable registry); the records it has not emitted are then left
// for whoever consumes the partition next.
func (p *processor) process(ctx context.Context, records []*kgo.Record, emit func(result)) error {
	p.emit = emit
	p.slab = make([]byte, 0, p.slabSize(records))
	for _, rec := range records {
		if err := p.add(ctx, rec); err != nil {
			return err
		}
		if p.batch.Full() {
			p.score()
		}
	}
	p.score()
	return nil
}

// slabSize estimates the output bytes of a poll so that one allocation holds
// them all: each output is its input plus a frame, a prediction and headers.
func (p *processor) slabSize(records []*kgo.Record) int {
	n := 0
	for _, r := range records {
		n += len(r.Value) + 160
	}
	return n
}

// add decodes one record into the batch, or dead-letters it.
func (p *processor) add(ctx context.Context, rec *kgo.Record) error {
	if len(rec.Value) > p.cfg.MaxRecordBytes {
		p.deadLetter(rec, fmt.Errorf("%w: value is %d bytes, over the %d-byte limit", errOversizeRecord, len(rec.Value), p.cfg.MaxRecordBytes))
		return nil
	}
	decoded, err := retryRegistry(ctx, p, func() (serde.Decoded, error) { return p.decoder.Decode(rec.Value) })
	if err != nil {
		return p.deadLetterOr(ctx, rec, err)
	}
	if err := p.batch.Add(decoded.Record); err != nil {
		p.deadLetter(rec, err)
		return nil
	}
	// The output schema comes second so that a record with a bad feature is
	// reported for its feature, the more specific reason.
	outTopic := p.cfg.OutputFor(rec.Topic)
	outID, err := retryRegistry(ctx, p, func() (uint32, error) { return p.schemas.OutputID(outTopic, decoded.Schema) })
	if err != nil {
		p.batch.RemoveLast()
		return p.deadLetterOr(ctx, rec, err)
	}
	p.rows = append(p.rows, row{source: rec, decoded: decoded, outTopic: outTopic, outID: outID})
	return nil
}

// deadLetterOr dead-letters a record, unless err is the context ending.
func (p *processor) deadLetterOr(ctx context.Context, rec *kgo.Record, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	p.deadLetter(rec, err)
	return nil
}

// retryRegistry calls f until it returns anything but
// serde.ErrRegistryUnavailable, backing off exponentially. An unreachable
// registry says nothing about the record, so dead-lettering it would lose a
// good record; waiting keeps order and loses nothing.
func retryRegistry[T any](ctx context.Context, p *processor, f func() (T, error)) (T, error) {
	wait := p.cfg.RegistryBackoff
	for attempt := 0; ; attempt++ {
		v, err := f()
		if !errors.Is(err, serde.ErrRegistryUnavailable) {
			return v, err
		}
		p.metrics.registryRetries.Inc()
		if attempt == 0 {
			p.logger.Warn("schema registry unreachable; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, p.cfg.MaxRegistryBackoff)
	}
}

// score runs the model on the batch and emits an output per row. If the
// batch as a whole fails, each row is tried alone, so one poisonous record
// is dead-lettered instead of taking its batch down with it.
func (p *processor) score() {
	if len(p.rows) == 0 {
		return
	}
	defer func() {
		p.batch.Reset()
		clear(p.rows)
		p.rows = p.rows[:0]
	}()
	start := p.now()
	results, err := p.model.Run(p.batch)
	p.metrics.inference.Observe(p.now().Sub(start).Seconds())
	p.metrics.batchRows.Observe(float64(len(p.rows)))
	if err == nil {
		scoredAt := p.now()
		for i, r := range p.rows {
			p.emitOutput(r, results[i], scoredAt)
		}
		return
	}
	p.logger.Warn("batch failed; scoring its rows one by one", "rows", len(p.rows), "err", err)
	for _, r := range p.rows {
		p.batch.Reset()
		var results []model.Result
		err := p.batch.Add(r.decoded.Record)
		if err == nil {
			results, err = p.model.Run(p.batch)
		}
		if err != nil {
			p.deadLetter(r.source, fmt.Errorf("model %s: %w", p.model.Spec().Name, err))
			continue
		}
		p.emitOutput(r, results[0], p.now())
	}
}

// emitOutput encodes a scored row: the input body, untouched, followed by
// the prediction, under the output schema; same key, timestamp and headers
// as the input, plus the source coordinates and the model.
func (p *processor) emitOutput(r row, res model.Result, scoredAt time.Time) {
	spec := p.model.Spec()
	pred := serde.Prediction{
		ModelName:    spec.Name,
		ModelVersion: spec.Version,
		ScoredAt:     scoredAt,
	}
	if spec.Task == model.Classification {
		pred.Label = &res.Label
	}
	if res.HasValue {
		pred.Value = &res.Value
	}
	p.scores = p.scores[:0]
	for i, s := range res.Scores {
		p.scores = append(p.scores, serde.ClassScore{Label: spec.Labels[i], Score: float64(s)})
	}
	pred.Scores = p.scores

	start := len(p.slab)
	p.slab = serde.AppendOutput(p.slab, r.outID, r.decoded.Body, &pred)
	value := p.slab[start:len(p.slab):len(p.slab)]

	headers := p.sourceHeaders(r.source, 1)
	headers = append(headers, kgo.RecordHeader{Key: HeaderModel, Value: p.bytes(spec.Name + "@" + spec.Version)})
	p.emit(result{source: r.source, out: &kgo.Record{
		Topic:     r.outTopic,
		Key:       r.source.Key,
		Value:     value,
		Headers:   headers,
		Timestamp: r.source.Timestamp,
	}})
}

// deadLetter emits the record unchanged to the dead-letter topic, with
// headers naming the error class, the reason and the source coordinates.
func (p *processor) deadLetter(rec *kgo.Record, err error) {
	reason := reasonOf(err)
	headers := p.sourceHeaders(rec, 2)
	headers = append(headers,
		kgo.RecordHeader{Key: HeaderErrorClass, Value: p.bytes(reason)},
		kgo.RecordHeader{Key: HeaderErrorReason, Value: p.bytes(err.Error())},
	)
	p.emit(result{source: rec, reason: reason, out: &kgo.Record{
		Topic:     p.cfg.DeadLetterTopic,
		Key:       rec.Key,
		Value:     rec.Value,
		Headers:   headers,
		Timestamp: rec.Timestamp,
	}})
}

// sourceHeaders copies the input's headers and adds its coordinates, with
// room for extra more.
func (p *processor) sourceHeaders(rec *kgo.Record, extra int) []kgo.RecordHeader {
	headers := make([]kgo.RecordHeader, 0, len(rec.Headers)+3+extra)
	headers = append(headers, rec.Headers...)
	start := len(p.slab)
	p.slab = strconv.AppendInt(p.slab, int64(rec.Partition), 10)
	partition := p.slab[start:len(p.slab):len(p.slab)]
	start = len(p.slab)
	p.slab = strconv.AppendInt(p.slab, rec.Offset, 10)
	offset := p.slab[start:len(p.slab):len(p.slab)]
	return append(headers,
		kgo.RecordHeader{Key: HeaderSourceTopic, Value: p.bytes(rec.Topic)},
		kgo.RecordHeader{Key: HeaderSourcePartition, Value: partition},
		kgo.RecordHeader{Key: HeaderSourceOffset, Value: offset},
	)
}

// bytes copies s into the slab.
func (p *processor) bytes(s string) []byte {
	start := len(p.slab)
	p.slab = append(p.slab, s...)
	return p.slab[start:len(p.slab):len(p.slab)]
}

// close releases the batch's tensors.
func (p *processor) close() { p.batch.Close() }
