package scorer_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/deadletter"
)

// python3 is Debian's interpreter, which sees the python3-confluent-kafka
// and python3-avro packages; the python3 on PATH may not.
const python3 = "/usr/bin/python3"

// TestInteropWithPythonAndKcat scores records that a Python producer wrote
// (confluent-kafka, Apache avro, Confluent framing done by hand), then reads
// the outputs back with kcat and with a Python consumer that decodes them
// against the registry: clients that share no code with streamscore.
func TestInteropWithPythonAndKcat(t *testing.T) {
	const topic, n = "interop", 200
	for _, tool := range []string{python3, "kcat"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: run `make setup` (scripts/setup.sh)", tool)
		}
	}
	e := newEnv(t, topic)
	broker := e.stack.Brokers()[0]
	schemaFile, _ := filepath.Abs("../../schemas/sensor_reading.avsc")
	run(t, python3, "testdata/interop_produce.py", broker, e.stack.RegistryURL(), topic, schemaFile, strconv.Itoa(n))

	_, stop := e.start(e.config(topic))
	e.consumeUntil(n, topic+".scored")
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// kcat: the key, the source offset header and the payload size.
	out := run(t, "kcat", "-b", broker, "-C", "-t", topic+".scored", "-o", "beginning", "-c", strconv.Itoa(n), "-e",
		"-f", "%k\t%h\t%S\n")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != n {
		t.Fatalf("kcat read %d records, want %d", len(lines), n)
	}
	offsets := map[string]bool{}
	for _, line := range lines {
		fields := strings.Split(line, "\t")
		if len(fields) != 3 || !strings.HasPrefix(fields[0], "py-") {
			t.Fatalf("kcat line %q: want key py-NNN, headers, size", line)
		}
		for _, h := range strings.Split(fields[1], ",") {
			if k, v, _ := strings.Cut(h, "="); k == deadletter.HeaderSourceOffset {
				offsets[v] = true
			}
		}
	}
	if len(offsets) < n/3 { // three partitions, offsets repeat across them
		t.Fatalf("kcat saw %d distinct source offsets", len(offsets))
	}

	// Python: decode every output with the registry's output schema.
	decoded := run(t, python3, "testdata/interop_consume.py", broker, e.stack.RegistryURL(), topic+".scored", strconv.Itoa(n))
	count := 0
	sc := bufio.NewScanner(strings.NewReader(decoded))
	for sc.Scan() {
		var rec struct {
			Key          string             `json:"key"`
			DeviceID     string             `json:"device_id"`
			Label        string             `json:"label"`
			ModelVersion string             `json:"model_version"`
			Magic        int                `json:"magic"`
			Scores       map[string]float64 `json:"scores"`
			Headers      map[string]string  `json:"headers"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("python output %q: %v", sc.Text(), err)
		}
		if rec.Magic != 0 || rec.Key != rec.DeviceID || rec.ModelVersion != "7" || len(rec.Scores) != 2 ||
			(rec.Label != "normal" && rec.Label != "anomaly") || rec.Headers[deadletter.HeaderSourceTopic] != topic {
			t.Fatalf("python decoded an unexpected record: %s", sc.Text())
		}
		count++
	}
	if count != n {
		t.Fatalf("python decoded %d records, want %d", count, n)
	}
}

// run runs a command and returns its standard output, failing the test
// with its standard error.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}
