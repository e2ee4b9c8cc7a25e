//go:build chaos

package scorer_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/testkit/ortkit"
	"github.com/streamscore/streamscore/internal/train"
)

// TestSlowModelUnderBurstStaysBounded points a scorer, in its own process
// with a 160 MiB Go memory limit, at a 400 MB burst of records and a model
// 100 times the size of the usual test model. Fetching outpaces scoring,
// so the scorer must stop fetching rather than buffer the burst: its peak
// RSS stays far below the burst, and every record is scored.
func TestSlowModelUnderBurstStaysBounded(t *testing.T) {
	const topic, n, padding = "burst", 100_000, 4 << 10
	e := newEnv(t, topic)
	withFirmware := strings.Replace(sensorSchema, `"fields": [`, `"fields": [{"name": "firmware", "type": ["null", "string"], "default": null},`, 1)
	id, codec := e.register(topic+"-value", withFirmware)
	modelPath := slowModel(t, 100)

	pad := strings.Repeat("x", padding)
	gen := sample.NewSensors(3, 50, 0.05)
	for sent := 0; sent < n; sent += 5000 {
		var records []*kgo.Record
		for range 5000 {
			rec, _ := gen.Next()
			rec["firmware"] = map[string]any{"string": pad}
			records = append(records, &kgo.Record{Topic: topic, Key: []byte(rec["device_id"].(string)), Value: frame(t, id, codec, rec)})
		}
		e.produce(records...)
	}

	bin := filepath.Join(t.TempDir(), "scorer")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/scorer").CombinedOutput(); err != nil {
		t.Fatalf("build the scorer: %v\n%s", err, out)
	}
	logPath := filepath.Join(t.TempDir(), "scorer.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "-brokers", e.stack.Brokers()[0], "-registry-url", e.stack.RegistryURL(),
		"-topics", topic, "-group", "burst", "-dlq-topic", topic+".dlq", "-model", modelPath,
		"-ort-library", ortkit.Library(), "-http-addr", "127.0.0.1:0", "-log-level", "warn",
		// As an operator sets it in a container: the Go heap's soft limit,
		// below the pod's.
		"-memory-limit-mb", "160")
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	start := time.Now()
	outputs := e.consumeUntilWith([]kgo.Opt{kgo.FetchMaxPartitionBytes(64 << 20)}, n, topic+".scored")
	elapsed := time.Since(start)
	peak := peakRSS(t, cmd.Process.Pid)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("scorer did not stop cleanly: %v (log %s)", err, logPath)
	}
	burst := n * (padding + 100)
	t.Logf("%d records (%d MB) scored in %v by a %d-tree model; scorer peak RSS %d MB", len(outputs), burst>>20, elapsed.Round(time.Millisecond), 2000, peak>>20)
	lost, duplicated := e.tally(topic, e.readAllCommitted(topic+".scored"))
	report(t, fmt.Sprintf("slow model (2000 trees) under a %d MB burst: peak RSS %d MB", burst>>20, peak>>20), "at-least-once", n, n-lost+duplicated, 0, duplicated, lost)
	if lost > 0 {
		t.Fatalf("%d of %d inputs have no output", lost, n)
	}
	if peak > 260<<20 {
		t.Fatalf("peak RSS %d MB while a %d MB burst waited: the scorer buffered instead of pausing", peak>>20, burst>>20)
	}
}

// slowModel trains the usual small sensor model and repeats its trees
// times over, so that ONNX Runtime spends that much more per row: a slow
// model, cheap to make.
func slowModel(t *testing.T, times int) string {
	t.Helper()
	spec := sample.SensorSpec("slow-sensor", "1")
	data, err := sample.SensorData(spec, 1, 4000)
	if err != nil {
		t.Fatal(err)
	}
	cfg := train.DefaultConfig()
	cfg.MaxIter, cfg.MaxDepth = 20, 4
	ens, err := train.Fit(context.Background(), cfg, data)
	if err != nil {
		t.Fatal(err)
	}
	trees := ens.Trees
	for range times - 1 {
		ens.Trees = append(ens.Trees, trees...)
	}
	meta, err := spec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m, err := ens.ONNX(map[string]string{model.SpecMetadataKey: meta})
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "slow.onnx")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// peakRSS reads a process's high-water resident set size from /proc.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}
