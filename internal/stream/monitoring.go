package stream

// Live drift profiles: each scored row is added to the open window of its
// input topic, model version and role, and each window is handed to the
// window writer when it closes.

import (
	"context"
	"sync"
	"time"

	"github.com/streamscore/streamscore/internal/drift"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/monitor"
)

// DefaultMonitorWindow is the length of a monitoring window unless
// configured.
const DefaultMonitorWindow = 5 * time.Minute

// WindowWriter takes each closed monitoring window, and hears of a
// window that ended without rows, whose figures are then out of date;
// *monitor.Writer is the one in use.
type WindowWriter interface {
	Write(monitor.Window)
	Idle(topic, model, version, role string)
}

// Monitoring turns live drift profiles on (Deps.Monitoring).
type Monitoring struct {
	Writer WindowWriter
	// Every is the windows' length (DefaultMonitorWindow when zero).
	// Windows are tumbling and aligned to the clock (time.Truncate: a 5
	// minute window starts at :00, :05, ...), so scorers of a group close
	// theirs at the same instants.
	Every time.Duration
	// Reference gives a version's reference profile, or nil when it has
	// none (its windows then carry counts, null rates and means only). It
	// is asked once per version.
	Reference func(model.Spec) *drift.Profile
}

// monitoring holds the open windows. The scoring and shadow stages add
// rows under its lock, once per batch; a ticker closes the windows whose
// time is up even when no rows come.
type monitoring struct {
	cfg Monitoring
	now func() time.Time

	mu      sync.Mutex
	windows map[windowKey]*openWindow
	// references are the profiles asked for, by model and version: asked
	// once, though a version's windows come and go with its traffic.
	references map[[2]string]*drift.Profile
}

type windowKey struct{ topic, model, version, role string }

type openWindow struct {
	live  *drift.Window
	start time.Time
}

func newMonitoring(cfg Monitoring) *monitoring {
	if cfg.Every <= 0 {
		cfg.Every = DefaultMonitorWindow
	}
	if cfg.Reference == nil {
		cfg.Reference = func(model.Spec) *drift.Profile { return nil }
	}
	return &monitoring{cfg: cfg, now: time.Now, windows: map[windowKey]*openWindow{}, references: map[[2]string]*drift.Profile{}}
}

// observe adds rows, just scored by the model of spec in b, to their
// windows. results[i] is rows[i]'s. It is a no-op on a nil monitoring.
func (m *monitoring) observe(role string, spec *model.Spec, rows []row, b *model.Batch, results []model.Result) {
	if m == nil || len(rows) == 0 {
		return
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	var key windowKey
	var w *openWindow
	for i := range rows {
		if topic := rows[i].source.Topic; w == nil || topic != key.topic {
			key = windowKey{topic: topic, model: spec.Name, version: spec.Version, role: role}
			w = m.window(key, spec, now)
		}
		w.live.Observe(b, i, results[i])
	}
}

// window is key's open window at now, closing the one before it if its
// time is up. The caller holds mu.
func (m *monitoring) window(key windowKey, spec *model.Spec, now time.Time) *openWindow {
	w, ok := m.windows[key]
	if !ok {
		w = &openWindow{live: drift.NewWindow(*spec, m.reference(spec)), start: now.Truncate(m.cfg.Every)}
		m.windows[key] = w
		return w
	}
	if !now.Before(w.start.Add(m.cfg.Every)) {
		m.close(key, w, now)
	}
	return w
}

// reference is spec's version's profile, asked for once. The caller holds
// mu.
func (m *monitoring) reference(spec *model.Spec) *drift.Profile {
	key := [2]string{spec.Name, spec.Version}
	ref, ok := m.references[key]
	if !ok {
		ref = m.cfg.Reference(*spec)
		m.references[key] = ref
	}
	return ref
}

// close writes w if it saw rows and starts the window that now falls in.
// The caller holds mu.
func (m *monitoring) close(key windowKey, w *openWindow, now time.Time) {
	if w.live.Records() > 0 {
		report := w.live.Report()
		m.cfg.Writer.Write(monitor.Window{
			Kind: monitor.KindDrift, Topic: key.topic, Model: key.model, Version: key.version, Role: key.role,
			Start: w.start, End: w.start.Add(m.cfg.Every), Drift: &report,
		})
	}
	w.live.Reset()
	w.start = now.Truncate(m.cfg.Every)
}

// closeDue closes every window whose time is up. A window that saw no rows
// in its whole span is forgotten: its version was swapped out, or its
// topic is idle (a new window opens with the next row).
func (m *monitoring) closeDue() {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, w := range m.windows {
		if now.Before(w.start.Add(m.cfg.Every)) {
			continue
		}
		if w.live.Records() == 0 {
			delete(m.windows, key)
			m.cfg.Writer.Idle(key.topic, key.model, key.version, key.role)
			continue
		}
		m.close(key, w, now)
	}
}

// run closes windows on time until ctx ends. Windows open at the end are
// not written: a window is written whole or not at all.
func (m *monitoring) run(ctx context.Context) {
	if m == nil {
		return
	}
	tick := time.NewTicker(max(m.cfg.Every/20, 50*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			m.closeDue()
		}
	}
}
