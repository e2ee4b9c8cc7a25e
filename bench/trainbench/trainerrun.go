package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Parameters that fix the gbdt to 100 iterations. The scikit-learn names
// come first; a trainer that does not know them yet (it refuses unknown
// names) is run again with the names it had before, which had no early
// stopping.
const (
	historyIterations = 100
	paramsSklearn     = `{"max_iter": 100, "early_stopping": false}`
	paramsLegacy      = `{"num_trees": 100}`
)

// trainerRun is one `trainer train` process, measured.
type trainerRun struct {
	wall, cpu time.Duration
	// peakRSS is the kernel's ru_maxrss of the child, from wait4: exact,
	// however short the peak.
	peakRSS int64
	// brokerCPU is the CPU time the stack spent meanwhile, serving fetches.
	brokerCPU time.Duration
	// records and skipped are the trainer's own counts ("training data
	// read"); auc is the holdout ROC AUC it published the version with,
	// NaN when it reported none.
	records, skipped int
	auc              float64
	// rows are the records that became training rows (holdout included);
	// fewer than records when some were unusable or sampled out.
	rows int
	// read is the time from start to the "training data read" log line;
	// fit the fit's own duration, as the trainer logs it with the version.
	read, fit time.Duration
	// iterations are the boosting rounds grown, as the trainer logs them
	// with the version (0: a trainer that does not say).
	iterations int
	// readRSS is the most resident memory sampled (every 50 ms) until the
	// read ended: what reading alone holds, below peakRSS if fitting adds.
	readRSS int64
	// killed says the run was stopped for holding more than the RSS
	// limit; failure is why the run failed, empty when it exited 0.
	killed  bool
	failure string
	params  string
	logPath string
}

func (r trainerRun) ok() bool { return r.failure == "" }

// trainerSetup is what every trainer run shares.
type trainerSetup struct {
	bin         string
	ortLibrary  string
	brokers     string
	registryURL string
	stack       *stackProc
	rssLimit    int64 // bytes; the trainer is killed above it
	// memoryLimitMiB is passed as -memory-limit-mb; 0: none.
	memoryLimitMiB int
	params         string // empty: paramsSklearn, falling back to paramsLegacy
	legacy         bool   // the trainer refused paramsSklearn once: ask no more
}

// train runs `trainer train` once on topic with a new catalog topic, so
// that no champion is evaluated and every run does the same work.
func (s *trainerSetup) train(ctx context.Context, dir, topic, modelsTopic string) (trainerRun, error) {
	params := s.params
	switch {
	case params != "":
	case s.legacy:
		params = paramsLegacy
	default:
		params = paramsSklearn
	}
	run, err := s.trainWith(ctx, dir, topic, modelsTopic, params)
	if err == nil && s.params == "" && !s.legacy && !run.ok() && strings.Contains(run.failure, "unknown field") {
		progress("the trainer refused %s (%s); running it with %s", params, run.failure, paramsLegacy)
		s.legacy = true
		run, err = s.trainWith(ctx, dir, topic, modelsTopic+".legacy", paramsLegacy)
	}
	return run, err
}

