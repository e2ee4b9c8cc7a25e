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

// row is an input record that is in a model batch, waiting for its score.
type row struct {
	source   *kgo.Record
	decoded  serde.Decoded
	outTopic string
	outID    uint32
	emit     func(result) // hands the row's result on
}

// job is a full (or flushed) batch on its way from the decoding stage to
// the scoring stage.
type job struct {
	batch *model.Batch
	rows  []row
}

// processor turns polled records into results in two stages that run on
// two goroutines, so decoding the next batch overlaps scoring this one:
//
//   - decode (the polling goroutine): frame, schema, Avro and features, into
//     a model batch; records that cannot be scored are dead-lettered here;
//   - score (its own goroutine): one ONNX Runtime run per batch, then the
//     outputs, in batch order, so per-partition order is kept.
//
// A fixed set of batches circulates between the stages; when all are being
// scored, decoding waits, which pushes back on polling. The processor knows
// nothing of consumer groups or commits.
type processor struct {
	cfg     Config
	decoder Decoder
	schemas OutputSchemas
	model   *model.Model
	metrics *metrics
	logger  *slog.Logger
	now     func() time.Time

	free chan *model.Batch // batches ready to fill
	jobs chan job          // filled batches, in order
	size int               // batches in circulation

	// decoding stage state
	batch *model.Batch
	rows  []row

	// scoring stage state
	scores      []serde.ClassScore
	modelHeader []byte
}

// pipelineDepth is how many batches circulate: one being filled, one being
// scored, one waiting between them.
const pipelineDepth = 3

func newProcessor(cfg Config, dec Decoder, schemas OutputSchemas, m *model.Model, met *metrics, logger *slog.Logger) *processor {
	p := &processor{
		cfg: cfg, decoder: dec, schemas: schemas, model: m, metrics: met, logger: logger, now: time.Now,
		free: make(chan *model.Batch, pipelineDepth), jobs: make(chan job, pipelineDepth), size: pipelineDepth,
	}
	for range pipelineDepth {
		p.free <- m.NewBatch()
	}
	spec := m.Spec()
	p.modelHeader = []byte(spec.Name + "@" + spec.Version)
	return p
}

