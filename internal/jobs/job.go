package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/model"
)

// Aliases the trainer maintains: every new version becomes the challenger;
// the champion, which scorers serve by default, moves only to a version
// that beats it.
const (
	AliasChampion   = "champion"
	AliasChallenger = "challenger"
)

// Promotion policies of a job.
const (
	// PromoteIfBetter moves the champion to a new version only if it beats
	// the champion on the same holdout (the default).
	PromoteIfBetter = "if_better"
	// PromoteAlways moves the champion to every new version (forced).
	PromoteAlways = "always"
	// PromoteNever only publishes, as the challenger; a person promotes.
	PromoteNever = "never"
	// PromoteOnline publishes as the challenger, and the champion moves
	// to it when the scorer's online comparison on labelled live records
	// says it is better (Job.Online; see online.go).
	PromoteOnline = "online"
)

// Job is one model's retraining from a topic.
type Job struct {
	// Name is the model's name in the catalog.
	Name   string         `yaml:"name" json:"name"`
	Source catalog.Source `yaml:"source" json:"source"`
	// TestSource, when set, is read as Source is and evaluates the model,
	// which then trains on every row of Source: offset ranges of the same
	// topic, or another topic with its own window and ranges. It replaces
	// options.holdout and options.holdout_from; on the same topic it must
	// not overlap Source.
	TestSource *catalog.Source `yaml:"test_source" json:"test_source,omitempty"`
	// Window, when set, trains on the records of the last Window only (it
	// sets Source.From at each run); a retrain then follows the stream.
	Window  time.Duration `yaml:"window" json:"window,omitempty"`
	Options fit.Options   `yaml:"options" json:"options"`
	// Promote is PromoteIfBetter (default), PromoteAlways, PromoteNever or
	// PromoteOnline.
	Promote string `yaml:"promote" json:"promote,omitempty"`
	// Online is the rule of PromoteOnline, which needs it.
	Online *Online `yaml:"online" json:"online,omitempty"`
	// OnDrift, when set, retrains when the scorer's drift windows of the
	// champion stay above a PSI threshold (see ondrift.go).
	OnDrift *OnDrift `yaml:"on_drift" json:"on_drift,omitempty"`
	// Schedule retrains every so often; zero means no schedule.
	Schedule time.Duration `yaml:"schedule" json:"schedule,omitempty"`
	// EveryRecords retrains once this many records have arrived on the
	// source topic since the last training; zero means never.
	EveryRecords int64 `yaml:"every_records" json:"every_records,omitempty"`
}

// Validate checks a job without connecting anywhere.
func (j Job) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: job %q: %s: %s", fit.ErrInvalidOptions, j.Name, field, fmt.Sprintf(format, args...)))
	}
	if err := catalog.ValidName(j.Name); err != nil {
		bad("name", "%s", err)
	}
	if j.Source.Topic == "" {
		bad("source.topic", "is required")
	}
	checkRanges := func(field string, ranges []catalog.OffsetRange) {
		first := map[int32]int{} // partition -> index of its range
		for i, r := range ranges {
			name := fmt.Sprintf("%s.ranges[%d]", field, i)
			switch {
			case r.Partition < 0:
				bad(name, "partition %d is negative", r.Partition)
			case r.Start < 0:
				bad(name, "start %d is negative", r.Start)
			case r.End <= r.Start:
				bad(name, "end %d is not after start %d (end is exclusive)", r.End, r.Start)
			}
			if k, seen := first[r.Partition]; seen {
				bad(name, "partition %d already has %s.ranges[%d]: give one range per partition", r.Partition, field, k)
			} else {
				first[r.Partition] = i
			}
		}
	}
	checkRanges("source", j.Source.Ranges)
	if j.TestSource != nil {
		checkRanges("test_source", j.TestSource.Ranges)
	}
	if j.Window < 0 || j.Schedule < 0 || j.EveryRecords < 0 {
		bad("window, schedule, every_records", "must not be negative")
	}
	if j.Window > 0 && !j.Options.HoldoutFrom.IsZero() {
		bad("window, options.holdout_from", "the window moves its start past a fixed holdout_from, after which every record read is held out: give a holdout fraction or a test_source with a window, or holdout_from without one")
	}
	switch j.Promote {
	case "", PromoteIfBetter, PromoteAlways, PromoteNever, PromoteOnline:
	default:
		bad("promote", "%q is not one of %s, %s, %s, %s", j.Promote, PromoteIfBetter, PromoteAlways, PromoteNever, PromoteOnline)
	}
	j.validateOnline(bad)
	j.validateOnDrift(bad)
	if j.Options.Subject != "" {
		bad("options.subject", "a job checks its features against its topic's schema (%s-value): subject is for a REST model's rows", j.Source.Topic)
	}
	if err := j.Options.WithDefaults().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("job %q: options: %w", j.Name, err))
	}
	o := j.Options
	if t := j.TestSource; t != nil {
		switch {
		case t.Topic == "":
			bad("test_source.topic", "is required")
		case o.HoldoutGiven() || !o.HoldoutFrom.IsZero():
			bad("test_source", "give one of options.holdout, options.holdout_from and test_source, not several")
		case j.Window == 0 && overlaps(j.Source, *t):
			bad("test_source", "overlaps source on topic %q: the model would be evaluated on records it learnt from; give disjoint ranges or windows", t.Topic)
		}
	}
	if o.HoldoutGiven() && o.Holdout == 0 && o.HoldoutFrom.IsZero() && j.TestSource == nil && (j.Promote == "" || j.Promote == PromoteIfBetter) {
		errs = append(errs, fmt.Errorf("%w: job %q: options.%w", fit.ErrInvalidOptions, j.Name, fit.ErrHoldoutZeroIfBetter))
	}
	return errors.Join(errs...)
}

