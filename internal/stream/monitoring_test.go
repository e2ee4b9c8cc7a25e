package stream

import (
	"sync"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/drift"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/monitor"
	"github.com/streamscore/streamscore/internal/train"
	"github.com/streamscore/streamscore/schemas"
)

// windowLog collects the windows a monitoring writes.
type windowLog struct {
	mu      sync.Mutex
	windows []monitor.Window
	idle    []windowKey
}

func (l *windowLog) Write(w monitor.Window) {
	l.mu.Lock()
	l.windows = append(l.windows, w)
	l.mu.Unlock()
}

func (l *windowLog) Idle(topic, model, version, role string) {
	l.mu.Lock()
	l.idle = append(l.idle, windowKey{topic, model, version, role})
	l.mu.Unlock()
}

func (l *windowLog) take() []monitor.Window {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windows
	l.windows = nil
	return w
}

// manualClock is a clock tests move.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestMonitoringWindows scores records of two topics, swaps the model and
// shadow-scores, and checks that each closed window is written once per
// topic, version and role, with every row it saw, aligned to the window
// length; that a window without rows is not written, and the writer is
// told it is idle, once for each; and that a version's reference profile
// is asked for once.
func TestMonitoringWindows(t *testing.T) {
	const n, every = 300, time.Minute
	f := newFixture(t, n)
	v1 := f.model(t, "1", train.DefaultConfig(), 500)
	v2 := f.model(t, "2", train.DefaultConfig(), 500)
	shadowModel := f.model(t, "9", train.DefaultConfig(), 500)

	s := newShadowed(t, f, v1)
	log := &windowLog{}
	clock := &manualClock{t: time.Date(2026, 12, 7, 10, 0, 30, 0, time.UTC)}
	var asked []string
	s.p.monitor = newMonitoring(Monitoring{Writer: log, Every: every, Reference: func(spec model.Spec) *drift.Profile {
		asked = append(asked, spec.Version)
		return nil
	}})
	s.p.monitor.now = clock.now
	s.p.shadow.monitor = s.p.monitor
	s.p.shadow.swap(shadowModel)
	go s.p.scoreJobs()
	go s.p.shadow.run()
	t.Cleanup(s.p.close)

	other := make([]*kgo.Record, 100)
	for i := range other {
		r := *f.records[i]
		r.Topic = "other"
		other[i] = &r
	}
	s.add(t, f.records[:200]...)
	s.add(t, other...)
	s.waitShadow(300)
	if w := log.take(); len(w) != 0 {
		t.Fatalf("%d windows written before the first closed", len(w))
	}

	at := func(minute int) time.Time { return time.Date(2026, 12, 7, 10, minute, 0, 0, time.UTC) }
	clock.add(every)
	s.p.swap(v2)
	s.add(t, f.records[200:]...)
	s.waitShadow(400)
	// The shadow's row of "bench" closed its first window; the champion's
	// new version opened one of its own, and v1's wait for the ticker.
	checkWindows(t, log.take(), map[windowKey]wantWindow{
		{"bench", "bench", "9", monitor.RoleShadow}: {200, at(0)},
	}, every)

	clock.add(every)
	s.p.monitor.closeDue()
	checkWindows(t, log.take(), map[windowKey]wantWindow{
		{"bench", "bench", "1", monitor.RoleChampion}: {200, at(0)},
		{"other", "bench", "1", monitor.RoleChampion}: {100, at(0)},
		{"bench", "bench", "2", monitor.RoleChampion}: {100, at(1)},
		{"bench", "bench", "9", monitor.RoleShadow}:   {100, at(1)},
		{"other", "bench", "9", monitor.RoleShadow}:   {100, at(0)},
	}, every)

	clock.add(every)
	s.p.monitor.closeDue()
	if w := log.take(); len(w) != 0 {
		t.Fatalf("windows without rows were written: %+v", w)
	}
	idle := map[windowKey]bool{}
	for _, k := range log.idle {
		idle[k] = true
	}
	for _, k := range []windowKey{
		{"bench", "bench", "1", monitor.RoleChampion}, {"other", "bench", "1", monitor.RoleChampion},
		{"bench", "bench", "2", monitor.RoleChampion}, {"bench", "bench", "9", monitor.RoleShadow}, {"other", "bench", "9", monitor.RoleShadow},
	} {
		if !idle[k] {
			t.Errorf("the writer was not told %+v went idle", k)
		}
	}
	if len(log.idle) != 5 {
		t.Errorf("idle windows told: %v, want each of the 5 once", log.idle)
	}
	if len(asked) != 3 {
		t.Errorf("references asked for versions %v, want once per version (3)", asked)
	}
}

type wantWindow struct {
	rows  int64
	start time.Time
}

func checkWindows(t *testing.T, got []monitor.Window, want map[windowKey]wantWindow, every time.Duration) {
	t.Helper()
	seen := map[windowKey]bool{}
	for _, w := range got {
		key := windowKey{w.Topic, w.Model, w.Version, w.Role}
		wanted, ok := want[key]
		switch {
		case !ok:
			t.Errorf("unexpected window %+v", key)
			continue
		case seen[key]:
			t.Errorf("window %+v written twice", key)
		case w.Kind != monitor.KindDrift || w.Drift == nil:
			t.Errorf("window %+v is not a drift window", key)
		case w.Drift.Records != wanted.rows:
			t.Errorf("window %+v has %d rows, want %d", key, w.Drift.Records, wanted.rows)
		case !w.Start.Equal(wanted.start) || w.End.Sub(w.Start) != every:
			t.Errorf("window %+v spans %s..%s, want %s for %s", key, w.Start, w.End, wanted.start, every)
		}
		seen[key] = true
	}
	for key := range want {
		if !seen[key] {
			t.Errorf("no window for %+v", key)
		}
	}
}

// referenceOf profiles m on framed sensor records, as the trainer would
// on its training rows.
func referenceOf(tb testing.TB, m *model.Model, records []*kgo.Record) *drift.Profile {
	tb.Helper()
	codec, err := goavro.NewCodec(schemas.SensorReading)
	if err != nil {
		tb.Fatal(err)
	}
	rows := func(yield func(map[string]any) bool) {
		for _, r := range records {
			native, _, err := codec.NativeFromBinary(r.Value[5:])
			if err != nil {
				tb.Fatal(err)
			}
			if !yield(native.(map[string]any)) {
				return
			}
		}
	}
	p, _, err := drift.ProfileRecords(m, rows)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
