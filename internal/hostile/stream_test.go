package hostile_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/internal/stream"
	"github.com/streamscore/streamscore/internal/testkit"
	"github.com/streamscore/streamscore/internal/train"
)

const (
	topic      = "readings"
	partitions = 6
	good       = 100_000
	hostile    = 10_000
	// maxScorerRSS is the bound on the scorer's peak resident
	// memory over the whole stream.
	maxScorerRSS = 200 << 20
	// memoryLimitMB is Go's soft memory limit for the scorer, as it would
	// be set in a 200 MB container (the chart keeps it under the
	// container's limit). Without one the scorer's default GC target (400)
	// lets the heap grow to five times the fetched batches, decompressed:
	// 260-290 MB here, since the recursive records compress a
	// thousandfold. The limit bounds the heap; the avro guard is what keeps
	// any one record from outgrowing it.
	memoryLimitMB = 128
	// deepAtFull is how many of the recursive records nest 983,500 deep,
	// as in finding 3 (a 983 KB body each); the others nest 20,000 deep.
	deepAtFull = 10
)

// TestHostileStreamOnRealProcesses: 10,000 hostile records of every kind
// issue 10 found (block counts that no body could hold, 20 million nulls,
// records nested 983,500 deep, overlong varints, negative lengths, bad
// indexes, truncated bodies, frames without the magic byte, unknown
// schema ids) mixed with 100,000 good records of two schema versions (rssi
// int, then long) over six partitions. The scorer, a real process, never
// exits; every input offset has exactly one result, an output or a dead
// letter of the record's class; its peak RSS stays under 200 MB. The same
// topic is then a trainer job's history: the trainer, a real process,
// trains on the 100,000 good records and counts the hostile ones skipped,
// by class.
func TestHostileStreamOnRealProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the scorer, the trainer and the stack as processes")
	}
	dir := t.TempDir()
	stack := testkit.StartStack(t, bins.Path("stack"), dir, testkit.StackConfig{Partitions: partitions})
	inputs, classes := produceStream(t, stack)

	modelPath := writeModel(t, dir)
	scorer, _ := testkit.StartProc(t, "scorer", filepath.Join(dir, "scorer.log"), false, bins.Path("scorer"),
		"-brokers", stack.Brokers, "-registry-url", stack.RegistryURL, "-topics", topic, "-group", "hostile",
		"-dlq-topic", topic+".dlq", "-model", modelPath, "-ort-library", bins.ORTLibrary,
		"-http-addr", "127.0.0.1:0", "-log-format", "json", "-memory-limit-mb", strconv.Itoa(memoryLimitMB))

	results := consume(t, stack, scorer, len(inputs), topic+".scored", topic+".dlq")
	if !scorer.Running() {
		t.Fatalf("the scorer exited (%s)", scorer.ExitStatus())
	}
	rss, err := scorer.PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("scorer: %d inputs, %d results, peak RSS %.1f MB", len(inputs), len(results), float64(rss)/(1<<20))
	if rss > maxScorerRSS {
		t.Errorf("the scorer's peak RSS was %.1f MB, over %d MB", float64(rss)/(1<<20), maxScorerRSS>>20)
	}
	checkResults(t, inputs, results)
	if err := scorer.Stop(60 * time.Second); err != nil {
		t.Errorf("stop the scorer: %v", err)
	}

	trainOnHistory(t, dir, stack, classes)
}

