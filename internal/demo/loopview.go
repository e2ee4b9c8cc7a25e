package demo

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/monitor"
)

// Loop is what the sensor stream's closed loop has done so far, as the
// view saw it.
type Loop struct {
	// Shifted says the readings have shifted.
	Shifted bool
	// Versions counts the sensor model's versions in the catalog;
	// Champion and Challenger are the versions its aliases point at.
	Versions, Champion, Challenger int
	// Serving and Shadowing are the versions the sensor scorer scores
	// with, its champion and its shadow; "" for none.
	Serving, Shadowing string
	// Shadowed are the versions the scorer has shadow-scored.
	Shadowed map[string]bool
	// DriftTrainings counts the trainings the drift asked for.
	DriftTrainings int
	// PSIAfterShift is each feature's largest PSI in the champion's drift
	// windows that ended after the shift.
	PSIAfterShift map[string]float64
	// OnlineWindows counts online windows by version and role, as
	// "2 shadow".
	OnlineWindows map[string]int
	// OnlinePromotions counts the champion's moves decided on the online
	// comparison.
	OnlinePromotions int
}

// loopWatch follows the closed loop: the shift, the trainer's drift
// trainings, the catalog's alias moves and the versions the scorer scores
// with, printing a line for each change, and keeps what it saw in Loop.
type loopWatch struct {
	catalog *catalog.Catalog
	scorer  gatherer
	trainer gatherer
	prod    *producer
	job     jobs.Job // the sensor model's, whose rules it reports
	// since is when the demo started: the catalog's history before it is
	// an earlier run's.
	since   time.Time
	changes int // alias changes printed
	state   Loop
}

func newLoopWatch(cat *catalog.Catalog, scorer gatherer, trainerMetrics string, prod *producer, job jobs.Job, since time.Time) *loopWatch {
	return &loopWatch{
		catalog: cat, scorer: scorer, trainer: scrape(trainerMetrics), prod: prod, job: job, since: since,
		changes: len(cat.History(sensorModel)),
		state:   Loop{Shadowed: map[string]bool{}, PSIAfterShift: map[string]float64{}, OnlineWindows: map[string]int{}},
	}
}

// poll prints what changed since the last poll; times are in seconds since
// start.
func (w *loopWatch) poll(out io.Writer, start time.Time) {
	if !w.state.Shifted && w.prod.shiftedAt.Load() != 0 {
		w.state.Shifted = true
		fmt.Fprintf(out, "  shift   the readings are %.0f °C warmer from now on: the champion learnt the old normal, and takes the new one for overheating\n", shiftDegrees)
	}
	if n := int(counter(w.trainer, "streamscore_training_triggers_total", "reason", "drift")); n > w.state.DriftTrainings {
		w.state.DriftTrainings = n
		fmt.Fprintf(out, "  trainer drift above PSI %.2f for %v: retraining %s on the last %v of %s\n",
			w.job.OnDrift.PSI, w.job.OnDrift.For, sensorModel, w.job.Window, historyTopic)
	}
	history := w.catalog.History(sensorModel)
	for _, c := range history[min(w.changes, len(history)):] {
		fmt.Fprintf(out, "  catalog %4.0fs %s %s -> v%d: %s\n", c.At.Sub(start).Seconds(), sensorModel, c.Alias, c.Version, c.Reason)
		if c.Alias == jobs.AliasChampion && c.Evidence != nil {
			w.state.OnlinePromotions++
		}
	}
	w.changes = len(history)
	w.state.Versions = len(w.catalog.Versions(sensorModel))
	aliases := w.catalog.Aliases(sensorModel)
	w.state.Champion, w.state.Challenger = aliases[jobs.AliasChampion], aliases[jobs.AliasChallenger]

	serving, shadowing := infoVersion(w.scorer, "streamscore_model_info"), infoVersion(w.scorer, "streamscore_shadow_model_info")
	if serving != w.state.Serving || shadowing != w.state.Shadowing {
		w.state.Serving, w.state.Shadowing = serving, shadowing
		shadow := "no shadow"
		switch shadowing {
		case "":
		case serving:
			shadow = "the challenger is the champion: nothing to shadow-score"
		default:
			shadow = "shadow-scoring v" + shadowing + " to " + shadowTopic
			w.state.Shadowed[shadowing] = true
		}
		fmt.Fprintf(out, "  scorer  %s: scoring with v%s, %s\n", sensorTopic, serving, shadow)
	}
}

