package jobs

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// readLogEvery is how often a read's progress is logged.
const readLogEvery = 5 * time.Second

// readLog reports a read's progress: records read, offsets passed of
// those between the offsets known up front, the rate and the time left at
// that rate, in the log every readLogEvery and at the end, and to meters
// (when set) at every report. The records counter counts records read
// only; the ratio is by offsets, and so reaches 1 at the end even where
// offsets held nothing to read (ReadProgress).
type readLog struct {
	logger  *slog.Logger
	meters  *readMeters
	now     func() time.Time
	start   time.Time
	lastLog time.Time
	last    int64 // records counted into the meters so far
}

func newReadLog(logger *slog.Logger, meters *readMeters, what string, now func() time.Time) *readLog {
	t := now()
	if meters != nil {
		meters.ratio.Set(0)
	}
	return &readLog{logger: logger.With("reading", what), meters: meters, now: now, start: t, lastLog: t}
}

// report is a ReadProgress.
func (p *readLog) report(records, passed, total int64) {
	ratio := 1.0
	if total > 0 {
		ratio = float64(passed) / float64(total)
	}
	if p.meters != nil {
		p.meters.records.Add(float64(records - p.last))
		p.meters.ratio.Set(ratio)
	}
	p.last = records
	now := p.now()
	if now.Sub(p.lastLog) < readLogEvery && passed < total {
		return
	}
	p.lastLog = now
	elapsed := now.Sub(p.start)
	var rate, pace float64 // records and offsets a second
	if elapsed > 0 {
		rate, pace = float64(records)/elapsed.Seconds(), float64(passed)/elapsed.Seconds()
	}
	var eta time.Duration
	if pace > 0 {
		eta = time.Duration(float64(total-passed) / pace * float64(time.Second))
	}
	p.logger.Info("reading training data", "records", records, "offsets", passed, "of", total, "percent", fmt.Sprintf("%.0f", 100*ratio),
		"records_per_second", fmt.Sprintf("%.0f", rate), "elapsed", elapsed.Round(time.Second), "eta", eta.Round(time.Second))
}

// readMeters are one model's read metrics.
type readMeters struct {
	records prometheus.Counter
	ratio   prometheus.Gauge
}

// progressLog reports a training's progress: the gauge at every step, the
// log at most every few seconds, with an ETA from the pace so far.
type progressLog struct {
	logger  *slog.Logger
	gauge   prometheus.Gauge
	now     func() time.Time
	start   time.Time
	lastLog time.Time
}

const progressLogEvery = 5 * time.Second

func newProgressLog(logger *slog.Logger, gauge prometheus.Gauge, now func() time.Time) *progressLog {
	t := now()
	gauge.Set(0)
	return &progressLog{logger: logger, gauge: gauge, now: now, start: t, lastLog: t}
}

func (p *progressLog) report(done, total int) {
	if total <= 0 {
		return
	}
	ratio := float64(done) / float64(total)
	p.gauge.Set(ratio)
	now := p.now()
	if now.Sub(p.lastLog) < progressLogEvery && done < total {
		return
	}
	p.lastLog = now
	elapsed := now.Sub(p.start)
	var eta time.Duration
	if done > 0 {
		eta = time.Duration(float64(elapsed) / ratio * (1 - ratio))
	}
	p.logger.Info("training", "percent", fmt.Sprintf("%.0f", 100*ratio), "step", done, "of", total,
		"elapsed", elapsed.Round(time.Second), "eta", eta.Round(time.Second))
}
