package jobs

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/connect"
	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/serde"
)

// monitorRetry is how long the watcher waits before decoding a window
// again while the schema registry does not answer: a window skipped then
// could hide the one that resets a drift run.
const monitorRetry = time.Second

// What the watcher made of a monitor record: the values of the result
// label of streamscore_training_monitor_windows_total.
const (
	monitorDrift   = "drift"
	monitorOnline  = "online"
	monitorIgnored = "ignored"
	monitorBad     = "bad"
)

// watchMonitor follows the job's monitor topic until ctx ends, and applies
// its on_drift and online rules to the windows of its model's champion.
//
// It reads without a consumer group, in each partition from the first
// record stamped at or after the scheduler was built: the end of the
// topic as it was, and every record of a topic or partition created
// later. The rules act
// on windows as they close, and a restarted trainer must not act again on
// windows it has acted on. A group would resume from its committed
// offsets and replay the windows since the last commit (a drift run
// already acted on would trigger again), and would share the partitions
// among trainers, where every job must see every window of its model.
// What a restart loses is a drift run in progress, which must then last
// `for` again; an online comparison is cumulative and comes again with the
// champion's next window.
func (s *Scheduler) watchMonitor(ctx context.Context, st *jobState) {
	job := st.job
	topic := job.monitorTopic()
	logger := s.logger.With("model", job.Name, "monitor_topic", topic)
	if s.runner.Decoder == nil {
		logger.Error("on_drift and promote: online disabled: the trainer has no schema registry to decode the monitoring windows with")
		return
	}
	client, err := kgo.NewClient(append(slices.Clone(s.runner.KafkaOpts),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AfterMilli(s.started.UnixMilli())),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// A batch that would decompress past this is skipped and
		// counted, as the training's reads skip it.
		kgo.MaxDecompressBatchBytes(connect.DefaultMaxDecompressedBatchBytes),
	)...)
	if err != nil {
		logger.Error("on_drift and promote: online disabled", "err", err)
		return
	}
	defer client.Close()

	rules := &monitorRules{s: s, st: st, logger: logger}
	if job.OnDrift != nil {
		rules.drift = newDriftWatch(*job.OnDrift)
	}
	if job.Promote == PromoteOnline && job.Online != nil {
		rules.online = &onlineJudge{rule: job.Online.withDefaults(job.Options.WithDefaults().Task)}
	}
	logger.Info("following the monitor topic", "on_drift", rules.drift != nil, "promote_online", rules.online != nil)
	count := func(result string) { s.metrics.monitorWindows.WithLabelValues(job.Name, result).Inc() }
	for {
		fetches := client.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		for _, big := range oversizeBatches(fetches) {
			logger.Warn("skipping a monitor batch too large to decompress", "partition", big.Partition, "next_offset", big.NextOffset)
			count(monitorBad)
			client.SetOffsets(map[string]map[int32]kgo.EpochOffset{big.Topic: {big.Partition: {Epoch: big.Epoch, Offset: big.NextOffset}}})
		}
		if err := fetchError(fetches); err != nil {
			logger.Warn("cannot read the monitor topic", "err", err)
		}
		for rec := range fetches.RecordsAll() {
			result := rules.apply(ctx, rec)
			if ctx.Err() != nil {
				return
			}
			// Counted once acted on: a test that sees the count sees
			// what the window did.
			count(result)
		}
	}
}

// monitorRules are one job's on_drift and online rules over the records
// of its monitor topic.
type monitorRules struct {
	s      *Scheduler
	st     *jobState
	logger *slog.Logger
	drift  *driftWatch  // nil without on_drift
	online *onlineJudge // nil unless promote: online
}

// apply acts on one record and says what it was (monitorDrift, ...).
func (r *monitorRules) apply(ctx context.Context, rec *kgo.Record) string {
	d, err := r.decode(ctx, rec.Value)
	var w monitorWindow
	if err == nil {
		w, err = parseMonitorWindow(d)
	}
	if err != nil {
		if ctx.Err() == nil {
			r.logger.Warn("skipping a record of the monitor topic", "partition", rec.Partition, "offset", rec.Offset,
				"err", err)
		}
		return monitorBad
	}
	if w.model != r.st.job.Name || w.role != roleChampion {
		return monitorIgnored
	}
	switch {
	case w.kind == windowDrift && r.drift != nil:
		r.onDrift(w)
		return monitorDrift
	case w.kind == windowOnline && r.online != nil:
		if w.comparison != nil {
			r.onOnline(ctx, w)
		}
		return monitorOnline
	}
	return monitorIgnored
}

