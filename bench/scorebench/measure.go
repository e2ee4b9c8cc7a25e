package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// measurement is one run: records seen on the output topic over a window,
// the wall time and the implementation's CPU time over that window, and,
// for fixed-rate runs, each record's end-to-end latency.
type measurement struct {
	records   int
	wall      time.Duration
	cpu       time.Duration
	brokerCPU time.Duration
	peakRSS   int64 // bytes, of the implementation's process
	latencies []time.Duration
	// processing holds p50 and p99 of the time from a record being polled
	// to its result being acknowledged, as the implementation measured it:
	// at full speed the only latency that is not queueing in the backlog.
	processing [2]time.Duration
}

func (m measurement) rate() float64 { return float64(m.records) / m.wall.Seconds() }

func (m measurement) cpuPerRecord() float64 {
	return float64(m.cpu.Microseconds()) / float64(m.records)
}

func (m measurement) percentile(q float64) time.Duration {
	if len(m.latencies) == 0 {
		return 0
	}
	s := slices.Clone(m.latencies)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// median returns the run with the median throughput.
func median(runs []measurement) measurement {
	s := slices.Clone(runs)
	sort.Slice(s, func(i, j int) bool { return s[i].rate() < s[j].rate() })
	return s[len(s)/2]
}

// watch waits until want records are on an output topic. The window opens
// when the first output appears (so start-up and group joins are not
// counted) and the CPU times are the processes' over the same window. For
// throughput it only lists end offsets, every 20 ms, so that measuring costs
// next to nothing on a machine the scorer and the broker already share;
// for latency it consumes the outputs.
func (b *bench) watch(ctx context.Context, topic string, want int, proc *process, withLatency bool) (measurement, error) {
	// The topic exists before anything writes to it, so a consumer does
	// not wait out a metadata refresh to find it and then get a burst.
	resp, err := b.admin.CreateTopic(ctx, int32(b.o.partitions), -1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return measurement{}, fmt.Errorf("create %s: %w", topic, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if withLatency {
		return b.consumeLatencies(ctx, topic, want, proc)
	}
	return b.watchCount(ctx, want, proc, func() (int, error) {
		ends, err := b.admin.ListEndOffsets(ctx, topic)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", topic, err)
		}
		seen := 0
		ends.Each(func(o kadm.ListedOffset) { seen += int(o.Offset) })
		return seen, nil
	})
}

// watchCount polls count every 20 ms until it reaches want. The window
// opens at the first nonzero count.
func (b *bench) watchCount(ctx context.Context, want int, proc *process, count func() (int, error)) (measurement, error) {
	var m measurement
	var first time.Time
	var firstCPU, firstBrokerCPU time.Duration
	firstCount := 0
	for {
		seen, err := count()
		if err != nil {
			return m, err
		}
		now := time.Now()
		if seen > 0 && first.IsZero() {
			first, firstCPU, firstBrokerCPU, firstCount = now, proc.cpu(), b.stack.cpu(), seen
		}
		if seen >= want {
			m.wall, m.records = now.Sub(first), seen-firstCount
			m.cpu, m.brokerCPU = proc.cpu()-firstCPU, b.stack.cpu()-firstBrokerCPU
			m.peakRSS = proc.peakRSS()
			return m, nil
		}
		select {
		case <-ctx.Done():
			return m, fmt.Errorf("%d of %d records before the deadline", seen, want)
		case <-proc.exited:
			// A scorer that refused its model at start-up: say so now,
			// not after the deadline.
			return m, fmt.Errorf("%d of %d records: the process exited; its log ends:\n%s", seen, want, proc.logTail(2048))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// watchCommitted is watch for an exactly-once scorer: it polls the
// scorer's count of committed outputs.
func (b *bench) watchCommitted(ctx context.Context, want int, proc *process) (measurement, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	reached := false
	return b.watchCount(ctx, want, proc, func() (int, error) {
		n, err := scrapeOutputs(proc.httpAddr)
		if err != nil && !reached {
			return 0, nil // not listening yet: nothing committed
		}
		reached = true
		return n, err
	})
}

// consumeLatencies reads want outputs, recording for each the time from
// its input's creation (outputs keep the input's timestamp) to now.
func (b *bench) consumeLatencies(ctx context.Context, topic string, want int, proc *process) (measurement, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return measurement{}, err
	}
	defer cl.Close()
	var m measurement
	var first time.Time
	var firstCPU, firstBrokerCPU time.Duration
	for len(m.latencies) < want {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return m, fmt.Errorf("%s: %d of %d records before the deadline", topic, len(m.latencies), want)
		}
		now := time.Now()
		if first.IsZero() && fetches.NumRecords() > 0 {
			first, firstCPU, firstBrokerCPU = now, proc.cpu(), b.stack.cpu()
		}
		fetches.EachRecord(func(r *kgo.Record) { m.latencies = append(m.latencies, now.Sub(r.Timestamp)) })
	}
	m.wall, m.records = time.Since(first), len(m.latencies)
	m.cpu, m.brokerCPU = proc.cpu()-firstCPU, b.stack.cpu()-firstBrokerCPU
	m.peakRSS = proc.peakRSS()
	return m, nil
}

// scorer starts the Go scorer on a topic with the flat model.
func (b *bench) scorer(ctx context.Context, bin, topic, group, output, logName string, extra ...string) (*process, error) {
	return b.scorerOf(ctx, bin, topic, b.modelPath, group, output, logName, extra...)
}

// scorerOf starts the Go scorer on a topic with a model.
func (b *bench) scorerOf(ctx context.Context, bin, topic, model, group, output, logName string, extra ...string) (*process, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := append([]string{
		"-brokers", b.brokers[0], "-registry-url", b.registryURL,
		"-topics", topic, "-group", group, "-output-topic", output, "-dlq-topic", "bench.dlq",
		"-model", model, "-http-addr", addr, "-log-level", "warn", "-pprof=" + strconv.FormatBool(b.o.profile != ""),
	}, append(extra, b.o.scorerFlags...)...)
	if model == b.modelPath {
		args = append(args, "-model-profile", b.profilePath)
	}
	p, _, err := start(ctx, filepath.Join(b.dir, logName), bin, args...)
	if p != nil {
		p.httpAddr = addr
	}
	if err == nil && b.o.profile != "" && strings.HasPrefix(group, b.o.profilePhase) && !b.profiled {
		b.profiled = true
		go b.captureProfile(addr)
	}
	return p, err
}

// captureProfile saves a CPU profile of the scorer once it is busy.
func (b *bench) captureProfile(addr string) {
	time.Sleep(2 * time.Second) // let it get past start-up; only for -profile
	resp, err := http.Get("http://" + addr + "/debug/pprof/profile?seconds=3")
	if err != nil {
		progress("profile: %v", err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(b.o.profile)
	if err != nil {
		progress("profile: %v", err)
		return
	}
	defer f.Close()
	io.Copy(f, resp.Body)
	progress("CPU profile written to %s", b.o.profile)
}

// goBacklog drains a backlog topic with the scorer binary bin and a model;
// group prefixes its consumer group, output topic and log.
func (b *bench) goBacklog(ctx context.Context, bin, topic, model, group string, i int, extra ...string) (measurement, error) {
	n := group + strconv.Itoa(i)
	output := "bench." + n
	p, err := b.scorerOf(ctx, bin, topic, model, n, output, "scorer-"+n+".log", extra...)
	if err != nil {
		return measurement{}, err
	}
	defer p.stop()
	m, err := b.watch(ctx, output, b.o.records, p, false)
	if err != nil {
		return m, err
	}
	m.processing, err = scrapeProcessing(p.httpAddr)
	return m, err
}

// goExactlyOnce drains the backlog with the scorer in exactly-once mode.
// Its output topic's end offset counts records of open transactions and
// transaction markers, so progress is read from the scorer's own count of
// committed outputs instead.
func (b *bench) goExactlyOnce(ctx context.Context, i int) (measurement, error) {
	n := strconv.Itoa(i)
	p, err := b.scorer(ctx, b.scorerBin, backlogTopic, "go-eos-"+n, "bench.go.eos."+n, "scorer-eos-"+n+".log",
		"-exactly-once", "-transactional-id", "bench-eos-"+n)
	if err != nil {
		return measurement{}, err
	}
	defer p.stop()
	m, err := b.watchCommitted(ctx, b.o.records, p)
	if err != nil {
		return m, err
	}
	m.processing, err = scrapeProcessing(p.httpAddr)
	return m, err
}

func (b *bench) goFixedRate(ctx context.Context) (measurement, error) {
	const topic, group, output = "bench.live.go", "go-live", "bench.live.go.scored"
	id, err := b.topic(ctx, topic)
	if err != nil {
		return measurement{}, err
	}
	p, err := b.scorer(ctx, b.scorerBin, topic, group, output, "scorer-rate.log")
	if err != nil {
		return measurement{}, err
	}
	defer p.stop()
	return b.fixedRate(ctx, topic, id, group, output, p)
}

// fixedRate offers records to topic once the group is stable and measures
// their latency through to output.
func (b *bench) fixedRate(ctx context.Context, topic string, id uint32, group, output string, p *process) (measurement, error) {
	if err := b.waitStable(ctx, group, p); err != nil {
		return measurement{}, err
	}
	want := int(float64(b.o.rate) * b.o.rateFor.Seconds())
	result := make(chan error, 1)
	var m measurement
	go func() {
		var err error
		m, err = b.watch(ctx, output, want, p, true)
		result <- err
	}()
	if _, err := b.offer(ctx, topic, id); err != nil {
		return measurement{}, err
	}
	return m, <-result
}

func (b *bench) python(ctx context.Context, topic, group, output, mode string, count int, logName string) (*process, *bufio.Scanner, error) {
	return start(ctx, filepath.Join(b.dir, logName), "/usr/bin/python3", "bench/python/consumer.py",
		"--bootstrap", b.brokers[0], "--registry", b.registryURL, "--topic", topic, "--output-topic", output,
		"--group", group, "--count", strconv.Itoa(count), "--mode", mode, "--batch-size", "128",
		"--train-csv", b.csvPath)
}

func (b *bench) pythonBacklog(ctx context.Context, mode string, i int) (measurement, error) {
	suffix := mode + "." + strconv.Itoa(i)
	output := "bench.py.full." + suffix
	p, stdout, err := b.python(ctx, backlogTopic, "py-full-"+suffix, output, mode, b.o.pythonRecords, "python-full-"+suffix+".log")
	if err != nil {
		return measurement{}, err
	}
	defer p.stop()
	m, err := b.watch(ctx, output, b.o.pythonRecords, p, false)
	if err != nil {
		return m, err
	}
	// The consumer prints one JSON line when it is done, with the
	// poll-to-ack latency it measured itself.
	var summary struct {
		P50 float64 `json:"processing_p50_ms"`
		P99 float64 `json:"processing_p99_ms"`
	}
	for stdout.Scan() {
		if err := json.Unmarshal(stdout.Bytes(), &summary); err == nil {
			break
		}
	}
	m.processing = [2]time.Duration{msDuration(summary.P50), msDuration(summary.P99)}
	return m, nil
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

func (b *bench) pythonFixedRate(ctx context.Context, mode string) (measurement, error) {
	topic, group, output := "bench.live.py."+mode, "py-live-"+mode, "bench.live.py."+mode+".scored"
	id, err := b.topic(ctx, topic)
	if err != nil {
		return measurement{}, err
	}
	want := int(float64(b.o.rate) * b.o.rateFor.Seconds())
	p, _, err := b.python(ctx, topic, group, output, mode, want, "python-rate-"+mode+".log")
	if err != nil {
		return measurement{}, err
	}
	defer p.stop()
	return b.fixedRate(ctx, topic, id, group, output, p)
}
