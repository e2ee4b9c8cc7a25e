package stream

// Model generations: which model scores a batch, and how a model handed
// over by Swap reaches the decoding stage and the old one is closed once
// its last batch is back. The processor (processor.go) and the shadow
// stage (shadow.go) are their users.

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/streamscore/streamscore/internal/model"
)

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
