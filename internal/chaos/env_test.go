//go:build chaos

package chaos

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/internal/testkit"
	"github.com/streamscore/streamscore/internal/train"
	"github.com/streamscore/streamscore/schemas"
)

const (
	partitions  = 3
	inputTopic  = "sensors"
	outputTopic = inputTopic + ".scored" // the scorer's default output name
	dlqTopic    = inputTopic + ".dlq"
	// badEvery makes one input in badEvery a frame with a wrong magic
	// byte, so the dead-letter path is under the same fault as the
	// scoring path and both are counted.
	badEvery = 1000
)

// mode is a delivery guarantee the scorer offers, and what the test
// checks for it.
type mode struct {
	name string
	// exact runs the scorer in exactly-once mode; results are then read
	// with read_committed, and a duplicate is a failure.
	exact bool
}

var modes = []mode{{name: "at-least-once"}, {name: "exactly-once", exact: true}}

// scorerFlags are the mode's extra scorer flags. The scorer's identity
// stays the same across a test's scorer restarts, as a pod's name does
// across its container's: that is how a restarted scorer takes its killed
// predecessor's place in the group at once (static membership) and,
// exactly once, aborts its open transaction. Exactly once, the
// transactional id is the instance id too, the scorer's default.
func (m mode) scorerFlags(test string) []string {
	if !m.exact {
		return []string{"-instance-id", "chaos-" + test}
	}
	return []string{"-exactly-once", "-transactional-id", "chaos-" + test}
}

// env is one test's (or subtest's) stack, clients, model and scorer.
type env struct {
	t     *testing.T
	test  string // short test name, for the group and transactional ids
	mode  mode
	seed  uint64
	dir   string
	stack *testkit.Stack

	client *kgo.Client // produces the inputs
	admin  *kadm.Client

	modelPath string
	schemaID  uint32
	codec     *goavro.Codec

	badInputs atomic.Int64 // inputs made with a bad frame

	scorer       *testkit.Proc
	scorerAddr   string // the scorer's HTTP address; empty until it logged its start
	scorerStarts int
	// restartOnExit restarts a scorer that exits on its own and logs it,
	// instead of failing the test: the broker test tolerates a scorer
	// that gives up during the outage, as long as nothing is lost.
	restartOnExit bool
	unplanned     []string // how each scorer that exited on its own ended
}

func newEnv(t *testing.T, test string, m mode, seed uint64, dir string, sc testkit.StackConfig) *env {
	t.Helper()
	e := &env{t: t, test: test, mode: m, seed: seed, dir: dir}
	sc.Partitions = partitions
	e.stack = testkit.StartStack(t, bins.Path("stack"), dir, sc)

	var err error
	// A long delivery timeout, and kgo's unlimited retries: the broker
	// test restarts the broker under the producer, which must outlast it.
	e.client, err = kgo.NewClient(kgo.SeedBrokers(e.stack.Brokers),
		kgo.RecordDeliveryTimeout(3*time.Minute), kgo.MaxBufferedRecords(1<<16))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.client.Close)
	adminClient, err := kgo.NewClient(kgo.SeedBrokers(e.stack.Brokers))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(adminClient.Close)
	e.admin = kadm.NewClient(adminClient)

	e.trainModel()
	e.createInput()
	return e
}