// overlaps reports whether two sources may hold the same records: the
// same topic, time windows that meet, and offsets that meet (a source
// without ranges reads every partition).
func overlaps(a, b catalog.Source) bool {
	if a.Topic != b.Topic {
		return false
	}
	if !a.To.IsZero() && !b.From.IsZero() && !b.From.Before(a.To) ||
		!b.To.IsZero() && !a.From.IsZero() && !a.From.Before(b.To) {
		return false
	}
	if len(a.Ranges) == 0 || len(b.Ranges) == 0 {
		return true
	}
	for _, x := range a.Ranges {
		for _, y := range b.Ranges {
			if x.Partition == y.Partition && x.Start < y.End && y.Start < x.End {
				return true
			}
		}
	}
	return false
}

// Catalog is what a training needs of the model registry.
type Catalog interface {
	Resolve(name, alias string) (catalog.Version, error)
	Artifact(ctx context.Context, name string, version int) ([]byte, error)
	Publish(ctx context.Context, v catalog.Version, artifact []byte) (catalog.Version, error)
	SetAlias(ctx context.Context, name, alias string, version int, reason string, forced bool) (catalog.AliasChange, error)
	// SetAliasWithEvidence is SetAlias, not forced, recording what an
	// online promotion rested on.
	SetAliasWithEvidence(ctx context.Context, name, alias string, version int, reason string, ev catalog.Evidence) (catalog.AliasChange, error)
}

// Outcome is what one run of a job did.
type Outcome struct {
	Version  catalog.Version
	Result   *fit.Result
	Records  int
	Champion *fit.Evaluation // the previous champion on the same holdout, if any
	Promoted bool
	Reason   string // why the champion moved or stayed
}

// Runner trains jobs: it reads their history, fits, compares with the
// champion and publishes.
type Runner struct {
	KafkaOpts []kgo.Opt
	Decoder   Decoder
	// Schemas give the latest schema of a topic's records, which a job's
	// paths are checked against before any record is read. Without them,
	// a job is checked against its topic's newest record's schema.
	Schemas fit.Schemas
	Catalog Catalog
	Logger  *slog.Logger
	Now     func() time.Time
}

// Run trains one job once. force promotes the new version whatever its
// metrics (PromoteAlways does too). Reading logs its progress every few
// seconds.
func (r *Runner) Run(ctx context.Context, job Job, force bool, progress fit.Progress) (*Outcome, error) {
	return r.run(ctx, job, force, progress, nil)
}