// decode decodes a record, waiting for a schema registry that does not
// answer rather than skipping the window.
func (r *monitorRules) decode(ctx context.Context, value []byte) (serde.Decoded, error) {
	for {
		var d serde.Decoded
		err := deadletter.Guard(func() (err error) {
			d, err = r.s.runner.Decoder.Decode(value)
			return err
		})
		if !errors.Is(err, serde.ErrRegistryUnavailable) {
			return d, err
		}
		r.logger.Warn("schema registry unavailable: decoding the monitoring window again", "in", monitorRetry, "err", err)
		select {
		case <-ctx.Done():
			return serde.Decoded{}, ctx.Err()
		case <-time.After(monitorRetry):
		}
	}
}

// onDrift folds a drift window into the run and triggers the job when the
// run covers on_drift.for.
func (r *monitorRules) onDrift(w monitorWindow) {
	r.st.mu.Lock()
	began, running := r.st.began, r.st.running
	// Under promote: online, a training that published a challenger
	// (not promoted) answers the drift while the scorer judges it.
	published := !running && r.st.lastErr == nil && r.st.last != nil && r.st.last.Version.Version > 0 &&
		!r.st.last.Promoted && r.st.job.Promote == PromoteOnline
	r.st.mu.Unlock()
	if !running {
		r.drift.trained(began, published)
	}
	v := r.drift.observe(w, began, time.Now())
	if !v.due {
		return
	}
	r.logger.Info("retraining on drift", "psi", v.psi, "of", v.of, "threshold", r.drift.rule.PSI, "for", r.drift.rule.For,
		"windows", v.windows, "covered", v.covered, "champion_version", w.version, "window_end", w.end)
	_ = r.s.trigger(r.st.job.Name, false, triggerDrift)
}

// onOnline judges the comparison of an online window of the champion, and
// moves the champion to the challenger when the rule says so.
func (r *monitorRules) onOnline(ctx context.Context, w monitorWindow) {
	name := r.st.job.Name
	cat := r.s.runner.Catalog
	result := func(result string) { r.s.metrics.onlineDecisions.WithLabelValues(name, result).Inc() }
	champion, err := cat.Resolve(name, AliasChampion)
	if err != nil {
		r.logger.Debug("online comparison of a model without a champion", "err", err)
		result(onlineStale)
		return
	}
	challenger, err := cat.Resolve(name, AliasChallenger)
	if err != nil {
		r.logger.Debug("online comparison of a model without a challenger", "err", err)
		result(onlineStale)
		return
	}
	r.decide(ctx, w, r.online.judge(w, champion, challenger, time.Now()), result)
}

// decide carries out a verdict of the online rule.
func (r *monitorRules) decide(ctx context.Context, w monitorWindow, v onlineVerdict, result func(string)) {
	name := r.st.job.Name
	attrs := []any{"champion", v.evidence.ChampionVersion, "challenger", v.evidence.ChallengerVersion, "window_end", w.end}
	switch v.result {
	case onlinePromoted:
		ch, err := r.s.runner.Catalog.SetAliasWithEvidence(ctx, name, AliasChampion, v.evidence.ChallengerVersion, v.reason, v.evidence)
		if err != nil {
			r.logger.Error("online promotion failed", append(attrs, "err", err)...)
			result(onlineFailed)
			return
		}
		r.logger.Info("champion promoted online", "version", ch.Version, "previous", ch.Previous, "reason", v.reason)
	case onlineGivenUp:
		if r.drift != nil {
			r.drift.answered = "" // the challenger answers nothing any more: drift may train again
		}
		if r.online.givenUp != v.evidence.ChallengerVersion {
			r.online.givenUp = v.evidence.ChallengerVersion
			r.logger.Warn("challenger given up on: it stays challenger, and is never promoted online", append(attrs, "why", v.why)...)
		}
	default:
		r.logger.Debug("online comparison: the champion stays", append(attrs, "result", v.result, "why", v.why)...)
	}
	result(v.result)
}
