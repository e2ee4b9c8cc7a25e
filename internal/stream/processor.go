package stream

// The processor: polled records in, results out, through a model batch.
// It knows nothing of consumer groups, produces or commits: every result
// goes to the sink it was built with.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/monitor"
	"github.com/streamscore/streamscore/internal/serde"
)

// Decoder checks a framed Avro value against its writer schema without
// decoding it; *serde.Decoder is the one in use.
type Decoder interface {
	Check(value []byte) (serde.Checked, error)
}

// OutputSchemas gives the registered output schema for records of an input
// schema, read from an input topic, written to an output topic;
// *serde.OutputEncoder is the one in use.
type OutputSchemas interface {
	Output(inTopic, outTopic string, input *serde.Schema) (serde.Output, error)
}

// result is what one input record became: a record to produce (an output or
// a dead letter) and, for a dead letter, why.
type result struct {
	out    *kgo.Record
	source *kgo.Record
	reason string // empty for a scored output
	// seg is the run of input records the source was handed on with, which
	// its acknowledgement completes (tracker.go); nil for shadow results.
	seg *segment
}

// resultSink takes every result the processor makes: exactly one for each
// record add accepted, in input order within a partition, from either
// stage. The sink (sink.go) produces them; tests collect them.
type resultSink interface {
	send(result)
}

// row is an input record that is in a model batch, waiting for its score.
type row struct {
	source   *kgo.Record
	checked  serde.Checked
	outTopic string
	output   serde.Output
	seg      *segment // carried into the row's result
}