// trainModel trains a small sensor model and writes it where the scorer
// will read it.
func (e *env) trainModel() {
	cfg := train.DefaultConfig()
	cfg.MaxIter, cfg.MaxDepth = 20, 4
	onnxBytes, err := sample.SensorModel(context.Background(), sample.SensorSpec("sensor-anomaly", "1"), cfg, 4000)
	if err != nil {
		e.t.Fatalf("train the model: %v", err)
	}
	e.modelPath = filepath.Join(e.dir, "sensor.onnx")
	if err := os.WriteFile(e.modelPath, onnxBytes, 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// createInput creates the input topic and registers its value schema.
func (e *env) createInput() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := e.admin.CreateTopic(ctx, partitions, 1, nil, inputTopic); err != nil {
		e.t.Fatalf("create %s: %v", inputTopic, err)
	}
	reg := srclient.NewSchemaRegistryClient(e.stack.RegistryURL)
	reg.CodecCreationEnabled(false)
	s, err := reg.CreateSchema(inputTopic+"-value", schemas.SensorReading, srclient.Avro)
	if err != nil {
		e.t.Fatalf("register %s-value: %v", inputTopic, err)
	}
	e.schemaID = uint32(s.ID())
	if e.codec, err = goavro.NewCodec(schemas.SensorReading); err != nil {
		e.t.Fatal(err)
	}
}

// input returns the i-th input record: a generated reading, Confluent
// framed, or, for one in badEvery, the same bytes behind a wrong magic
// byte, which the scorer must dead-letter.
func (e *env) input(gen *sample.Sensors, i int) *kgo.Record {
	native, _ := gen.Next()
	value := serde.AppendFrame(nil, e.schemaID)
	value, err := e.codec.BinaryFromNative(value, native)
	if err != nil {
		// Not t.Fatal: this may run on the producer's goroutine. Generated
		// readings always fit their schema, so this is a bug in the test.
		panic(fmt.Sprintf("encode reading %d: %v", i, err))
	}
	if i%badEvery == badEvery-1 {
		value[0] = 1
		e.badInputs.Add(1)
	}
	return &kgo.Record{Topic: inputTopic, Key: []byte(native["device_id"].(string)), Value: value}
}

// produceBacklog writes n inputs as fast as the broker takes them.
func (e *env) produceBacklog(n int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	gen := sample.NewSensors(e.seed, 200, 0.05)
	var first firstErr
	for i := range n {
		e.client.Produce(ctx, e.input(gen, i), first.record)
	}
	if err := e.client.Flush(ctx); err != nil {
		e.t.Fatalf("flush the backlog: %v", err)
	}
	if err := first.get(); err != nil {
		e.t.Fatalf("produce the backlog: %v", err)
	}
}

// firstErr keeps the first error among many produce promises.
type firstErr struct {
	mu  sync.Mutex
	err error
}

// record is a produce promise.
func (f *firstErr) record(r *kgo.Record, err error) {
	if err != nil {
		f.set(fmt.Errorf("record for %s: %w", r.Topic, err))
	}
}

func (f *firstErr) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

func (f *firstErr) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// startScorer starts a scorer process in the test's group. Its HTTP
// listener takes any free port, which it holds from then on; the scorer
// names it in its start line (scorerStarted).
func (e *env) startScorer() {
	e.t.Helper()
	e.scorerStarts++
	e.scorerAddr = ""
	args := []string{
		"-brokers", e.stack.Brokers, "-registry-url", e.stack.RegistryURL,
		"-topics", inputTopic, "-group", "chaos-" + e.test, "-dlq-topic", dlqTopic,
		"-model", e.modelPath, "-ort-library", bins.ORTLibrary, "-http-addr", "127.0.0.1:0",
		"-log-level", "info", // the start line is at info
	}
	args = append(args, e.mode.scorerFlags(e.test)...)
	if extra := strings.Fields(os.Getenv("CHAOS_SCORER_ARGS")); len(extra) > 0 {
		if e.scorerStarts == 1 {
			e.t.Logf("CHAOS_SCORER_ARGS: the scorer also runs with %q", extra)
		}
		args = append(args, extra...)
	}
	name := fmt.Sprintf("scorer #%d", e.scorerStarts)
	e.scorer, _ = testkit.StartProc(e.t, name, filepath.Join(e.dir, fmt.Sprintf("scorer-%d.log", e.scorerStarts)), false, bins.Path("scorer"), args...)
}

// startLine is the line cmd/scorer logs, in text or JSON, once it has
// installed its signal handler and bound its HTTP listener, whose address
// it names.
var startLine = regexp.MustCompile(`scorer started.*?(?:\bhttp=|"http":")([^\s"]+)`)

// scorerStarted reports whether the running scorer has logged its start
// line, and takes its HTTP address from it: from then on /readyz answers,
// and a SIGTERM stops the scorer cleanly rather than killing it. It is a
// condition for waitFor.
func (e *env) scorerStarted() (bool, string) {
	if e.scorerAddr != "" {
		return true, ""
	}
	raw, err := os.ReadFile(e.scorer.LogPath)
	if err != nil {
		return false, err.Error()
	}
	m := startLine.FindSubmatch(raw)
	if m == nil {
		return false, e.scorer.Name + " has not logged its start line (\"scorer started\", at log level info) yet"
	}
	e.scorerAddr = string(m[1])
	return true, ""
}

// checkScorer runs at every poll of a wait: a scorer that exited on its
// own fails the test, or, with restartOnExit, is logged and restarted.
func (e *env) checkScorer() {
	e.t.Helper()
	if e.scorer.Running() {
		return
	}
	what := fmt.Sprintf("%s exited on its own (%s)", e.scorer.Name, e.scorer.ExitStatus())
	if !e.restartOnExit {
		e.t.Fatalf("%s; last lines of its log:\n%s", what, e.scorer.Tail(30))
	}
	e.unplanned = append(e.unplanned, what)
	e.t.Logf("%s; restarting it. Last lines of its log:\n%s", what, e.scorer.Tail(10))
	e.startScorer()
}

// waitFor polls cond until it holds, failing after timeout with cond's
// last description of where things stand.
func (e *env) waitFor(what string, timeout time.Duration, cond func() (bool, string)) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		e.checkScorer()
		ok, status := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not after %v (seed %d): %s", what, timeout, e.seed, status)
		}
		time.Sleep(100 * time.Millisecond) // the poll interval, not a synchronisation
	}
}

