package jobs

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/model"
)

// Defaults and bounds of online.
const (
	DefaultOnlineMinLabelled = 1000
	DefaultOnlineAlpha       = 0.05
	// MinOnlineLabelled is the fewest paired records a rule may ask for:
	// below it neither DeLong's nor the t-test's normal approximation
	// holds.
	MinOnlineLabelled = 30
	// MaxOnlineAlpha bounds alpha: a one-sided test at more than 0.5
	// would promote a challenger the data says is worse.
	MaxOnlineAlpha = 0.5
)

// Metrics the scorer compares a challenger with its champion on.
const (
	OnlineROCAUC = "roc_auc" // binary classifiers, higher is better (DeLong)
	OnlineMAE    = "mae"     // regressors, lower is better (paired t-test)
)

// Online is the rule of promote: online. A new version is published as
// the challenger only; the scorer shadows it beside the champion and, as
// labels arrive, writes on each of the champion's online windows a
// comparison of the two on the labelled records both scored. The champion
// moves to the challenger on the first comparison of these very two
// versions over at least MinLabelled paired records in which the
// challenger is better (z > 0) with a one-sided p-value below Alpha.
type Online struct {
	// Topic is the scorer's monitor topic, as on_drift's (the same
	// default).
	Topic string `yaml:"topic" json:"topic,omitempty"`
	// Metric is OnlineROCAUC (classification, the default) or OnlineMAE
	// (regression, the default).
	Metric string `yaml:"metric" json:"metric,omitempty"`
	// MinLabelled is the fewest paired records a promotion rests on; 0
	// means DefaultOnlineMinLabelled.
	MinLabelled int64 `yaml:"min_labelled" json:"min_labelled,omitempty"`
	// Alpha is the significance level, in (0, MaxOnlineAlpha]; 0 means
	// DefaultOnlineAlpha.
	Alpha float64 `yaml:"alpha" json:"alpha,omitempty"`
	// MaxWait, when set, gives a challenger up (logged, never promoted)
	// once this long has passed since its version was published.
	MaxWait time.Duration `yaml:"max_wait" json:"max_wait,omitempty"`
}

// withDefaults fills in what was left out; task is the job's.
func (o Online) withDefaults(task model.Task) Online {
	if o.Metric == "" {
		o.Metric = onlineMetric(task)
	}
	if o.MinLabelled == 0 {
		o.MinLabelled = DefaultOnlineMinLabelled
	}
	if o.Alpha == 0 {
		o.Alpha = DefaultOnlineAlpha
	}
	return o
}

// onlineMetric is the metric the scorer compares models of task on.
func onlineMetric(task model.Task) string {
	if task == model.Regression {
		return OnlineMAE
	}
	return OnlineROCAUC
}

// validateOnline checks that promote: online and the online block come
// together, and the block's values.
func (j Job) validateOnline(bad func(field, format string, args ...any)) {
	o := j.Online
	switch {
	case j.Promote == PromoteOnline && o == nil:
		bad("online", "promote: online needs the online block (metric, min_labelled, alpha, max_wait; {} for the defaults)")
		return
	case o == nil:
		return
	case j.Promote != PromoteOnline:
		bad("online", "is the rule of promote: online, and promote is %q", j.promotePolicy())
		return
	}
	task := j.Options.WithDefaults().Task
	switch want := onlineMetric(task); {
	case o.Metric != "" && o.Metric != OnlineROCAUC && o.Metric != OnlineMAE:
		bad("online.metric", "%q is not %s (classification) or %s (regression)", o.Metric, OnlineROCAUC, OnlineMAE)
	case o.Metric != "" && o.Metric != want:
		bad("online.metric", "%s does not compare a model of task %s: want %s", o.Metric, task, want)
	}
	if math.IsNaN(o.Alpha) || o.Alpha < 0 || o.Alpha > MaxOnlineAlpha {
		bad("online.alpha", "%g is not in (0, %g]", o.Alpha, MaxOnlineAlpha)
	}
	if o.MinLabelled < 0 || (o.MinLabelled > 0 && o.MinLabelled < MinOnlineLabelled) {
		bad("online.min_labelled", "%d is below %d", o.MinLabelled, MinOnlineLabelled)
	}
	if o.MaxWait < 0 {
		bad("online.max_wait", "must not be negative")
	}
}

