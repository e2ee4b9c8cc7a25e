package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/model"
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
}

// row is an input record that is in a model batch, waiting for its score.
type row struct {
	source   *kgo.Record
	checked  serde.Checked
	outTopic string
	output   serde.Output
	emit     func(result) // hands the row's result on
}

// generation is one model from the moment it starts serving until the last
// batch it made is back: what the outputs it scores are named after.
type generation struct {
	model  *model.Model
	spec   model.Spec
	header []byte // the streamscore.model header: name@version
	// batches counts this model's batches in circulation. Only the side
	// that takes batches from the free channel (the decoding stage, idle
	// and close, never concurrently) touches it.
	batches int
	// decodedSchemas are the writer schemas whose records this model has
	// needed decoded whole, by id; the decoding stage alone touches it.
	decodedSchemas map[uint32]bool
}

func newGeneration(m *model.Model) *generation {
	spec := m.Spec()
	return &generation{model: m, spec: spec, header: []byte(spec.Name + "@" + spec.Version), decodedSchemas: map[uint32]bool{}}
}

// slot is one batch in circulation and the generation whose model made it.
// A batch is filled, scored and named by that model only, so a batch never
// mixes two models.
type slot struct {
	batch *model.Batch
	gen   *generation
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

	shadow *shadowStage // nil when shadow scoring is off
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

func newProcessor(cfg Config, dec Decoder, schemas OutputSchemas, m *model.Model, met *metrics, logger *slog.Logger) *processor {
	p := &processor{
		cfg: cfg, decoder: dec, schemas: schemas, metrics: met, logger: logger, now: time.Now,
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

// swap hands m over to serve every batch begun from now on, and says so
// at once (Serving, the info metric, the swap counter), even though the
// decoding stage adopts m only when it next starts a batch. It is safe
// from any goroutine. A model handed over earlier and not adopted yet is
// closed unused; after close, m itself is.
func (p *processor) swap(m *model.Model) {
	spec := m.Spec()
	p.swapMu.Lock()
	discard := p.next.offer(m)
	if discard != m {
		old := p.serving.Swap(&spec)
		if old.Name != spec.Name || old.Version != spec.Version {
			p.metrics.modelInfo.DeleteLabelValues(old.Name, old.Version)
		}
		p.metrics.modelInfo.WithLabelValues(spec.Name, spec.Version).Set(1)
		p.metrics.modelSwaps.Inc()
		p.logger.Info("model handed over; batches begun from now on are scored by it",
			"name", spec.Name, "version", spec.Version, "previous", old.Version)
	}
	p.swapMu.Unlock()
	if discard != nil {
		p.closeModel(discard)
	}
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
	if p.slot == nil {
		if err := p.take(ctx); err != nil {
			return err
		}
	}
	if err := p.decode(rec, emit); err != nil {
		return err
	}
	if p.slot.batch.Full() || p.cost >= maxBatchDecodedBytes {
		p.flush()
	}
	return nil
}

// take starts a batch: it adopts a model handed over by swap, if any, then
// takes a free batch, made anew if an older model made it.
func (p *processor) take(ctx context.Context) error {
	if m := p.next.take(); m != nil {
		p.adopt(m)
	}
	select {
	case s := <-p.free:
		p.renew(s)
		p.slot = s
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// adopt makes m the model of every batch from now on. The batches waiting
// in the free channel are renewed at once, so the old model is closed as
// soon as the batches in flight are back. (Until a batch begins after a
// swap, the old model stays open: an idle scorer holds both.)
func (p *processor) adopt(m *model.Model) {
	old := p.cur
	p.cur = newGeneration(m)
	p.logger.Debug("model adopted: the first batch of the new version begins",
		"name", p.cur.spec.Name, "version", p.cur.spec.Version, "previous", string(old.header))
	for range len(p.free) {
		s := <-p.free
		p.renew(s)
		p.free <- s // never blocks: it holds as many batches as circulate
	}
}

// renew replaces a batch made by a model that no longer serves with one of
// the serving model.
func (p *processor) renew(s *slot) {
	if s.gen == p.cur {
		return
	}
	old := s.gen
	s.batch.Close()
	s.gen, s.batch = p.cur, p.cur.model.NewBatch()
	p.cur.batches++
	p.release(old)
}

// release counts a batch of g back; the last one back closes g's model,
// unless it still serves.
func (p *processor) release(g *generation) {
	g.batches--
	if g.batches == 0 && g != p.cur {
		p.closeModel(g.model)
		p.logger.Info("previous model closed; its last batch is back", "name", g.spec.Name, "version", g.spec.Version)
	}
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
func (p *processor) decode(rec *kgo.Record, emit func(result)) (err error) {
	batch, rows := p.slot.batch, p.slot.batch.Len()
	emitted := false
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
		if !emitted {
			emit(deadLetter(p.cfg.DeadLetterTopic, rec, cause))
		}
		err = nil
	}()
	return p.decodeRecord(rec, func(res result) {
		emitted = true
		emit(res)
	})
}

// decodeRecord is decode without the recovery.
func (p *processor) decodeRecord(rec *kgo.Record, emit func(result)) error {
	if big := oversizeBatchOf(rec); big != nil {
		emit(oversizeDeadLetter(p.cfg.DeadLetterTopic, rec, big, p.cfg.MaxDecompressedBatchBytes))
		return nil
	}
	if len(rec.Value) > p.cfg.MaxRecordBytes {
		emit(deadLetter(p.cfg.DeadLetterTopic, rec, fmt.Errorf("%w: value is %d bytes, over the %d-byte limit", deadletter.ErrOversizeRecord, len(rec.Value), p.cfg.MaxRecordBytes)))
		return nil
	}
	checked, err := p.decoder.Check(rec.Value)
	if errors.Is(err, serde.ErrRegistryUnavailable) {
		return err
	}
	if err != nil {
		emit(deadLetter(p.cfg.DeadLetterTopic, rec, err))
		return nil
	}
	batch := p.slot.batch
	decoded, err := addRecord(batch, checked)
	if decoded {
		p.metrics.decodedWhole.Inc()
		p.explainDecoding(checked.Schema)
	}
	if err != nil {
		emit(deadLetter(p.cfg.DeadLetterTopic, rec, err))
		return nil
	}
	// The output schema comes second so that a record with a bad feature is
	// reported for its feature, the more specific reason.
	outTopic := p.cfg.OutputFor(rec.Topic)
	output, err := p.schemas.Output(rec.Topic, outTopic, checked.Schema)
	if err != nil {
		batch.RemoveLast()
		if errors.Is(err, serde.ErrRegistryUnavailable) {
			return err
		}
		emit(deadLetter(p.cfg.DeadLetterTopic, rec, err))
		return nil
	}
	p.rows = append(p.rows, row{source: rec, checked: checked, outTopic: outTopic, output: output, emit: emit})
	p.cost += checked.Cost
	return nil
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

// closeBatches frees the batches of a processor that never ran; the
// models stay open (their owner closes them).
func (p *processor) closeBatches() {
	for range p.size {
		(<-p.free).batch.Close()
	}
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
		for i, r := range j.rows {
			r.emit(outs[i])
		}
		p.remember(j.rows)
		p.shadow.offer(j.rows)
		return
	}
	p.logger.Warn("batch failed; scoring its rows one by one", "rows", len(j.rows), "version", g.spec.Version, "err", err)
	scored := make([]row, 0, len(j.rows))
	for _, r := range j.rows {
		out, err := p.runRow(g, j.slot.batch, r)
		if err != nil {
			r.emit(deadLetter(p.cfg.DeadLetterTopic, r.source, fmt.Errorf("model %s version %s: %w", g.spec.Name, g.spec.Version, err)))
			continue
		}
		r.emit(out)
		scored = append(scored, r)
	}
	p.shadow.offer(scored)
}

// runBatch runs g's model on a job's batch and encodes the outputs, without
// emitting any. A panic in either is returned as an deadletter.ErrInternal error.
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
	return p.enc.encodeOutputs(g, j.rows, results, p.now()), nil
}

// runRow scores one row alone in b and encodes its output; a panic is
// returned as an deadletter.ErrInternal error.
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
	return p.enc.encodeOutputs(g, []row{r}, results, p.now())[0], nil
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

// encoder writes scored rows as output records; each stage that scores has
// its own, for its scratch space.
type encoder struct {
	scores  []serde.ClassScore
	margins []serde.ClassScore
	outs    []result
}

// encodeOutputs encodes scored rows: each input body, untouched, followed
// by its prediction by g's model, under the row's output schema; same key,
// timestamp and headers as the input, plus the source coordinates and the
// model. One slab holds the values and header bytes of the whole batch:
// one allocation, not one per record. The results it returns are the
// encoder's scratch, valid until its next call; nothing is emitted, so a
// panic halfway leaves no row half done.
func (e *encoder) encodeOutputs(g *generation, rows []row, results []model.Result, scoredAt time.Time) []result {
	spec := &g.spec
	perRow := 128 + 16*len(spec.Labels)
	if spec.Outputs.Margin != "" {
		perRow += 16 * len(spec.Labels)
	}
	size, headerCount := 0, 0
	for _, r := range rows {
		size += len(r.checked.Body) + perRow
		headerCount += len(r.source.Headers) + 4
	}
	slab := make([]byte, 0, size)
	headerSlab := make([]kgo.RecordHeader, 0, headerCount)
	e.outs = e.outs[:0]
	for i, r := range rows {
		res := &results[i]
		pred := serde.Prediction{ModelName: spec.Name, ModelVersion: spec.Version, ScoredAt: scoredAt}
		if spec.Task == model.Classification {
			pred.Label = &res.Label
		}
		if res.HasValue {
			pred.Value = &res.Value
		}
		e.scores = e.scores[:0]
		for c, s := range res.Scores {
			e.scores = append(e.scores, serde.ClassScore{Label: spec.Labels[c], Score: float64(s)})
		}
		pred.Scores = e.scores
		if res.Margin != nil {
			// Keyed as the REST answer is: a single margin is the logit
			// of the last label.
			labels := spec.Labels[len(spec.Labels)-len(res.Margin):]
			e.margins = e.margins[:0]
			for c, m := range res.Margin {
				e.margins = append(e.margins, serde.ClassScore{Label: labels[c], Score: float64(m)})
			}
			pred.Margin = e.margins
		}

		start := len(slab)
		slab = serde.AppendOutput(slab, r.output, r.checked.Body, &pred)
		value := slab[start:len(slab):len(slab)]

		first := len(headerSlab)
		headerSlab, slab = appendSourceHeaders(headerSlab, slab, r.source)
		headerSlab = append(headerSlab, kgo.RecordHeader{Key: deadletter.HeaderModel, Value: g.header})
		e.outs = append(e.outs, result{source: r.source, out: &kgo.Record{
			Topic:     r.outTopic,
			Key:       r.source.Key,
			Value:     value,
			Headers:   headerSlab[first:len(headerSlab):len(headerSlab)],
			Timestamp: r.source.Timestamp,
		}})
	}
	return e.outs
}

// handover passes a model from any goroutine to the stage that adopts it.
// Only the latest model offered is kept; the stage polls it cheaply.
type handover struct {
	waiting atomic.Bool // a model is pending: take need not lock otherwise
	mu      sync.Mutex
	pending *model.Model
	closed  bool
}

// offer makes m the pending model and returns what must be closed unused:
// the model it replaces, if any, or m itself once the handover is closed.
func (h *handover) offer(m *model.Model) (discard *model.Model) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return m
	}
	discard, h.pending = h.pending, m
	h.waiting.Store(true)
	return discard
}

// take returns the pending model, if any, and clears it.
func (h *handover) take() *model.Model {
	if !h.waiting.Load() {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.pending
	h.pending = nil
	h.waiting.Store(false)
	return m
}

// close refuses later offers and returns the pending model, if any.
func (h *handover) close() *model.Model {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	m := h.pending
	h.pending = nil
	h.waiting.Store(false)
	return m
}

// deadLetter returns the record unchanged, bound for the dead-letter topic,
// with headers naming the error class, the reason and the source. A value
// too large to produce again (only an oversize record can be) is left out,
// and its size noted, and the reason is cut to deadletter.MaxReasonBytes, so the dead
// letter itself cannot fail and always carries its class.
func deadLetter(topic string, rec *kgo.Record, err error) result {
	reason := deadletter.Classify(err)
	headers, _ := appendSourceHeaders(make([]kgo.RecordHeader, 0, len(rec.Headers)+6), nil, rec)
	headers = append(headers,
		kgo.RecordHeader{Key: deadletter.HeaderErrorClass, Value: []byte(reason)},
		kgo.RecordHeader{Key: deadletter.HeaderErrorReason, Value: []byte(deadletter.CapReason(err.Error()))},
	)
	value := rec.Value
	if len(value) > DefaultMaxRecordBytes {
		headers = append(headers, kgo.RecordHeader{Key: deadletter.HeaderValueDropped, Value: []byte(strconv.Itoa(len(value)))})
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
		kgo.RecordHeader{Key: deadletter.HeaderSourceTopic, Value: topic},
		kgo.RecordHeader{Key: deadletter.HeaderSourcePartition, Value: partition},
		kgo.RecordHeader{Key: deadletter.HeaderSourceOffset, Value: offset},
	), buf
}