// add decodes one record into the batch being filled, or dead-letters it,
// and queues the batch for scoring once it is full. emit is called exactly
// once for a record that add accepts, from either stage. add fails, having
// done nothing with the record, in two cases:
//
//   - the schema registry cannot be reached (serde.ErrRegistryUnavailable):
//     that says nothing about the record, so dead-lettering it would lose a
//     good record; the caller holds it back and tries again later;
//   - ctx ends while add waits for a free batch.
func (p *processor) add(ctx context.Context, rec *kgo.Record, emit func(result)) error {
	if p.batch == nil {
		select {
		case p.batch = <-p.free:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := p.decode(rec, emit); err != nil {
		return err
	}
	if p.batch.Full() {
		p.flush()
	}
	return nil
}

// flush queues the batch being filled, full or not, for scoring. The jobs
// channel holds as many jobs as there are batches, so this never blocks.
func (p *processor) flush() {
	if p.batch == nil {
		return
	}
	p.jobs <- job{batch: p.batch, rows: p.rows}
	p.batch, p.rows = nil, make([]row, 0, p.cfg.MaxBatch)
}

// decode adds one record to the batch, or dead-letters it.
func (p *processor) decode(rec *kgo.Record, emit func(result)) error {
	if len(rec.Value) > p.cfg.MaxRecordBytes {
		emit(deadLetter(p.cfg.DeadLetterTopic, rec, fmt.Errorf("%w: value is %d bytes, over the %d-byte limit", errOversizeRecord, len(rec.Value), p.cfg.MaxRecordBytes)))
		return nil
	}
	decoded, err := p.decoder.Decode(rec.Value)
	if errors.Is(err, serde.ErrRegistryUnavailable) {
		return err
	}
	if err != nil {
		emit(deadLetter(p.cfg.DeadLetterTopic, rec, err))
		return nil
	}
	if err := p.batch.Add(decoded.Record); err != nil {
		emit(deadLetter(p.cfg.DeadLetterTopic, rec, err))
		return nil
	}
	// The output schema comes second so that a record with a bad feature is
	// reported for its feature, the more specific reason.
	outTopic := p.cfg.OutputFor(rec.Topic)
	outID, err := p.schemas.OutputID(outTopic, decoded.Schema)
	if err != nil {
		p.batch.RemoveLast()
		if errors.Is(err, serde.ErrRegistryUnavailable) {
			return err
		}
		emit(deadLetter(p.cfg.DeadLetterTopic, rec, err))
		return nil
	}
	p.rows = append(p.rows, row{source: rec, decoded: decoded, outTopic: outTopic, outID: outID, emit: emit})
	return nil
}

// scoreJobs is the scoring stage: it runs until the jobs channel closes.
func (p *processor) scoreJobs() {
	for j := range p.jobs {
		p.score(j)
		j.batch.Reset()
		p.free <- j.batch
	}
}

// idle waits until no batch is queued or being scored, so that every
// record handed to add has been emitted. It is called between polls,
// when no batch is being filled.
func (p *processor) idle(ctx context.Context) error {
	held := make([]*model.Batch, 0, p.size)
	defer func() {
		for _, b := range held {
			p.free <- b
		}
	}()
	for len(held) < p.size {
		select {
		case b := <-p.free:
			held = append(held, b)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// close stops the scoring stage once it has scored what was queued, and
// frees the batches.
func (p *processor) close() {
	close(p.jobs)
	for range p.size {
		(<-p.free).Close()
	}
}

// score runs the model on a job's batch and emits an output per row. If the
// batch as a whole fails, each row is tried alone, so one poisonous record
// is dead-lettered instead of taking its batch down with it.
func (p *processor) score(j job) {
	if len(j.rows) == 0 {
		return
	}
	start := p.now()
	results, err := p.model.Run(j.batch)
	p.metrics.inference.Observe(p.now().Sub(start).Seconds())
	p.metrics.batchRows.Observe(float64(len(j.rows)))
	if err == nil {
		p.emitOutputs(j, results, p.now())
		return
	}
	p.logger.Warn("batch failed; scoring its rows one by one", "rows", len(j.rows), "err", err)
	for i, r := range j.rows {
		j.batch.Reset()
		var results []model.Result
		err := j.batch.Add(r.decoded.Record)
		if err == nil {
			results, err = p.model.Run(j.batch)
		}
		if err != nil {
			r.emit(deadLetter(p.cfg.DeadLetterTopic, r.source, fmt.Errorf("model %s: %w", p.model.Spec().Name, err)))
			continue
		}
		p.emitOutputs(job{rows: j.rows[i : i+1]}, results, p.now())
	}
}

// emitOutputs encodes scored rows: each input body, untouched, followed by
// its prediction, under the output schema; same key, timestamp and headers
// as the input, plus the source coordinates and the model. One slab holds
// the values and header bytes of the whole batch: one allocation, not one
// per record.
func (p *processor) emitOutputs(j job, results []model.Result, scoredAt time.Time) {
	spec := p.model.Spec()
	size, headerCount := 0, 0
	for _, r := range j.rows {
		size += len(r.decoded.Body) + 128 + 16*len(spec.Labels)
		headerCount += len(r.source.Headers) + 4
	}
	slab := make([]byte, 0, size)
	headerSlab := make([]kgo.RecordHeader, 0, headerCount)
	for i, r := range j.rows {
		res := &results[i]
		pred := serde.Prediction{ModelName: spec.Name, ModelVersion: spec.Version, ScoredAt: scoredAt}
		if spec.Task == model.Classification {
			pred.Label = &res.Label
		}
		if res.HasValue {
			pred.Value = &res.Value
		}
		p.scores = p.scores[:0]
		for c, s := range res.Scores {
			p.scores = append(p.scores, serde.ClassScore{Label: spec.Labels[c], Score: float64(s)})
		}
		pred.Scores = p.scores

		start := len(slab)
		slab = serde.AppendOutput(slab, r.outID, r.decoded.Body, &pred)
		value := slab[start:len(slab):len(slab)]

		first := len(headerSlab)
		headerSlab, slab = appendSourceHeaders(headerSlab, slab, r.source)
		headerSlab = append(headerSlab, kgo.RecordHeader{Key: HeaderModel, Value: p.modelHeader})
		r.emit(result{source: r.source, out: &kgo.Record{
			Topic:     r.outTopic,
			Key:       r.source.Key,
			Value:     value,
			Headers:   headerSlab[first:len(headerSlab):len(headerSlab)],
			Timestamp: r.source.Timestamp,
		}})
	}
}

// deadLetter returns the record unchanged, bound for the dead-letter topic,
// with headers naming the error class, the reason and the source. A value
// too large to produce again (only an oversize record can be) is left out,
// and its size noted, so the dead letter itself cannot fail.
func deadLetter(topic string, rec *kgo.Record, err error) result {
	reason := reasonOf(err)
	headers, _ := appendSourceHeaders(make([]kgo.RecordHeader, 0, len(rec.Headers)+6), nil, rec)
	headers = append(headers,
		kgo.RecordHeader{Key: HeaderErrorClass, Value: []byte(reason)},
		kgo.RecordHeader{Key: HeaderErrorReason, Value: []byte(err.Error())},
	)
	value := rec.Value
	if len(value) > DefaultMaxRecordBytes {
		headers = append(headers, kgo.RecordHeader{Key: HeaderValueDropped, Value: []byte(strconv.Itoa(len(value)))})
		value = nil
	}
	return result{source: rec, reason: reason, out: &kgo.Record{
		Topic:     topic,
		Key:       rec.Key,
		Value:     value,
		Headers:   headers,
		Timestamp: rec.Timestamp,
	}}
}

// appendSourceHeaders appends the input's own headers and its coordinates
// to headers, writing the coordinates' bytes into buf, and returns both.
func appendSourceHeaders(headers []kgo.RecordHeader, buf []byte, rec *kgo.Record) ([]kgo.RecordHeader, []byte) {
	headers = append(headers, rec.Headers...)
	start := len(buf)
	buf = append(buf, rec.Topic...)
	topic := buf[start:len(buf):len(buf)]
	start = len(buf)
	buf = strconv.AppendInt(buf, int64(rec.Partition), 10)
	partition := buf[start:len(buf):len(buf)]
	start = len(buf)
	buf = strconv.AppendInt(buf, rec.Offset, 10)
	offset := buf[start:len(buf):len(buf)]
	return append(headers,
		kgo.RecordHeader{Key: HeaderSourceTopic, Value: topic},
		kgo.RecordHeader{Key: HeaderSourcePartition, Value: partition},
		kgo.RecordHeader{Key: HeaderSourceOffset, Value: offset},
	), buf
}
