package trainer

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// readLogEvery is how often a read's progress is logged.
const readLogEvery = 5 * time.Second

// readLog reports a read's progress: records read of those between the
// offsets known up front, their rate and the time left at that rate, in
// the log every readLogEvery and at the end, and to meters (when set) at
// every report.
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

func (p *readLog) report(read, total int64) {
	ratio := 1.0
	if total > 0 {
		ratio = float64(read) / float64(total)
	}
	if p.meters != nil {
		p.meters.records.Add(float64(read - p.last))
		p.meters.ratio.Set(ratio)
	}
	p.last = read
	now := p.now()
	if now.Sub(p.lastLog) < readLogEvery && read < total {
		return
	}
	p.lastLog = now
	elapsed := now.Sub(p.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(read) / elapsed.Seconds()
	}
	var eta time.Duration
	if rate > 0 {
		eta = time.Duration(float64(total-read) / rate * float64(time.Second))
	}
	p.logger.Info("reading training data", "records", read, "of", total, "percent", fmt.Sprintf("%.0f", 100*ratio),
		"records_per_second", fmt.Sprintf("%.0f", rate), "elapsed", elapsed.Round(time.Second), "eta", eta.Round(time.Second))
}

// readMeters are one model's read metrics.
type readMeters struct {
	records prometheus.Counter
	ratio   prometheus.Gauge
}
