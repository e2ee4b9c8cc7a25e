package online

import (
	"container/heap"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// Roles of a prediction, as the scorer writes them.
const (
	RoleChampion = "champion"
	RoleShadow   = "shadow"
)

// Tasks, with the values of model.Task (taken as a string so that this
// package stays free of ONNX Runtime).
const (
	TaskClassification = "classification"
	TaskRegression     = "regression"
)

// Prediction is one scored record as the join needs it.
type Prediction struct {
	Key     string    // the record's key (or id field), as bytes in a string
	Version string    // model version that predicted
	Role    string    // RoleChampion or RoleShadow
	Label   string    // predicted class ("" for regressors)
	Score   float64   // binary: the positive class's score; regression: the value
	Scores  []float64 // per class in Config.Labels order (multiclass log loss); may be nil
	At      time.Time // the prediction record's timestamp
}

// Label is the truth for one key.
type Label struct {
	Key   string
	Class string  // classification truth
	Value float64 // regression truth
	At    time.Time
}

// WindowReport is what one version did in one closed window.
type WindowReport struct {
	Version, Role string
	Start, End    time.Time
	Labelled      int64 // labels matched to a prediction of this version
	ROCAUC        *float64
	F1            *float64
	LogLoss       *float64
	RMSE          *float64
	MAE           *float64
	AUCOmitted    int64 // matched pairs beyond PairCap, left out of ROCAUC only
	Unmatched     int64 // the window's labels, the same on every report of the window
	Late          int64
	Duplicate     int64
	Comparison    *Comparison // on the champion's report when a challenger was paired
}

// Comparison is the challenger against the champion on the labelled records
// both scored.
type Comparison struct {
	ChampionVersion, ChallengerVersion string
	Metric, Test                       string // MetricROCAUC and TestDeLong, or MetricMAE and TestPairedT
	Paired                             int64  // records in the test
	Omitted                            int64  // paired records beyond PairCap, left out of the DeLong test
	Champion, Challenger, Z, PValue    float64
}

// Stats is the join's state, for gauges and counters.
type Stats struct {
	HeldBytes       int64
	HeldPredictions int64
	HeldLabels      int64 // labels kept to match other versions or catch duplicates
	WaitingLabels   int64 // held labels that have matched nothing yet and have not expired
	Matched         int64 // matched (label, version) pairs
	MatchedLabels   int64 // labels that matched at least one prediction
	Unmatched       int64
	Late            int64
	Duplicate       int64
	Evicted         int64 // predictions and labels evicted to keep the budget
	Replaced        int64 // predictions replaced by a later one of the same key and version
	Invalid         int64 // labels whose class is not one of Config.Labels, ignored
	AfterClose      int64 // events whose window was already flushed, counted in the earliest open one
}

// Join matches predictions with late labels and keeps online metrics per
// window and version. It is not safe for concurrent use.
type Join struct {
	cfg        Config
	window     int64 // nanoseconds
	wait       int64 // nanoseconds
	classIndex map[string]int32
	versions   interner
	roles      interner

	entries          map[string]*entry
	peakKeys         int   // the most keys entries has held since it was made
	oldest, newest   *held // every held prediction and label, by arrival
	waiting          waitingLabels
	heldBytes        int64
	now              int64 // latest label time (or watermark) seen
	forgotThrough    int64 // newest time of an evicted prediction
	openFrom         int64 // start of the earliest window not yet flushed
	windows          map[int64]*window
	champion, shadow int32      // current versions; -1 before the first
	seen             []bool     // by version·2+role slot: first seen as champion / shadow
	generations      []versions // the champion and challenger of each comparison generation
	comparison       *cumulative
	stats            Stats
}

// entry is what the join holds of one key.
type entry struct {
	key   string
	preds []*held // one per version
	label *held   // the first label, while held
}

// held is a prediction or a label in the arrival queue.
type held struct {
	prev, next *held
	entry      *entry
	at         int64
	value      float64   // prediction: score or value; label: regression truth
	scores     []float64 // prediction: per-class scores
	version    int32     // prediction only
	role       int32     // prediction only
	class      int32     // prediction: predicted class (-1 not a model class); label: true class
	waitIndex  int32     // label: index in the waiting heap, -1 when not waiting
	isLabel    bool
	matched    bool // prediction: paired with the key's label; label: paired with any prediction
}

const noVersion = -1

// Role indexes: NewJoin interns the two known roles first.
const (
	roleChampion int32 = iota
	roleShadow
)

// NewJoin returns an empty Join. Zero fields of cfg take the defaults of
// Config; a cfg that fails Config.Validate is refused with its error.
func NewJoin(cfg Config) (*Join, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	j := &Join{
		cfg:           cfg,
		window:        int64(cfg.Window),
		wait:          int64(cfg.LabelWait),
		classIndex:    make(map[string]int32, len(cfg.Labels)),
		entries:       make(map[string]*entry),
		now:           math.MinInt64,
		forgotThrough: math.MinInt64,
		openFrom:      math.MinInt64,
		windows:       make(map[int64]*window),
		champion:      noVersion,
		shadow:        noVersion,
	}
	j.roles.index(RoleChampion)
	j.roles.index(RoleShadow)
	for i, l := range cfg.Labels {
		j.classIndex[l] = int32(i)
	}
	return j, nil
}

// AddPrediction holds a prediction and pairs it with its key's label if one
// is waiting, or has matched another version and has not expired.
func (j *Join) AddPrediction(p Prediction) {
	version, role := j.versions.index(p.Version), j.roles.index(p.Role)
	j.noteVersion(version, p.Role)
	n := &held{at: p.At.UnixNano(), value: p.Score, version: version, role: role, class: -1, waitIndex: -1}
	if c, ok := j.classIndex[p.Label]; ok {
		n.class = c
	}
	if len(p.Scores) > 0 {
		n.scores = slices.Clone(p.Scores)
	}
	e := j.entryFor(p.Key)
	n.entry = e
	if i := slices.IndexFunc(e.preds, func(h *held) bool { return h.version == version }); i >= 0 {
		// A record scored again (after a restart): the newer prediction
		// takes the older one's place, and a pair already counted stays
		// counted once.
		old := e.preds[i]
		n.matched = old.matched
		j.unlink(old)
		e.preds[i] = n
		j.stats.Replaced++
	} else {
		e.preds = append(e.preds, n)
	}
	j.link(n)
	if l := e.label; l != nil && !n.matched && j.now < l.at+j.wait {
		j.match(e, n, l)
	}
	j.keepBudget()
}

// AddLabel advances the join's clock to the label's time, expiring the
// labels that waited long enough, and pairs the label with every version's
// prediction of its key.
func (j *Join) AddLabel(l Label) {
	at := l.At.UnixNano()
	j.advance(at)
	n := &held{at: at, value: l.Value, isLabel: true, waitIndex: -1}
	if j.cfg.Task == TaskClassification {
		c, ok := j.classIndex[l.Class]
		if !ok {
			j.stats.Invalid++
			return
		}
		n.class = c
	}
	e := j.entries[l.Key]
	if e != nil && (e.label != nil || slices.ContainsFunc(e.preds, func(h *held) bool { return h.matched })) {
		j.windowAt(at).duplicate++
		j.stats.Duplicate++
		return
	}
	switch {
	case e != nil && len(e.preds) > 0:
		n.entry = e
		e.label = n
		j.link(n)
		for _, p := range e.preds {
			j.match(e, p, n)
		}
	case at <= j.forgotThrough:
		// The budget has evicted predictions as new as this label: its
		// own was probably among them, so waiting would only delay the
		// verdict.
		j.windowAt(at).late++
		j.stats.Late++
		return
	case at+j.wait <= j.now:
		j.windowAt(at+j.wait).unmatched++
		j.stats.Unmatched++
		return
	default:
		e = j.entryFor(l.Key)
		n.entry = e
		e.label = n
		j.link(n)
		heap.Push(&j.waiting, n)
	}
	j.keepBudget()
}

// Flush advances the clock to watermark, then closes the windows that end
// at or before it and returns their reports, oldest first; each window is
// returned once.
func (j *Join) Flush(watermark time.Time) []WindowReport {
	wm := watermark.UnixNano()
	j.advance(wm)
	closeBefore := floorTo(wm, j.window)
	var starts []int64
	for start := range j.windows {
		if start < closeBefore {
			starts = append(starts, start)
		}
	}
	slices.Sort(starts)
	var reports []WindowReport
	for _, start := range starts {
		reports = append(reports, j.close(j.windows[start])...)
		delete(j.windows, start)
	}
	j.openFrom = max(j.openFrom, closeBefore)
	return reports
}

// Stats returns the join's state.
func (j *Join) Stats() Stats {
	s := j.stats
	s.HeldBytes = j.heldBytes
	s.WaitingLabels = int64(len(j.waiting))
	return s
}

// noteVersion starts a new comparison generation when a version is first
// seen as champion or as shadow. Later predictions of an older version (a
// scorer instance still catching up) do not switch back.
func (j *Join) noteVersion(version int32, role string) {
	slot := int(version) * 2
	switch role {
	case RoleChampion:
	case RoleShadow:
		slot++
	default:
		return
	}
	if slot >= len(j.seen) {
		j.seen = append(j.seen, make([]bool, slot+1-len(j.seen))...)
	}
	if j.seen[slot] {
		return
	}
	j.seen[slot] = true
	if role == RoleChampion {
		j.champion = version
	} else {
		j.shadow = version
	}
	j.generations = append(j.generations, versions{j.champion, j.shadow})
}

// match counts a (prediction, label) pair in the window of the later of the
// two times, and a paired record for the comparison when the key's other
// role has matched too.
func (j *Join) match(e *entry, p, l *held) {
	if p.matched {
		return
	}
	p.matched = true
	if !l.matched {
		l.matched = true
		j.stats.MatchedLabels++
		if l.waitIndex >= 0 {
			heap.Remove(&j.waiting, int(l.waitIndex))
		}
	}
	j.stats.Matched++
	w := j.windowAt(max(p.at, l.at))
	w.metrics(j, p.version, p.role).add(p, l)
	if j.champion == noVersion || j.shadow == noVersion || j.cfg.multiclass() {
		return
	}
	gen := len(j.generations) - 1
	var champion, challenger *held
	for _, q := range e.preds {
		switch {
		case !q.matched:
		case q.version == j.champion && q.role == roleChampion:
			champion = q
		case q.version == j.shadow && q.role == roleShadow:
			challenger = q
		}
	}
	if champion == nil || challenger == nil || (p != champion && p != challenger) {
		return
	}
	w.addPaired(j.cfg.PairCap, pairedRecord{
		generation: gen,
		champion:   champion.value, challenger: challenger.value,
		truthClass: l.class, truthValue: l.value,
	})
}

// advance moves the clock and expires the labels whose wait is over.
func (j *Join) advance(at int64) {
	if at <= j.now {
		return
	}
	j.now = at
	for len(j.waiting) > 0 && j.waiting[0].at+j.wait <= j.now {
		l := heap.Pop(&j.waiting).(*held)
		j.windowAt(l.at+j.wait).unmatched++
		j.stats.Unmatched++
	}
}

// keepBudget evicts the oldest held items until the join fits its budget.
func (j *Join) keepBudget() {
	for j.heldBytes > j.cfg.Budget && j.oldest != nil {
		n := j.oldest
		j.unlink(n)
		e := n.entry
		j.stats.Evicted++
		if n.isLabel {
			e.label = nil
			if n.waitIndex >= 0 {
				heap.Remove(&j.waiting, int(n.waitIndex))
				j.windowAt(n.at+j.wait).unmatched++
				j.stats.Unmatched++
			}
		} else {
			e.preds = slices.DeleteFunc(e.preds, func(h *held) bool { return h == n })
			j.forgotThrough = max(j.forgotThrough, n.at)
		}
		if e.label == nil && len(e.preds) == 0 {
			j.forget(e)
		}
	}
}

// forget drops a key. A Go map keeps the size of its peak, which the
// budget charges only while the keys are held, so the map is rebuilt when
// it holds under a quarter of its peak.
func (j *Join) forget(e *entry) {
	delete(j.entries, e.key)
	j.heldBytes -= entryBytes(e.key)
	if len(j.entries) >= j.peakKeys/4 || j.peakKeys < 1024 {
		return
	}
	fresh := make(map[string]*entry, len(j.entries))
	maps.Copy(fresh, j.entries)
	j.entries, j.peakKeys = fresh, len(fresh)
}

func (j *Join) entryFor(key string) *entry {
	if e, ok := j.entries[key]; ok {
		return e
	}
	// A copy, so that the join does not pin the caller's record buffer.
	e := &entry{key: strings.Clone(key)}
	j.entries[e.key] = e
	j.peakKeys = max(j.peakKeys, len(j.entries))
	j.heldBytes += entryBytes(e.key)
	return e
}

func (j *Join) link(n *held) {
	n.prev = j.newest
	if j.newest != nil {
		j.newest.next = n
	} else {
		j.oldest = n
	}
	j.newest = n
	j.heldBytes += heldBytes(n)
	if n.isLabel {
		j.stats.HeldLabels++
	} else {
		j.stats.HeldPredictions++
	}
}

func (j *Join) unlink(n *held) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		j.oldest = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		j.newest = n.prev
	}
	n.prev, n.next = nil, nil
	j.heldBytes -= heldBytes(n)
	if n.isLabel {
		j.stats.HeldLabels--
	} else {
		j.stats.HeldPredictions--
	}
}