// observe folds a monitoring window into the loop's state.
func (w *loopWatch) observe(win monitorWindow) {
	switch win.kind {
	case monitor.KindDrift:
		shifted := w.prod.shiftedAt.Load()
		if shifted == 0 || win.role != monitor.RoleChampion || !win.end.After(time.Unix(0, shifted)) {
			return
		}
		for name, psi := range win.psi {
			w.state.PSIAfterShift[name] = max(w.state.PSIAfterShift[name], psi)
		}
	case monitor.KindOnline:
		w.state.OnlineWindows[win.version+" "+win.role]++
	}
}

// summary says what the loop did in this run: the versions trained, and
// every move of the aliases with its reason; times in seconds since start.
func (w *loopWatch) summary(out io.Writer, prod *producer, start time.Time) {
	fmt.Fprintf(out, "The loop: %d labelled readings kept in %s, %d labels told late on %s, trainings asked for by drift: %d.\n",
		prod.kept.Load(), historyTopic, prod.labels.Load(), labelsTopic, w.state.DriftTrainings)
	at := func(t time.Time) string {
		if t.Before(start) {
			return "before the stream"
		}
		return fmt.Sprintf("at %.0fs", t.Sub(start).Seconds())
	}
	for _, v := range w.catalog.Versions(sensorModel) {
		if v.CreatedAt.Before(w.since) {
			continue
		}
		read := int64(0)
		for _, r := range v.Source.Ranges {
			read += r.End - r.Start
		}
		parent := ""
		if v.Parent > 0 {
			parent = fmt.Sprintf(", to replace v%d", v.Parent)
		}
		fmt.Fprintf(out, "  %s v%d trained %s on %d readings of %s%s: holdout AUC %.3f\n",
			sensorModel, v.Version, at(v.CreatedAt), read, v.Source.Topic, parent, v.Metrics[fit.MetricAUC])
	}
	for _, c := range w.catalog.History(sensorModel) {
		if c.At.Before(w.since) {
			continue
		}
		fmt.Fprintf(out, "  %s %-10s -> v%d %s: %s\n", sensorModel, c.Alias, c.Version, at(c.At), c.Reason)
	}
	aliases := w.catalog.Aliases(sensorModel)
	fmt.Fprintf(out, "  now: champion v%d, challenger v%d\n", aliases[jobs.AliasChampion], aliases[jobs.AliasChallenger])
}

// infoVersion is the version label of an info gauge (value 1), "" when
// there is none.
func infoVersion(g gatherer, name string) string {
	families, err := g.Gather()
	if err != nil {
		return ""
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if m.GetGauge().GetValue() == 1 {
				return label(m, "version")
			}
		}
	}
	return ""
}

// counter is the sum of a counter's series whose label key has value.
func counter(g gatherer, name, key, value string) float64 {
	families, err := g.Gather()
	if err != nil {
		return 0
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if label(m, key) == value {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

// scraper gathers metrics from a /metrics URL: the trainer runs in this
// process, but shows its metrics only there.
type scraper struct {
	url    string
	client *http.Client
}

func scrape(url string) scraper {
	return scraper{url: url, client: &http.Client{Timeout: time.Second}}
}

func (s scraper) Gather() ([]*dto.MetricFamily, error) {
	resp, err := s.client.Get(s.url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", s.url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, err
	}
	return slices.Collect(maps.Values(families)), nil
}
