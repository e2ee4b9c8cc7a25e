package online

import (
	"cmp"
	"maps"
	"slices"
	"time"
)

// window accumulates one tumbling window until Flush closes it.
type window struct {
	start                      int64
	byVersion                  map[versions]*versionMetrics // by (version, role)
	unmatched, late, duplicate int64
	paired                     []pairedRecord // for the comparison, applied when the window closes
	pairedOmitted              int64
}

// pairedRecord is one labelled record that the champion and the challenger
// of a comparison generation both scored.
type pairedRecord struct {
	generation           int
	champion, challenger float64 // scores or values
	truthClass           int32
	truthValue           float64
}

func (w *window) addPaired(pairCap int, r pairedRecord) {
	if len(w.paired) >= pairCap {
		w.pairedOmitted++
		return
	}
	w.paired = append(w.paired, r)
}

// versionMetrics holds the accumulator of the join's task.
type versionMetrics struct {
	binary     *Binary
	multiclass *Multiclass
	regression *Regression
}

func (w *window) metrics(j *Join, version, role int32) *versionMetrics {
	key := versions{version, role}
	if m, ok := w.byVersion[key]; ok {
		return m
	}
	m := &versionMetrics{}
	switch {
	case j.cfg.binary():
		m.binary = NewBinary(j.cfg.PairCap)
	case j.cfg.multiclass():
		m.multiclass = NewMulticlass(len(j.cfg.Labels))
	default:
		m.regression = &Regression{}
	}
	w.byVersion[key] = m
	return m
}

func (m *versionMetrics) add(p, l *held) {
	switch {
	case m.binary != nil:
		m.binary.Add(p.value, p.class == 1, l.class == 1)
	case m.multiclass != nil:
		m.multiclass.Add(int(p.class), int(l.class), p.scores)
	default:
		m.regression.Add(p.value, l.value)
	}
}

func (m *versionMetrics) fill(r *WindowReport) {
	switch {
	case m.binary != nil:
		r.Labelled = m.binary.Count()
		r.ROCAUC, r.F1, r.LogLoss = m.binary.ROCAUC(), m.binary.F1(), m.binary.LogLoss()
		r.AUCOmitted = m.binary.Omitted()
	case m.multiclass != nil:
		r.Labelled = m.multiclass.Count()
		r.F1, r.LogLoss = m.multiclass.F1(), m.multiclass.LogLoss()
	default:
		r.Labelled = m.regression.Count()
		r.RMSE, r.MAE = m.regression.RMSE(), m.regression.MAE()
	}
}

// cumulative is the comparison of one generation (one champion and
// challenger pair), built window by window as windows close.
type cumulative struct {
	generation int
	scores     *PairedScores
	errors     *PairedErrors
	omitted    int64
}

// close applies the window's paired records to the comparison and returns
// the window's reports: one per (version, role) with matched pairs; the
// comparison's champion carries the comparison. A window with labels but no
// pairs reports them on the current champion and shadow.
func (j *Join) close(w *window) []WindowReport {
	comparison := j.compare(w)
	keys := slices.Collect(maps.Keys(w.byVersion))
	if comparison != nil {
		champion := versions{j.generations[j.comparison.generation].a, roleChampion}
		if !slices.Contains(keys, champion) {
			keys = append(keys, champion)
		}
	}
	if len(keys) == 0 {
		for _, v := range []versions{{j.champion, roleChampion}, {j.shadow, roleShadow}} {
			if v.a != noVersion {
				keys = append(keys, v)
			}
		}
	}
	slices.SortFunc(keys, func(x, y versions) int {
		return cmp.Or(
			cmp.Compare(roleRank(x.b), roleRank(y.b)),
			cmp.Compare(j.roles.name(x.b), j.roles.name(y.b)),
			cmp.Compare(j.versions.name(x.a), j.versions.name(y.a)))
	})
	base := WindowReport{
		Start: time.Unix(0, w.start).UTC(), End: time.Unix(0, w.start+j.window).UTC(),
		Unmatched: w.unmatched, Late: w.late, Duplicate: w.duplicate,
	}
	if len(keys) == 0 {
		return []WindowReport{base}
	}
	reports := make([]WindowReport, 0, len(keys))
	for _, k := range keys {
		r := base
		r.Version, r.Role = j.versions.name(k.a), j.roles.name(k.b)
		if m, ok := w.byVersion[k]; ok {
			m.fill(&r)
		}
		if comparison != nil && k.b == roleChampion && r.Version == comparison.ChampionVersion {
			r.Comparison = comparison
		}
		reports = append(reports, r)
	}
	return reports
}

// compare adds the window's paired records to the comparison, starting a
// new one at the first record of a newer generation, and tests it.
func (j *Join) compare(w *window) *Comparison {
	slices.SortStableFunc(w.paired, func(x, y pairedRecord) int { return cmp.Compare(x.generation, y.generation) })
	for _, r := range w.paired {
		c := j.comparison
		switch {
		case c == nil || r.generation > c.generation:
			c = &cumulative{generation: r.generation}
			if j.cfg.binary() {
				c.scores = NewPairedScores(j.cfg.PairCap)
			} else {
				c.errors = &PairedErrors{}
			}
			j.comparison = c
		case r.generation < c.generation:
			continue
		}
		if c.scores != nil {
			c.scores.Add(r.champion, r.challenger, r.truthClass == 1)
		} else {
			c.errors.Add(r.champion-r.truthValue, r.challenger-r.truthValue)
		}
	}
	c := j.comparison
	if c == nil {
		return nil
	}
	c.omitted += w.pairedOmitted
	out := &Comparison{
		ChampionVersion:   j.versions.name(j.generations[c.generation].a),
		ChallengerVersion: j.versions.name(j.generations[c.generation].b),
	}
	var res TestResult
	var err error
	if c.scores != nil {
		out.Metric, out.Test = MetricROCAUC, TestDeLong
		res, err = c.scores.Test()
		out.Omitted = c.omitted + c.scores.Omitted()
	} else {
		out.Metric, out.Test = MetricMAE, TestPairedT
		res, err = c.errors.Test()
		out.Omitted = c.omitted
	}
	if err != nil { // too few records yet
		return nil
	}
	out.Paired, out.Champion, out.Challenger, out.Z, out.PValue = res.Paired, res.Champion, res.Challenger, res.Z, res.PValue
	return out
}

func roleRank(role int32) int {
	switch role {
	case roleChampion:
		return 0
	case roleShadow:
		return 1
	default:
		return 2
	}
}
