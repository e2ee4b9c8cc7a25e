package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/testkit"
)

// historyOptions say how to measure the trainer over long histories.
type historyOptions struct {
	records     []int // history sizes, each measured in turn
	runs        int   // trainer runs per size
	partitions  int
	compression string // none or lz4, of the produced batches
	rssLimit    int64  // bytes; a trainer holding more is killed
	// memoryLimitMiB is the trainer's -memory-limit-mb, as in a container
	// of a given size; 0: none.
	memoryLimitMiB int
	params         string // gbdt params JSON; empty: 100 iterations, early stopping off
	keep           bool   // keep the work directory and its logs
}

// historySize is one history size's measurements.
type historySize struct {
	records    int
	produce    time.Duration
	brokerRSS  int64 // the stack's resident memory once the topic is produced
	runs       []trainerRun
	partitions int
}

// historyResult is the history part's outcome.
type historyResult struct {
	sizes      []historySize
	brokerPeak int64 // the stack's peak resident memory over the whole part
	params     string
}

// runHistory starts the stack in its own process; then, for each size,
// produces that many rows to a new topic and runs the real `trainer train`
// on it o.runs times, measuring each process from start to exit. The
// topic is deleted before the next size, so the broker holds one history
// at a time.
func runHistory(ctx context.Context, o historyOptions) (*historyResult, error) {
	dir, err := os.MkdirTemp("", "trainbench-history-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		progress("work directory (kept): %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	progress("building cmd/stack and cmd/trainer")
	bins, err := testkit.Build(filepath.Join(dir, "bin"), "stack", "trainer")
	if err != nil {
		return nil, err
	}
	ortLibrary, err := ortLibraryPath()
	if err != nil {
		return nil, err
	}
	stack, err := startStack(ctx, bins["stack"], filepath.Join(dir, "stack.log"), o.partitions)
	if err != nil {
		return nil, err
	}
	defer stack.stop()

	codec, err := compressionCodec(o.compression)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(stack.brokers),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(codec),
		kgo.ProducerLinger(20*time.Millisecond), // full batches of 1 MB
		kgo.MaxBufferedRecords(100_000),
	)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	admin := kadm.NewClient(cl)
	registry := srclient.NewSchemaRegistryClient(stack.registryURL)
	setup := &trainerSetup{
		bin: bins["trainer"], ortLibrary: ortLibrary, brokers: stack.brokers, registryURL: stack.registryURL,
		stack: stack, rssLimit: o.rssLimit, memoryLimitMiB: o.memoryLimitMiB, params: o.params,
	}

	res := &historyResult{}
	for _, n := range o.records {
		size := historySize{records: n, partitions: o.partitions}
		topic := fmt.Sprintf("bench.history.%d", n)
		if _, err := admin.CreateTopic(ctx, int32(o.partitions), 1, nil, topic); err != nil {
			return nil, fmt.Errorf("create %s: %w", topic, err)
		}
		schema, err := registry.CreateSchema(topic+"-value", historySchema, srclient.Avro)
		if err != nil {
			return nil, fmt.Errorf("register %s-value: %w", topic, err)
		}
		progress("producing %d records to %s (%d partitions, compression: %s)", n, topic, o.partitions, o.compression)
		began := time.Now()
		if err := produceHistory(ctx, cl, topic, uint32(schema.ID()), n, o.partitions); err != nil {
			return nil, err
		}
		size.produce = time.Since(began)
		if size.brokerRSS, _, err = stack.memory(); err != nil {
			return nil, err
		}
		progress("produced in %.1f s; the broker holds %s", size.produce.Seconds(), mib(size.brokerRSS))
		for r := range o.runs {
			run, err := setup.train(ctx, dir, topic, fmt.Sprintf("bench.models.%d.%d", n, r+1))
			if err != nil {
				return nil, err
			}
			res.params = run.params
			size.runs = append(size.runs, run)
			progress("trainer run %d of %d on %d records: %s", r+1, o.runs, n, run.summary())
		}
		res.sizes = append(res.sizes, size)
		if _, err := admin.DeleteTopics(ctx, topic); err != nil {
			return nil, fmt.Errorf("delete %s: %w", topic, err)
		}
	}
	if _, res.brokerPeak, err = stack.memory(); err != nil {
		return nil, err
	}
	return res, nil
}

func (r trainerRun) summary() string {
	s := fmt.Sprintf("%.1f s wall, %.1f s CPU, peak RSS %s, %d records read, holdout AUC %.4f",
		r.wall.Seconds(), r.cpu.Seconds(), mib(r.peakRSS), r.records, r.auc)
	if !r.ok() {
		s += "; FAILED: " + r.failure
	}
	return s
}

func compressionCodec(name string) (kgo.CompressionCodec, error) {
	switch name {
	case "none":
		return kgo.NoCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("-history-compression: %q is neither none nor lz4", name)
}

// ortLibraryPath is $ONNXRUNTIME_SHARED_LIBRARY_PATH, or the copy `make
// setup` installs in the module's .cache.
func ortLibraryPath() (string, error) {
	if p := os.Getenv("ONNXRUNTIME_SHARED_LIBRARY_PATH"); p != "" {
		return p, nil
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	p := filepath.Join(filepath.Dir(strings.TrimSpace(string(out))), ".cache", "onnxruntime", "libonnxruntime.so.1")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("ONNX Runtime not found (%w); run make setup", err)
	}
	return p, nil
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "trainbench: "+format+"\n", args...)
}
