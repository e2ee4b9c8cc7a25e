package jobs

import (
	"math"
	"slices"
	"time"
)

// Defaults of on_drift.
const (
	DefaultDriftPSI = 0.25
	DefaultDriftFor = 15 * time.Minute
	// DefaultDriftMinRecords: the PSI of an unchanged feature over n rows
	// is about (bins - 1) / n, 0.018 over 500 rows, well under any useful
	// threshold; over 20 rows it is 0.45, over the default one.
	DefaultDriftMinRecords = 500
)

// OnDrift retrains a job (not forced) when the scorer's drift windows of
// the job's model's champion have had a watched PSI above PSI for at least
// For without a break: consecutive windows, none at or under the
// threshold, whose span covers For. After it triggers, only windows that
// end after the training it asked for began count, and they must cover
// For again: one retraining per For at most, however long the drift lasts.
type OnDrift struct {
	// Topic is the scorer's monitor topic, "<input topic>.monitor"; by
	// default the job's source topic's.
	Topic string `yaml:"topic" json:"topic,omitempty"`
	// PSI is the threshold; 0 means DefaultDriftPSI.
	PSI float64 `yaml:"psi" json:"psi,omitempty"`
	// For is how long the PSI must stay above it; 0 means DefaultDriftFor.
	For time.Duration `yaml:"for" json:"for,omitempty"`
	// Features are the features whose PSI is watched, named as in the
	// monitoring record (a path; an array element as window[3]); empty
	// means every feature.
	Features []string `yaml:"features" json:"features,omitempty"`
	// Prediction says whether the prediction's PSI is watched too; nil
	// means true.
	Prediction *bool `yaml:"prediction" json:"prediction,omitempty"`
	// MinRecords is the fewest rows a window must describe to count: a
	// smaller one (a quiet hour, the first window after a start) breaks
	// a run, as a low one does, since its PSI is mostly noise. 0 means
	// DefaultDriftMinRecords.
	MinRecords int64 `yaml:"min_records" json:"min_records,omitempty"`
}

// withDefaults fills in what was left out.
func (d OnDrift) withDefaults() OnDrift {
	if d.MinRecords == 0 {
		d.MinRecords = DefaultDriftMinRecords
	}
	if d.PSI == 0 {
		d.PSI = DefaultDriftPSI
	}
	if d.For == 0 {
		d.For = DefaultDriftFor
	}
	if d.Prediction == nil {
		watched := true
		d.Prediction = &watched
	}
	return d
}

// validateOnDrift checks on_drift, and that on_drift and online follow one
// monitor topic.
func (j Job) validateOnDrift(bad func(field, format string, args ...any)) {
	d := j.OnDrift
	if d == nil {
		return
	}
	if math.IsNaN(d.PSI) || math.IsInf(d.PSI, 0) || d.PSI < 0 {
		bad("on_drift.psi", "%g is not a positive number", d.PSI)
	}
	if d.For < 0 {
		bad("on_drift.for", "must not be negative")
	}
	if d.MinRecords < 0 {
		bad("on_drift.min_records", "must not be negative")
	}
	if slices.Contains(d.Features, "") {
		bad("on_drift.features", "a feature has no name")
	}
	if o := j.Online; o != nil && d.Topic != "" && o.Topic != "" && d.Topic != o.Topic {
		bad("on_drift.topic, online.topic", "%q and %q differ: the scorer writes every window of a model to one topic, <input topic>.monitor", d.Topic, o.Topic)
	}
}

// monitorTopic is the topic the job's on_drift and online rules follow.
func (j Job) monitorTopic() string {
	switch {
	case j.OnDrift != nil && j.OnDrift.Topic != "":
		return j.OnDrift.Topic
	case j.Online != nil && j.Online.Topic != "":
		return j.Online.Topic
	}
	return j.Source.Topic + ".monitor"
}

// watchesMonitor reports whether the job follows its monitor topic.
func (j Job) watchesMonitor() bool {
	return j.OnDrift != nil || j.Promote == PromoteOnline
}