// windowAt returns the window holding time at, or the earliest open one
// when that window has already been flushed.
func (j *Join) windowAt(at int64) *window {
	start := floorTo(at, j.window)
	if start < j.openFrom {
		start = j.openFrom
		j.stats.AfterClose++
	}
	w, ok := j.windows[start]
	if !ok {
		w = &window{start: start, byVersion: make(map[versions]*versionMetrics)}
		j.windows[start] = w
	}
	return w
}

// floorTo rounds t down to a multiple of step, negative times included.
func floorTo(t, step int64) int64 {
	r := t % step
	if r < 0 {
		r += step
	}
	return t - r
}

// waitingLabels is a min-heap of waiting labels by time, hence by deadline.
// Labels with equal deadlines expire in the same call, so the order among
// them, which a heap does not keep, changes no count.
type waitingLabels []*held

func (h waitingLabels) Len() int           { return len(h) }
func (h waitingLabels) Less(a, b int) bool { return h[a].at < h[b].at }
func (h waitingLabels) Swap(a, b int) {
	h[a], h[b] = h[b], h[a]
	h[a].waitIndex, h[b].waitIndex = int32(a), int32(b)
}
func (h *waitingLabels) Push(x any) {
	n := x.(*held)
	n.waitIndex = int32(len(*h))
	*h = append(*h, n)
}
func (h *waitingLabels) Pop() any {
	old := *h
	n := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	if cap(*h) > 1024 && len(*h) < cap(*h)/4 {
		// The budget charges a slot per held label: give back the
		// slots of a wave of labels gone.
		*h = slices.Clone(*h)
	}
	n.waitIndex = -1
	return n
}

// interner numbers the few distinct strings (versions, roles) so that each
// held prediction stores an int32 instead of a string.
type interner struct {
	names []string
	ids   map[string]int32
}

func (in *interner) index(s string) int32 {
	if i, ok := in.ids[s]; ok {
		return i
	}
	if in.ids == nil {
		in.ids = make(map[string]int32)
	}
	i := int32(len(in.names))
	in.names = append(in.names, s)
	in.ids[s] = i
	return i
}

func (in *interner) name(i int32) string { return in.names[i] }

// versions is a (version, role) or (champion, challenger) pair of indexes.
type versions struct{ a, b int32 }