// job is a full (or flushed) batch on its way from the decoding stage to
// the scoring stage.
type job struct {
	slot *slot
	rows []row
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
//
// Models are swapped between batches. swap hands a model over from any
// goroutine; the decoding stage adopts it when it next starts a batch, so
// every batch begun after swap returns is filled and scored by the new
// model, and every batch begun before it by the old one. Batches of the old
// model still queued or being scored finish with it; as each comes back it
// is closed and replaced by one of the new model, and the old model is
// closed when its last batch is back, never while a batch of it is in
// flight. The processor owns every model it is given and closes each.
//
// With a shadow stage (shadow.go), every batch the serving model scored is
// also offered, after its outputs are emitted, to a second model.
type processor struct {
	cfg     Config
	sink    resultSink
	decoder Decoder
	schemas OutputSchemas
	metrics *metrics
	logger  *slog.Logger
	now     func() time.Time
	// closeModel closes a model that no longer serves (tests watch it).
	closeModel func(*model.Model)

	free chan *slot // batches ready to fill
	jobs chan job   // filled batches, in order
	size int        // batches in circulation

	next    handover                   // a model waiting to be adopted
	swapMu  sync.Mutex                 // orders swaps, and so their metrics
	serving atomic.Pointer[model.Spec] // the spec of the model new batches take, for any goroutine

	// decoding stage state
	cur  *generation // the model new batches are taken from
	slot *slot       // the batch being filled, if any
	rows []row
	cost int64 // the estimated bytes of rows' records, were they decoded

	// scoring stage state
	enc      encoder
	recentMu sync.Mutex
	recent   []row // the rows of the last batch scored, for smoke tests

	shadow  *shadowStage // nil when shadow scoring is off
	monitor *monitoring  // nil when monitoring is off
}

// pipelineDepth is how many batches circulate: one being filled, one being
// scored, one waiting between them.
const pipelineDepth = 3

// maxBatchDecodedBytes closes a batch early once the records in it would
// hold this much decoded (serde.Checked.Cost): most records are read
// straight from their bodies, but the rest are decoded, and so is the last
// batch when a smoke test asks for it, so decoded records then hold at
// most 4 x 4 MiB plus one record (the avro guard caps that at 16 MiB),
// however the records are shaped. Typical records are a few KiB decoded,
// so a batch of 128 is far below it and this never shortens one.
const maxBatchDecodedBytes = 4 << 20

func newProcessor(cfg Config, dec Decoder, schemas OutputSchemas, m *model.Model, sink resultSink, met *metrics, logger *slog.Logger) *processor {
	p := &processor{
		cfg: cfg, sink: sink, decoder: dec, schemas: schemas, metrics: met, logger: logger, now: time.Now,
		closeModel: func(m *model.Model) { m.Close() },
		free:       make(chan *slot, pipelineDepth), jobs: make(chan job, pipelineDepth), size: pipelineDepth,
		cur: newGeneration(m),
	}
	for range pipelineDepth {
		p.free <- &slot{batch: m.NewBatch(), gen: p.cur}
	}
	p.cur.batches = pipelineDepth
	p.serving.Store(&p.cur.spec)
	met.modelInfo.WithLabelValues(p.cur.spec.Name, p.cur.spec.Version).Set(1)
	return p
}

// add decodes one record into the batch being filled, or dead-letters it,
// and queues the batch for scoring once it is full. Exactly one result for
// a record that add accepts goes to the sink, from either stage, carrying
// seg. add fails, having done nothing with the record, in two cases:
//
//   - the schema registry cannot be reached (serde.ErrRegistryUnavailable):
//     that says nothing about the record, so dead-lettering it would lose a
//     good record; the caller holds it back and tries again later;
//   - ctx ends while add waits for a free batch.
func (p *processor) add(ctx context.Context, rec *kgo.Record, seg *segment) error {
	if p.slot == nil {
		if err := p.take(ctx); err != nil {
			return err
		}
	}
	if err := p.decode(rec, seg); err != nil {
		return err
	}
	if p.slot.batch.Full() || p.cost >= maxBatchDecodedBytes {
		p.flush()
	}
	return nil
}

// flush queues the batch being filled, full or not, for scoring. The jobs
// channel holds as many jobs as there are batches, so this never blocks.
func (p *processor) flush() {
	if p.slot == nil {
		return
	}
	p.jobs <- job{slot: p.slot, rows: p.rows}
	p.slot, p.rows, p.cost = nil, make([]row, 0, p.cfg.MaxBatch), 0
}

// decode adds one record to the batch, or dead-letters it. A panic while
// the record is decoded or mapped (a bug some input reaches, in streamscore
// or a library) dead-letters the record as internal_error, leaves the
// batch as it was before the record, and the stream goes on: a record that
// crashed the scorer would crash it again after every restart.
func (p *processor) decode(rec *kgo.Record, seg *segment) (err error) {
	batch, rows := p.slot.batch, p.slot.batch.Len()
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if batch.Len() > rows {
			batch.RemoveLast()
		}
		batch.DropPartial()
		cause := deadletter.Recovered(r)
		p.logger.Error("a record made the scorer panic; it is dead-lettered as internal_error and the stream goes on",
			"topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset, "err", cause)
		p.logger.Debug("stack of the panic", "stack", string(debug.Stack()))
		p.sink.send(deadLetter(p.cfg.DeadLetterTopic, rec, seg, cause))
		err = nil
	}()
	// The dead letter is sent only once decodeRecord has returned, so a
	// panic never follows a result already sent.
	dead, err := p.decodeRecord(rec, seg)
	if dead.out != nil {
		p.sink.send(dead)
	}
	return err
}

// decodeRecord is decode without the recovery: it adds the record's row
// to the batch, or returns its dead letter, or fails.
func (p *processor) decodeRecord(rec *kgo.Record, seg *segment) (dead result, err error) {
	if big := oversizeBatchOf(rec); big != nil {
		return oversizeDeadLetter(p.cfg.DeadLetterTopic, rec, seg, big, p.cfg.MaxDecompressedBatchBytes), nil
	}
	if len(rec.Value) > p.cfg.MaxRecordBytes {
		return deadLetter(p.cfg.DeadLetterTopic, rec, seg, fmt.Errorf("%w: value is %d bytes, over the %d-byte limit", deadletter.ErrOversizeRecord, len(rec.Value), p.cfg.MaxRecordBytes)), nil
	}
	checked, err := p.decoder.Check(rec.Value)
	if errors.Is(err, serde.ErrRegistryUnavailable) {
		return result{}, err
	}
	if err != nil {
		return deadLetter(p.cfg.DeadLetterTopic, rec, seg, err), nil
	}
	batch := p.slot.batch
	decoded, err := addRecord(batch, checked)
	if decoded {
		p.metrics.decodedWhole.Inc()
		p.explainDecoding(checked.Schema)
	}
	if err != nil {
		return deadLetter(p.cfg.DeadLetterTopic, rec, seg, err), nil
	}
	// The output schema comes second so that a record with a bad feature is
	// reported for its feature, the more specific reason.
	outTopic := p.cfg.OutputFor(rec.Topic)
	output, err := p.schemas.Output(rec.Topic, outTopic, checked.Schema)
	if err != nil {
		batch.RemoveLast()
		if errors.Is(err, serde.ErrRegistryUnavailable) {
			return result{}, err
		}
		return deadLetter(p.cfg.DeadLetterTopic, rec, seg, err), nil
	}
	p.rows = append(p.rows, row{source: rec, checked: checked, outTopic: outTopic, output: output, seg: seg})
	p.cost += checked.Cost
	return result{}, nil
}

// explainDecoding says once per model and writer schema why every record
// of the schema is decoded whole, when that is so: a feature on a type
// read only from decoded records, or a schema a projection would read
// differently from goavro. (A record decoded for a reason of its own is
// counted, and dead-lettered with it or scored.)
func (p *processor) explainDecoding(s *serde.Schema) {
	g := p.slot.gen
	if g.decodedSchemas[s.ID] {
		return
	}
	g.decodedSchemas[s.ID] = true
	if err := g.model.BodyReadable(s.Tree); err != nil {
		p.logger.Info("the model's features are not read straight from bodies of this schema; its records are decoded whole, which costs more CPU",
			"model", g.spec.Name, "version", g.spec.Version, "schema_id", s.ID, "subject_record", s.Name, "reason", err)
	}
}

// addRecord adds a checked record's row to b: read straight from its body
// where the model can, else from the record goavro decodes (decoded is
// then true), which also names what is wrong with a record that cannot be
// scored.
func addRecord(b *model.Batch, c serde.Checked) (decoded bool, err error) {
	if b.AddBody(c.Schema.Tree, c.Body) {
		return false, nil
	}
	rec, err := c.Decode()
	if err != nil {
		return true, err
	}
	return true, b.Add(rec)
}

// scoreJobs is the scoring stage: it runs until the jobs channel closes.
func (p *processor) scoreJobs() {
	for j := range p.jobs {
		p.score(j)
		j.slot.batch.Reset()
		p.free <- j.slot
	}
}

// idle waits until no batch is queued or being scored, so that every
// record handed to add has been emitted. It is called between polls,
// when no batch is being filled. Batches of a model swapped out are
// renewed on the way, so after idle no old model is left open.
func (p *processor) idle(ctx context.Context) error {
	held := make([]*slot, 0, p.size)
	defer func() {
		for _, s := range held {
			p.renew(s)
			p.free <- s
		}
	}()
	for len(held) < p.size {
		select {
		case s := <-p.free:
			held = append(held, s)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// close stops the scoring stage once it has scored what was queued, then
// the shadow stage, and closes the batches and every model.
func (p *processor) close() {
	p.flush()
	close(p.jobs)
	for range p.size {
		s := <-p.free
		s.batch.Close()
		if s.gen != p.cur {
			p.release(s.gen)
		}
	}
	p.closeModel(p.cur.model)
	if m := p.next.close(); m != nil {
		p.closeModel(m)
	}
	p.shadow.close()
}

// score runs the model on a job's batch and emits an output per row. If the
// batch as a whole fails, or panics, each row is tried alone, so one
// poisonous record is dead-lettered instead of taking its batch (or the
// scorer) down with it. The rows scored are then offered to the shadow
// stage.
func (p *processor) score(j job) {
	if len(j.rows) == 0 {
		return
	}
	g := j.slot.gen
	p.metrics.batchRows.Observe(float64(len(j.rows)))
	outs, err := p.runBatch(g, j)
	if err == nil {
		for _, out := range outs {
			p.sink.send(out)
		}
		p.remember(j.rows)
		p.shadow.offer(&g.spec, j.rows)
		return
	}
	p.logger.Warn("batch failed; scoring its rows one by one", "rows", len(j.rows), "version", g.spec.Version, "err", err)
	scored := make([]row, 0, len(j.rows))
	for _, r := range j.rows {
		out, err := p.runRow(g, j.slot.batch, r)
		if err != nil {
			p.sink.send(deadLetter(p.cfg.DeadLetterTopic, r.source, r.seg, fmt.Errorf("model %s version %s: %w", g.spec.Name, g.spec.Version, err)))
			continue
		}
		p.sink.send(out)
		scored = append(scored, r)
	}
	p.shadow.offer(&g.spec, scored)
}

// runBatch runs g's model on a job's batch and encodes the outputs, without
// emitting any. A panic in either is returned as a deadletter.ErrInternal error.
func (p *processor) runBatch(g *generation, j job) (outs []result, err error) {
	defer func() {
		if r := recover(); r != nil {
			outs, err = nil, deadletter.Recovered(r)
		}
	}()
	start := p.now()
	results, err := g.model.Run(j.slot.batch)
	p.metrics.inference.Observe(p.now().Sub(start).Seconds())
	if err != nil {
		return nil, err
	}
	p.monitor.observe(monitor.RoleChampion, &g.spec, j.rows, j.slot.batch, results)
	return p.enc.encodeOutputs(g, j.rows, results, p.now()), nil
}

// runRow scores one row alone in b and encodes its output; a panic is
// returned as a deadletter.ErrInternal error.
func (p *processor) runRow(g *generation, b *model.Batch, r row) (out result, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			b.Reset()
			out, err = result{}, deadletter.Recovered(rec)
		}
	}()
	b.Reset()
	if _, err := addRecord(b, r.checked); err != nil {
		return result{}, err
	}
	results, err := g.model.Run(b)
	if err != nil {
		return result{}, err
	}
	one := []row{r}
	p.monitor.observe(monitor.RoleChampion, &g.spec, one, b, results)
	return p.enc.encodeOutputs(g, one, results, p.now())[0], nil
}

// remember keeps the rows of the last batch scored: real records a model
// about to be swapped in can be tried on.
func (p *processor) remember(rows []row) {
	p.recentMu.Lock()
	p.recent = rows
	p.recentMu.Unlock()
}

// recentRecords decodes the records of the last batch scored, or none
// before the first. The stream reads most records without decoding them,
// so they are decoded here, for the rare smoke test that asks.
func (p *processor) recentRecords() []map[string]any {
	p.recentMu.Lock()
	recent := p.recent
	p.recentMu.Unlock()
	out := make([]map[string]any, 0, len(recent))
	for _, r := range recent {
		// Every row was scored, so goavro decodes it; a failure would be
		// a bug in the projection, and smoke tests do without that row.
		rec, err := r.checked.Decode()
		if err != nil {
			p.logger.Warn("a scored record does not decode for a smoke test; it is left out",
				"topic", r.source.Topic, "partition", r.source.Partition, "offset", r.source.Offset, "err", err)
			continue
		}
		out = append(out, rec)
	}
	return out
}