// produceStream registers the schemas and writes the good and hostile
// records, interleaved, round the partitions. It returns the class each
// input must get ("" for a good record) by its coordinates, and how many
// hostile records of each class were written.
func produceStream(t *testing.T, stack *testkit.Stack) (map[string]string, map[string]int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(stack.Brokers), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	reg := srclient.NewSchemaRegistryClient(stack.RegistryURL)
	reg.CodecCreationEnabled(false)
	register := func(subject, schema string) uint32 {
		rs, err := reg.CreateSchema(subject, schema, srclient.Avro)
		if err != nil {
			t.Fatalf("register %s: %v", subject, err)
		}
		return uint32(rs.ID())
	}
	v1 := testkit.SensorSchemaWith(`{"name":"anomaly","type":"boolean","default":false}`)
	v2 := strings.Replace(v1, `"name":"rssi","type":"int"`, `"name":"rssi","type":"long"`, 1)
	if v2 == v1 {
		t.Fatal("v2 is v1: the rssi field was not found")
	}
	versions := []struct {
		id    uint32
		codec *goavro.Codec
	}{{register(topic+"-value", v1), mustCodec(t, v1)}, {register(topic+"-value", v2), mustCodec(t, v2)}}

	kinds := hostileKinds(t, register)
	gen := sample.NewSensors(7, 200, 0.05)
	want := map[string]string{}
	counts := map[string]int{}
	deep := 0
	var batch []*kgo.Record
	flush := func() {
		if err := cl.ProduceSync(ctx, batch...).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
		for _, r := range batch {
			if _, ok := want[coords(r.Topic, r.Partition, r.Offset)]; ok {
				t.Fatalf("two inputs at %s", coords(r.Topic, r.Partition, r.Offset))
			}
			want[coords(r.Topic, r.Partition, r.Offset)] = string(r.Headers[0].Value)
		}
		batch = batch[:0]
	}
	for i := range good + hostile {
		var value []byte
		class := ""
		if i%((good+hostile)/hostile) == 0 {
			k := kinds[(i/((good+hostile)/hostile))%len(kinds)]
			value, class = k.value, k.class
			if k.deep != nil && deep < deepAtFull {
				value, deep = k.deep, deep+1
			}
			counts[class]++
		} else {
			rec, anomaly := gen.Next()
			rec["anomaly"] = anomaly
			v := versions[i%2]
			if i%2 == 1 {
				rec["rssi"] = int64(rec["rssi"].(int32))
			}
			value = serde.AppendFrame(nil, v.id)
			if value, err = v.codec.BinaryFromNative(value, rec); err != nil {
				t.Fatal(err)
			}
		}
		// The expected class rides in a header, read back once the
		// broker has given the record its offset.
		batch = append(batch, &kgo.Record{Topic: topic, Partition: int32(i % partitions), Value: value,
			Headers: []kgo.RecordHeader{{Key: "test.class", Value: []byte(class)}}})
		if len(batch) == 5000 {
			flush()
		}
	}
	flush()
	return want, counts
}

// kind is one hostile value and the dead-letter class it must get; a
// recursive kind has a deeper variant too.
type kind struct {
	value, deep []byte
	class       string
}

// hostileKinds frames the project's catalogue of hostile records (each
// schema registered under a subject of its own: the input subject's
// compatibility would refuse most of them) and adds records that are not
// Avro at all.
func hostileKinds(t *testing.T, register func(subject, schema string) uint32) []kind {
	t.Helper()
	shallow := testkit.HostileRecords(5, 20_000)
	full := testkit.HostileRecords(5, 983_500)
	var kinds []kind
	for i, h := range shallow {
		if h.Class == testkit.ClassUnsupported {
			continue // the project's registry refuses these schemas at registration
		}
		id := register(fmt.Sprintf("hostile%d-value", i), h.Schema)
		k := kind{value: frame(id, h.Body), class: h.Class}
		if h.Kind != full[i].Kind { // the recursive kind: its name says how deep
			k.deep = frame(id, full[i].Body)
			if len(k.deep) > stream.DefaultMaxRecordBytes {
				t.Fatalf("the 983,500-deep record is %d bytes: the scorer would call it oversize", len(k.deep))
			}
		}
		kinds = append(kinds, k)
	}
	body := testkit.SensorBody(1)
	return append(kinds,
		kind{value: append([]byte{1, 0, 0, 0, 1}, body...), class: deadletter.BadMagic},
		kind{value: []byte{0, 0, 0}, class: deadletter.Truncated},
		kind{value: frame(999_999, body), class: deadletter.UnknownSchema},
	)
}

func frame(id uint32, body []byte) []byte {
	return append(serde.AppendFrame(nil, id), body...)
}