// run is Run, with the read progress also told to meters when not nil.
func (r *Runner) run(ctx context.Context, job Job, force bool, progress fit.Progress, meters *readMeters) (*Outcome, error) {
	logger := r.logger().With("model", job.Name)
	src := job.Source
	if job.Window > 0 {
		src.From = r.now().Add(-job.Window)
	}
	if job.TestSource != nil && overlaps(src, *job.TestSource) {
		return nil, fmt.Errorf("train %s: %w: test_source: overlaps source on topic %q: the model would be evaluated on records it learnt from", job.Name, fit.ErrInvalidOptions, src.Topic)
	}
	// Every path is checked against the topics' schemas before a record
	// is read: a job that cannot train fails now, not after its history.
	opts, err := r.checkSchemas(ctx, job)
	if err != nil {
		return nil, fmt.Errorf("train %s: %w", job.Name, err)
	}
	job.Options = opts
	extra, allowNonFinite := r.championFields(job.Name, job.Options)
	cfg := ReadConfig{Extra: extra, ExtraAllowNonFinite: allowNonFinite}
	cfg.Progress = newReadLog(logger, meters, "source", r.now).report
	history, err := ReadTraining(ctx, r.KafkaOpts, r.Decoder, src, job.Options, cfg)
	if err != nil {
		return nil, fmt.Errorf("train %s: %w", job.Name, err)
	}
	logger.Info("training data read", "topic", src.Topic, "records", history.Records, "rows", history.Len(),
		"skipped", history.Skipped, "unusable", history.Unusable, "sampled_out", history.SampledOut)
	var test *History
	source := catalog.Source{Topic: src.Topic, Ranges: history.Ranges, From: src.From, To: src.To,
		Holdout: describeHoldout(job.Options, job.TestSource)}
	if t := job.TestSource; t != nil {
		cfg.Progress = newReadLog(logger, meters, "test_source", r.now).report
		cfg.labelKind = history.table.LabelKind()
		cfg.field = testSourceField // its errors name it so
		if test, err = ReadTraining(ctx, r.KafkaOpts, r.Decoder, *t, job.Options, cfg); err != nil {
			return nil, fmt.Errorf("train %s: test_source: %w", job.Name, err)
		}
		logger.Info("test data read", "topic", t.Topic, "records", test.Records, "rows", test.Len(),
			"skipped", test.Skipped, "unusable", test.Unusable, "sampled_out", test.SampledOut)
		source.Test = &catalog.Source{Topic: t.Topic, Ranges: test.Ranges, From: t.From, To: t.To}
	}
	res, err := FitHistory(ctx, job.Name, job.Options, history, test, progress)
	if err != nil {
		return nil, fmt.Errorf("train %s: %w", job.Name, err)
	}
	out, err := r.Publish(ctx, job.Name, job.Options, res, source, promotion(job.Promote, force))
	if err != nil {
		return nil, err
	}
	// The holdout shares the history's columns: let them go with it, not
	// with the outcome a scheduler keeps until the next training.
	res.DropHoldout()
	out.Records = history.Records
	return out, nil
}

// championFields are the features the champion reads that opts' model
// does not read the same way (see fit.ExtraFeatures): they are kept raw
// while reading so that the champion is judged on the same rows as it
// would read them, and whether the champion takes values that are not finite. None
// when there is no champion yet.
func (r *Runner) championFields(name string, opts fit.Options) ([]model.Feature, bool) {
	champion, err := r.Catalog.Resolve(name, AliasChampion)
	if err != nil {
		return nil, false
	}
	return fit.ExtraFeatures(opts, champion.Spec), champion.Spec.AllowNonFinite
}

// promotion is the policy of one run: forced when asked for.
func promotion(policy string, force bool) string {
	if force {
		return PromoteAlways
	}
	if policy == "" {
		return PromoteIfBetter
	}
	return policy
}