// driftWatch follows one job's run of drifting windows.
type driftWatch struct {
	rule OnDrift // with defaults
	// version is the champion version the run is of: a new champion
	// brings a new reference, and starts a new run.
	version string
	// start and end bound the span the run covers; a zero start: no run.
	start, end time.Time
	windows    int
	// triggered is when the watch last triggered the job: windows count
	// again only once a training that began after it has begun, and only
	// those that end after it began.
	triggered time.Time
	// triggeredOn is the champion version whose drift triggered it, and
	// answered the champion version whose drift a training has answered,
	// under promote: online, with a challenger: that version's drift
	// retrains no more while the challenger is judged (a new challenger
	// would restart the comparison), until another champion brings its
	// own reference or the challenger is given up on. A training that
	// failed, or whose version was promoted at once, is no such answer.
	triggeredOn, answered string
}

func newDriftWatch(rule OnDrift) *driftWatch { return &driftWatch{rule: rule.withDefaults()} }

// driftVerdict is what one window did to the run.
type driftVerdict struct {
	due bool
	// psi is the window's highest watched PSI, and what it was of.
	psi     float64
	of      string
	windows int           // in the run, when due
	covered time.Duration // by the run, when due
}

// observe folds a drift window of the job's champion into the run. began
// is when the job's latest training began, now the time a trigger would be
// asked for. When the run covers For, the verdict is due and the run
// starts over.
func (d *driftWatch) observe(w monitorWindow, began, now time.Time) driftVerdict {
	psi, of, watched := d.watchedPSI(w)
	v := driftVerdict{psi: psi, of: of}
	if w.version == d.answered {
		d.reset()
		return v
	}
	floor := time.Time{}
	if !d.triggered.IsZero() {
		if began.Before(d.triggered) || !w.end.After(began) {
			// The training asked for has not begun, or the window ended
			// before it did: it shows the drift already acted on.
			d.reset()
			return v
		}
		floor = began
	}
	if !watched || psi <= d.rule.PSI || w.records < d.rule.MinRecords {
		d.reset()
		return v
	}
	if d.start.IsZero() || w.start.After(d.end) || w.version != d.version {
		// A gap between windows breaks the run, as a low window does.
		d.start, d.end, d.version, d.windows = w.start, w.end, w.version, 0
	}
	d.windows++
	if d.start.Before(floor) {
		d.start = floor
	}
	if w.end.After(d.end) {
		d.end = w.end
	}
	if covered := d.end.Sub(d.start); covered >= d.rule.For {
		v.due, v.windows, v.covered = true, d.windows, covered
		d.reset()
		d.triggered, d.triggeredOn = now, w.version
	}
	return v
}

// trained tells the watch a training that began at began ended, having
// published a version if published: a training begun after the last
// trigger answers the drift of the champion it was triggered on.
func (d *driftWatch) trained(began time.Time, published bool) {
	if published && !d.triggered.IsZero() && !began.Before(d.triggered) {
		d.answered = d.triggeredOn
	}
}

func (d *driftWatch) reset() {
	d.start, d.end, d.version, d.windows = time.Time{}, time.Time{}, "", 0
}

// watchedPSI is the highest PSI of the window among those the rule
// watches, and what it is of; watched is false when none has one (the
// version has no reference profile).
func (d *driftWatch) watchedPSI(w monitorWindow) (psi float64, of string, watched bool) {
	consider := func(x *float64, name string) {
		if x != nil && !math.IsNaN(*x) && (!watched || *x > psi) {
			psi, of, watched = *x, name, true
		}
	}
	for _, f := range w.features {
		if len(d.rule.Features) == 0 || slices.Contains(d.rule.Features, f.name) {
			consider(f.psi, f.name)
		}
	}
	if *d.rule.Prediction {
		consider(w.predictionPSI, "prediction")
	}
	return psi, of, watched
}