// waitReady waits until the scorer owns partitions (/readyz answers 200).
// After a kill, a static member takes the dead one's place at once; a
// dynamic one (CHAOS_SCORER_ARGS=-instance-id=) waits until the group
// expires the dead member, when its session times out.
func (e *env) waitReady() {
	e.t.Helper()
	hc := &http.Client{Timeout: time.Second}
	e.waitFor(e.scorer.Name+" ready", 3*time.Minute, func() (bool, string) {
		if ok, status := e.scorerStarted(); !ok {
			return false, status
		}
		resp, err := hc.Get("http://" + e.scorerAddr + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, "/readyz: " + resp.Status
	})
}

// endOffsets returns each partition's end offset (high watermark) of the
// topics that exist.
func (e *env) endOffsets(topics ...string) (map[string]map[int32]int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	listed, err := e.admin.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, err
	}
	out := map[string]map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) {
		if o.Err != nil { // a topic the scorer has not created yet
			return
		}
		if out[o.Topic] == nil {
			out[o.Topic] = map[int32]int64{}
		}
		out[o.Topic][o.Partition] = o.Offset
	})
	return out, nil
}

// resultCount is how many outputs and dead letters are in Kafka, committed
// or not: the progress a kill is timed by.
func (e *env) resultCount() (int64, error) {
	ends, err := e.endOffsets(outputTopic, dlqTopic)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, ps := range ends {
		for _, end := range ps {
			n += end
		}
	}
	return n, nil
}

// inputEnds returns the input partitions' end offsets: every offset below
// them is an input that must have a result.
func (e *env) inputEnds() map[int32]int64 {
	e.t.Helper()
	ends, err := e.endOffsets(inputTopic)
	if err != nil {
		e.t.Fatalf("end offsets of %s: %v", inputTopic, err)
	}
	if len(ends[inputTopic]) != partitions {
		e.t.Fatalf("%s has %d partitions listed, want %d", inputTopic, len(ends[inputTopic]), partitions)
	}
	return ends[inputTopic]
}