func mustCodec(t *testing.T, schema string) *goavro.Codec {
	t.Helper()
	c, err := goavro.NewCodec(schema)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func coords(topic string, partition int32, offset int64) string {
	return topic + "/" + strconv.Itoa(int(partition)) + "@" + strconv.FormatInt(offset, 10)
}

// writeModel trains a small sensor model and writes it for the scorer.
func writeModel(t *testing.T, dir string) string {
	t.Helper()
	cfg := train.DefaultConfig()
	cfg.MaxIter, cfg.MaxDepth = 20, 4
	onnxBytes, err := sample.SensorModel(context.Background(), sample.SensorSpec("sensor-anomaly", "1"), cfg, 4000)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sensor.onnx")
	if err := os.WriteFile(path, onnxBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// consume reads the result topics from the start until want results
// arrived, failing if the scorer exits first or if they stop coming for a
// minute.
func consume(t *testing.T, stack *testkit.Stack, scorer *testkit.Proc, want int, topics ...string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(stack.Brokers), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxPartitionBytes(4<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []*kgo.Record
	for len(got) < want {
		if !scorer.Running() {
			t.Fatalf("the scorer exited (%s) after %d of %d results", scorer.ExitStatus(), len(got), want)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		fetches := cl.PollFetches(ctx)
		cancel()
		if err := fetches.Err0(); err != nil {
			t.Fatalf("%d of %d results, then: %v", len(got), want, err)
		}
		got = append(got, fetches.Records()...)
	}
	return got
}

// checkResults: every input has exactly one result; a good record's is an
// output, a hostile one's a dead letter of its class.
func checkResults(t *testing.T, want map[string]string, results []*kgo.Record) {
	t.Helper()
	seen := map[string]bool{}
	wrong := 0
	for _, r := range results {
		src := header(r, deadletter.HeaderSourceTopic) + "/" + header(r, deadletter.HeaderSourcePartition) + "@" + header(r, deadletter.HeaderSourceOffset)
		class, ok := want[src]
		switch {
		case !ok:
			t.Fatalf("a result names %s, which is no input", src)
		case seen[src]:
			t.Fatalf("%s has two results", src)
		}
		seen[src] = true
		got := header(r, deadletter.HeaderErrorClass)
		if r.Topic == topic+".scored" {
			got = ""
		}
		if got != class {
			if wrong++; wrong <= 5 {
				t.Errorf("%s: class %q, want %q (%s)", src, got, class, header(r, deadletter.HeaderErrorReason))
			}
		}
	}
	if wrong > 0 || len(seen) != len(want) {
		t.Fatalf("%d of %d inputs have a result, %d of the wrong class", len(seen), len(want), wrong)
	}
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// trainOnHistory runs `trainer train` on the topic and checks, from its
// log, that it read the good records as rows and skipped every hostile
// one, counted by class.
func trainOnHistory(t *testing.T, dir string, stack *testkit.Stack, hostileByClass map[string]int) {
	t.Helper()
	features, _ := json.Marshal(sample.SensorFeatures)
	config := fmt.Sprintf(`kafka:
  brokers: [%s]
registry:
  url: %s
http_addr: "127.0.0.1:0"
log_format: json
ort_library: %s
jobs:
  - name: hostile-history
    source:
      topic: %s
    options:
      family: gbdt
      features: %s
      defaults: {battery_volts: 3.3}
      label: anomaly
      params: {num_trees: 20, max_depth: 4}
`, stack.Brokers, stack.RegistryURL, bins.ORTLibrary, topic, features)
	path := filepath.Join(dir, "trainer.yaml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	trainer, _ := testkit.StartProc(t, "trainer", filepath.Join(dir, "trainer.log"), false, bins.Path("trainer"),
		"train", "-config", path, "hostile-history")
	select {
	case <-trainer.Done():
	case <-time.After(5 * time.Minute):
		t.Fatal("the training did not end within 5 minutes")
	}
	if trainer.ExitStatus() != "exit status 0" {
		t.Fatalf("trainer train: %s", trainer.ExitStatus())
	}
	read := findLog(t, trainer.LogPath, "training data read")
	var skipped map[string]int
	if err := json.Unmarshal(read["skipped"], &skipped); err != nil {
		t.Fatalf("skipped in %v: %v", read, err)
	}
	if rows := string(read["rows"]); rows != strconv.Itoa(good) {
		t.Errorf("the trainer read %s rows, want %d", rows, good)
	}
	for class, n := range hostileByClass {
		if skipped[class] != n {
			t.Errorf("the trainer skipped %v, want %d %s", skipped, n, class)
		}
	}
}

// findLog returns the attributes of the first JSON log line with message
// msg.
func findLog(t *testing.T, path, msg string) map[string]json.RawMessage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line map[string]json.RawMessage
		if json.Unmarshal(sc.Bytes(), &line) == nil && string(line["msg"]) == strconv.Quote(msg) {
			return line
		}
	}
	t.Fatalf("no %q line in %s", msg, path)
	return nil
}