// promotePolicy is the job's promotion policy as configured, its default
// named.
func (j Job) promotePolicy() string {
	if j.Promote == "" {
		return PromoteIfBetter
	}
	return j.Promote
}

// What the online rule made of one comparison: the values of the result
// label of streamscore_training_online_decisions_total.
const (
	onlinePromoted       = "promoted"
	onlineTooFew         = "too_few"         // fewer paired records than min_labelled
	onlineNotSignificant = "not_significant" // z <= 0 or p_value >= alpha
	onlineStale          = "stale"           // not of the current champion and challenger, or another metric
	onlineGivenUp        = "given_up"        // the challenger is older than max_wait
	onlineInvalid        = "invalid"         // values the catalog would refuse as evidence (catalog.Evidence.Validate)
	onlineFailed         = "failed"          // the catalog refused the promotion
)

// onlineJudge applies a job's online rule to the comparisons of its
// champion's online windows.
type onlineJudge struct {
	rule Online // with defaults
	// givenUp is the challenger version last given up on, logged once.
	givenUp int
}

// onlineVerdict is the rule's decision on one comparison.
type onlineVerdict struct {
	result   string
	why      string // why nothing moved, for the log
	reason   string // of the promotion, kept in the alias history
	evidence catalog.Evidence
}

// judge decides on the comparison of an online window of the champion,
// given the versions the aliases point at now.
func (o *onlineJudge) judge(w monitorWindow, champion, challenger catalog.Version, now time.Time) onlineVerdict {
	c := w.comparison
	ev := catalog.Evidence{
		Metric: c.metric, Test: c.test, Paired: c.paired, ChampionValue: c.champion, ChallengerValue: c.challenger,
		Z: c.z, PValue: c.pValue, WindowEnd: w.end, ChampionVersion: champion.Version, ChallengerVersion: challenger.Version,
	}
	stays := func(result, why string) onlineVerdict { return onlineVerdict{result: result, why: why, evidence: ev} }
	switch {
	case challenger.Version == champion.Version:
		return stays(onlineStale, "no challenger apart from the champion")
	case c.championVersion != strconv.Itoa(champion.Version) || c.challengerVersion != strconv.Itoa(challenger.Version):
		return stays(onlineStale, fmt.Sprintf("compares v%s with v%s; the challenger is v%d, the champion v%d",
			c.challengerVersion, c.championVersion, challenger.Version, champion.Version))
	case c.metric != o.rule.Metric:
		return stays(onlineStale, fmt.Sprintf("compares %s, the rule %s", c.metric, o.rule.Metric))
	case o.rule.MaxWait > 0 && now.Sub(challenger.CreatedAt) > o.rule.MaxWait:
		return stays(onlineGivenUp, fmt.Sprintf("challenger v%d was published %s ago, past max_wait %s",
			challenger.Version, now.Sub(challenger.CreatedAt).Round(time.Second), o.rule.MaxWait))
	}
	// Numbers no test gives (not finite, p outside 0..1, names of a
	// megabyte) would be refused by the catalog: refuse them here.
	if err := ev.Validate(); err != nil {
		return stays(onlineInvalid, err.Error())
	}
	switch {
	case c.paired < o.rule.MinLabelled:
		return stays(onlineTooFew, fmt.Sprintf("%d paired records, fewer than min_labelled %d", c.paired, o.rule.MinLabelled))
	case c.z <= 0 || c.pValue >= o.rule.Alpha:
		return stays(onlineNotSignificant, fmt.Sprintf("z=%.2f p=%.3g: not better at alpha %g", c.z, c.pValue, o.rule.Alpha))
	}
	return onlineVerdict{
		result: onlinePromoted,
		reason: fmt.Sprintf("online: %s %.4g vs %.4g over %s labelled records, %s z=%.1f p=%.2g",
			c.metric, c.challenger, c.champion, thousands(c.paired), testName(c.test), c.z, c.pValue),
		evidence: ev,
	}
}

// testName is how a reason names the scorer's test.
func testName(test string) string {
	switch test {
	case "delong":
		return "DeLong"
	case "paired_t":
		return "paired t"
	}
	return test
}

// thousands writes n with commas between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	start := 0
	if n < 0 {
		start = 1
	}
	for i := len(s) - 3; i > start; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