func sum(m map[int32]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// committed returns the group's committed input offsets: how far the
// scorer says it is done.
func (e *env) committed() (map[int32]int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fetched, err := e.admin.FetchOffsets(ctx, "chaos-"+e.test)
	if err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	fetched.Each(func(o kadm.OffsetResponse) {
		if o.Topic == inputTopic && o.Err == nil && o.At >= 0 {
			out[o.Partition] = o.At
		}
	})
	return out, nil
}

// waitCommitted waits until the group has committed every input offset.
func (e *env) waitCommitted(ends map[int32]int64, timeout time.Duration) {
	e.t.Helper()
	e.waitFor("the group to commit every input", timeout, func() (bool, string) {
		got, err := e.committed()
		if err != nil {
			return false, err.Error()
		}
		for p, end := range ends {
			if got[p] < end {
				return false, fmt.Sprintf("committed %v of input ends %v", got, ends)
			}
		}
		return true, ""
	})
}

// stopScorer stops the scorer the clean way; a scorer that does not exit 0
// after draining fails the test. It signals only once the scorer has
// logged its start, after it installed its signal handler: a SIGTERM
// before that kills the process, which says nothing about the scorer.
func (e *env) stopScorer() {
	e.t.Helper()
	e.waitFor(e.scorer.Name+" started, its signal handler installed", 3*time.Minute, e.scorerStarted)
	if err := e.scorer.Stop(90 * time.Second); err != nil {
		e.t.Errorf("%v; last lines of its log:\n%s", err, e.scorer.Tail(20))
	}
}

// verify reads every result back, reports the outcome and checks it: no
// input without a result, no result for an input that does not exist,
// each bad input dead-lettered and no input both scored and
// dead-lettered, and, in exactly-once mode, no input with two results.
func (e *env) verify(fault string) {
	e.t.Helper()
	ends := e.inputEnds()
	ta := e.readResults(ends, e.mode.exact)
	lost, firstLost := ta.lost()
	dup := ta.duplicated()
	report(e.t, outcome{fault: fault, mode: e.mode.name, in: sum(ends),
		out: ta.out, dlq: ta.dlq, duplicated: dup, lost: lost})
	if lost > 0 {
		e.t.Errorf("%d of %d inputs have no output and no dead letter (seed %d); the first: %v",
			lost, sum(ends), e.seed, firstLost)
	}
	if len(ta.strays) > 0 {
		e.t.Errorf("%d results name no input (seed %d); the first: %v", len(ta.strays), e.seed, ta.strays[:min(10, len(ta.strays))])
	}
	if e.mode.exact && dup > 0 {
		e.t.Errorf("exactly-once: %d results beyond the first for their input (seed %d); the first repeated inputs: %v",
			dup, e.seed, ta.firstDuplicated(10))
	}
	if mixed := ta.mixed(); len(mixed) > 0 {
		e.t.Errorf("%d inputs have both an output and a dead letter (seed %d); the first: %v", len(mixed), e.seed, mixed[:min(10, len(mixed))])
	}
	if got, want := int64(len(ta.deadInputs)), e.badInputs.Load(); got != want {
		e.t.Errorf("%d inputs dead-lettered, want the %d produced with a bad magic byte", got, want)
	}
	if ta.wrongClass > 0 {
		e.t.Errorf("%d dead letters are not of class bad_magic, the only fault in the inputs", ta.wrongClass)
	}
}

// chaosSeed returns CHAOS_SEED, or a fresh seed, and logs it so a failing
// schedule can be replayed.
func chaosSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CHAOS_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("CHAOS_SEED=%q: %v", s, err)
		}
	}
	t.Logf("seed %d (CHAOS_SEED=%d replays this schedule)", seed, seed)
	return seed
}