func (s *trainerSetup) trainWith(ctx context.Context, dir, topic, modelsTopic, params string) (trainerRun, error) {
	cfgPath := dir + "/" + modelsTopic + ".yaml"
	if err := os.WriteFile(cfgPath, trainerConfig(s.brokers, s.registryURL, topic, modelsTopic, params), 0o600); err != nil {
		return trainerRun{}, err
	}
	run := trainerRun{params: params, logPath: dir + "/" + modelsTopic + ".log", auc: math.NaN()}
	logFile, err := os.Create(run.logPath)
	if err != nil {
		return trainerRun{}, err
	}
	defer logFile.Close()
	var stdout bytes.Buffer
	args := []string{"train", "-config", cfgPath, "-log-format", "json"}
	if s.memoryLimitMiB > 0 {
		args = append(args, "-memory-limit-mb", strconv.Itoa(s.memoryLimitMiB))
	}
	cmd := exec.CommandContext(ctx, s.bin, append(args, historyJob)...)
	// The trainer's GC settings give way to GOGC and GOMEMLIMIT: only its
	// own defaults and the benchmark's setting count.
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "GOMEMLIMIT=") || strings.HasPrefix(kv, "GOGC=")
	}),
		"ONNXRUNTIME_SHARED_LIBRARY_PATH="+s.ortLibrary)
	cmd.Stdout, cmd.Stderr = &stdout, logFile

	brokerCPU := s.stack.cpu()
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return trainerRun{}, fmt.Errorf("start trainer: %w", err)
	}
	exited := make(chan struct{})
	watched := make(chan rssWatch, 1)
	go func() { watched <- watchRSS(cmd.Process, s.rssLimit, exited) }()
	waitErr := cmd.Wait()
	run.wall = time.Since(started)
	close(exited)
	w := <-watched
	run.brokerCPU = s.stack.cpu() - brokerCPU
	run.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		run.peakRSS = ru.Maxrss << 10 // kilobytes on Linux
	}
	if ctx.Err() != nil {
		return trainerRun{}, ctx.Err()
	}
	if err := logFile.Sync(); err != nil {
		return trainerRun{}, err
	}
	if err := run.parseLog(started); err != nil {
		return trainerRun{}, err
	}
	for _, sample := range w.samples {
		if sample.at.Sub(started) <= run.read {
			run.readRSS = max(run.readRSS, sample.rss)
		}
	}
	switch {
	case w.killed:
		run.killed = true
		run.failure = fmt.Sprintf("killed after %.0f s holding more than the %s limit (-history-rss-limit-mib)", run.wall.Seconds(), mib(s.rssLimit))
	case waitErr != nil:
		run.failure = fmt.Sprintf("%v: %s", waitErr, lastLine(run.logPath))
	}
	return run, nil
}

// historyJob is the job's name in the trainer's configuration.
const historyJob = "history"

// trainerConfig is the trainer's YAML: the stack, a catalog topic of its
// own, and one gbdt job over the whole topic. JSON is YAML.
func trainerConfig(brokers, registryURL, topic, modelsTopic, params string) []byte {
	features, _ := json.Marshal(historyFeatures)
	return fmt.Appendf(nil, `kafka:
  brokers: [%q]
registry:
  url: %q
models_topic: %q
http_addr: "127.0.0.1:0"
jobs:
  - name: %s
    source:
      topic: %q
    promote: always
    options:
      family: gbdt
      features: %s
      label: %s
      params: %s
`, brokers, registryURL, modelsTopic, historyJob, topic, features, historyLabel, params)
}

// rssWatch is what watchRSS saw: resident memory every 50 ms, and
// whether it killed the process.
type rssWatch struct {
	samples []rssSample
	killed  bool
}

type rssSample struct {
	at  time.Time
	rss int64
}

// watchRSS samples p's resident memory until exited is closed, and kills p
// once it passes limit: a trainer that would take the shared machine's
// memory is stopped, and fails, long before the kernel's OOM killer picks
// some other process.
func watchRSS(p *os.Process, limit int64, exited <-chan struct{}) rssWatch {
	var w rssWatch
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-exited:
			return w
		case <-tick.C:
		}
		rss, err := procStatus(p.Pid, "VmRSS")
		if err != nil {
			continue // exiting
		}
		w.samples = append(w.samples, rssSample{time.Now(), rss})
		if rss > limit {
			w.killed = true
			p.Kill()
			return w
		}
	}
}

// parseLog reads the trainer's JSON log for the records it read, when,
// and the metrics and fit time it published with; started is when the
// process was started.
func (r *trainerRun) parseLog(started time.Time) error {
	f, err := os.Open(r.logPath)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var line struct {
			Time       time.Time          `json:"time"`
			Msg        string             `json:"msg"`
			Records    *int               `json:"records"`
			Rows       int                `json:"rows"`
			Skipped    map[string]int     `json:"skipped"`
			Metrics    map[string]float64 `json:"metrics"`
			Duration   time.Duration      `json:"duration"` // slog writes nanoseconds
			Iterations int                `json:"iterations"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue // a line the trainer's main printed, not the logger
		}
		switch line.Msg {
		case "training data read":
			if line.Records != nil {
				r.records = *line.Records
			}
			r.rows, r.read = line.Rows, line.Time.Sub(started)
			r.skipped = 0
			for _, n := range line.Skipped {
				r.skipped += n
			}
		case "model version published":
			if auc, ok := line.Metrics["auc"]; ok {
				r.auc = auc
			}
			r.fit, r.iterations = line.Duration, line.Iterations
		}
	}
	return sc.Err()
}

// lastLine is the last non-empty line of a file, for an error message.
func lastLine(path string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	return lines[len(lines)-1]
}

func mib(b int64) string { return fmt.Sprintf("%d MiB", b>>20) }