// Publish publishes a trained model as a new version of name, makes it the
// challenger, and makes it the champion as the policy says: PromoteIfBetter
// when it beats the champion on the same holdout (or there is none),
// PromoteAlways in any case, PromoteNever not at all, PromoteOnline only
// when there is no champion (later, on the scorer's online verdict). Jobs
// and the REST API both publish through it.
func (r *Runner) Publish(ctx context.Context, name string, opts fit.Options, res *fit.Result, source catalog.Source, policy string) (*Outcome, error) {
	logger := r.logger().With("model", name)
	opts = opts.WithDefaults()
	out := &Outcome{Result: res}
	parent := 0
	champion, err := r.Catalog.Resolve(name, AliasChampion)
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		out.Promoted, out.Reason = true, "first version"
	case err != nil:
		return nil, err
	case policy == PromoteOnline:
		// Judged on live traffic, not on the holdout: the scorer shadows
		// the challenger and the scheduler promotes it on its verdict.
		parent = champion.Version
		out.Promoted, out.Reason = false, fmt.Sprintf("promotion is online: champion v%d stays until the scorer's comparison on labelled records says the challenger is better", champion.Version)
	case res.Holdout == nil || res.Holdout.Len() == 0:
		parent = champion.Version
		out.Promoted, out.Reason = false, fmt.Sprintf("no holdout (holdout 0): nothing to judge champion v%d on; promote by hand, by a forced run or with promote: always", champion.Version)
	default:
		parent = champion.Version
		ev, err := r.evaluateVersion(ctx, champion, res.RivalHoldout(), opts.Label)
		if err != nil {
			// A champion that can no longer be evaluated (its features are
			// gone from the data) loses to one that can.
			logger.Warn("champion cannot be evaluated on the new holdout", "version", champion.Version, "err", err)
			out.Promoted, out.Reason = true, fmt.Sprintf("champion v%d cannot be evaluated: %v", champion.Version, err)
			break
		}
		out.Champion = &ev
		out.Promoted, out.Reason = decide(opts.Metric, res.Evaluation.Metrics, ev.Metrics, champion.Version)
	}
	forced := policy == PromoteAlways
	switch {
	case forced:
		out.Promoted, out.Reason = true, "forced: "+out.Reason
	case policy == PromoteNever:
		out.Promoted, out.Reason = false, "promotion is manual: "+out.Reason
	}

	version, dropped := catalog.Version{
		Name: name, Family: string(opts.Family), Spec: res.Spec,
		Metrics: res.Evaluation.Metrics, Parent: parent, Params: res.Params, Fit: res.Fit, Source: source,
		Profile: res.Profile,
	}.FitProfile()
	if dropped {
		logger.Warn("the version's metadata leaves no room for its drift profile: published without one, drift is not measured for it")
	}
	v, err := r.Catalog.Publish(ctx, version, res.ONNX)
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", name, err)
	}
	out.Version = v
	if _, err := r.Catalog.SetAlias(ctx, name, AliasChallenger, v.Version, "newest version", false); err != nil {
		return nil, err
	}
	if out.Promoted {
		if _, err := r.Catalog.SetAlias(ctx, name, AliasChampion, v.Version, out.Reason, forced); err != nil {
			return nil, err
		}
	}
	attrs := []any{"version", v.Version, "metrics", res.Evaluation.Metrics,
		"promoted", out.Promoted, "reason", out.Reason, "duration", res.Duration.Round(time.Millisecond)}
	if res.Fit != nil {
		attrs = append(attrs, "iterations", res.Fit.Iterations, "early_stopped", res.Fit.EarlyStopped)
	}
	logger.Info("model version published", attrs...)
	return out, nil
}

// decide compares a candidate with the champion on the metric.
func decide(metric string, candidate, champion fit.Metrics, championVersion int) (bool, string) {
	better, err := fit.Beats(metric, candidate, champion)
	if err != nil {
		return false, err.Error()
	}
	verdict := "does not beat"
	if better {
		verdict = "beats"
	}
	return better, fmt.Sprintf("%s %.4f %s champion v%d's %.4f on the same holdout", metric, candidate[metric], verdict, championVersion, champion[metric])
}

// evaluateVersion loads a published version and scores it on rows.
func (r *Runner) evaluateVersion(ctx context.Context, v catalog.Version, rows fit.Rows, label string) (fit.Evaluation, error) {
	artifact, err := r.Catalog.Artifact(ctx, v.Name, v.Version)
	if err != nil {
		return fit.Evaluation{}, err
	}
	spec := v.Spec
	m, err := model.Load(artifact, model.Options{Spec: &spec, Version: fmt.Sprint(v.Version)})
	if err != nil {
		return fit.Evaluation{}, err
	}
	defer m.Close()
	return fit.EvaluateRows(m, rows, label)
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

func (r *Runner) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

// describeHoldout says, for the catalog, which rows the metrics come from.
func describeHoldout(opts fit.Options, test *catalog.Source) string {
	opts = opts.WithDefaults()
	switch {
	case test != nil:
		return "test source"
	case !opts.HoldoutFrom.IsZero():
		return "records from " + opts.HoldoutFrom.UTC().Format(time.RFC3339Nano)
	case opts.Holdout == 0:
		return "none (holdout 0)"
	}
	return fmt.Sprintf("the newest %g%% of rows", 100*opts.Holdout)
}
