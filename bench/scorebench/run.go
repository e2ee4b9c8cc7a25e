package main

import (
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/drift"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/train"
	"github.com/streamscore/streamscore/schemas"
)

// bench holds one benchmark run's shared state.
type bench struct {
	o           options
	dir         string
	scorerBin   string
	noGuardBin  string // the scorer built with the avro guard compiled out
	stack       *process
	brokers     []string
	registryURL string
	client      *kgo.Client
	admin       *kadm.Client
	registry    *srclient.SchemaRegistryClient
	codec       *goavro.Codec
	modelPath   string
	profilePath string // the flat model's reference profile (JSON)
	csvPath     string
	nested      nestedReport
	profiled    bool
}

const (
	backlogTopic = "bench.sensors"
	trainRows    = 50_000
	// modelTrees and modelDepth shape the model both sides score: the
	// Python consumer's GradientBoostingClassifier(n_estimators=100,
	// max_depth=6) and HistGradientBoostingClassifier(max_iter=100,
	// max_depth=6, early_stopping=False) (bench/python/consumer.py).
	modelTrees = 100
	modelDepth = 6
)

// modelConfig is the Go model's training configuration: as many trees of
// the same depth as the Python peer's, grown depth-wise with no leaf cap,
// and all of them, without early stopping. train.DefaultConfig is
// scikit-learn's HistGradientBoosting defaults (31-leaf trees of any
// depth, early stopping on above 10,000 rows), which would score a model
// of another size and shape than the peer's.
func modelConfig() train.Config {
	cfg := train.DefaultConfig()
	cfg.Objective = train.BinaryLogLoss
	cfg.MaxIter = modelTrees
	cfg.MaxDepth = modelDepth
	cfg.MaxLeafNodes = 0
	cfg.EarlyStopping = train.EarlyStoppingOff
	return cfg
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "scorebench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(os.Stderr, "work directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	b := &bench{o: o, dir: dir}
	if err := b.build(ctx); err != nil {
		return err
	}
	if err := b.startStack(ctx); err != nil {
		return err
	}
	defer b.stack.stop()
	defer b.client.Close()
	if err := b.prepare(ctx); err != nil {
		return err
	}

	rep := report{parts: o.parts, nested: b.nested}
	rep.records, rep.pythonRecords, rep.runs, rep.rate, rep.rateFor = o.records, o.pythonRecords, o.runs, o.rate, o.rateFor
	if o.parts[partFull] || o.parts[partNested] {
		if err := b.fullSpeed(ctx, &rep); err != nil {
			return err
		}
	}
	if o.parts[partEOS] {
		progress("full speed: streamscore exactly-once, %d runs of %d records", o.runs, o.records)
		if rep.goEOS, err = b.repeat(ctx, func(i int) (measurement, error) { return b.goExactlyOnce(ctx, i) }); err != nil {
			return err
		}
	}
	if o.parts[partRate] {
		progress("fixed rate: streamscore at %d records/s for %v", o.rate, o.rateFor)
		if rep.goRate, err = b.goFixedRate(ctx); err != nil {
			return err
		}
	}
	if o.parts[partPython] {
		for _, mode := range []string{"single", "batch"} {
			progress("full speed: Python %s, %d runs of %d records", mode, o.runs, o.pythonRecords)
			m, err := b.repeat(ctx, func(i int) (measurement, error) { return b.pythonBacklog(ctx, mode, i) })
			if err != nil {
				return err
			}
			rep.pyFull = append(rep.pyFull, m)
			progress("fixed rate: Python %s at %d records/s for %v", mode, o.rate, o.rateFor)
			r, err := b.pythonFixedRate(ctx, mode)
			if err != nil {
				return err
			}
			rep.pyRate = append(rep.pyRate, r)
		}
	}
	rep.print(os.Stdout)
	return nil
}

// fullSpeed drains the backlogs at full speed: the flat one with the
// scorer, and, by part, with the scorer without its avro guard and the
// nested one, taking turns, so that every one of them is measured beside
// the same flat runs.
func (b *bench) fullSpeed(ctx context.Context, rep *report) error {
	variants := []variant{{"flat", func(i int) (measurement, error) {
		return b.goBacklog(ctx, b.scorerBin, backlogTopic, b.modelPath, "go-full-", i)
	}}}
	if b.o.parts[partFull] {
		variants = append(variants, variant{"avro guard compiled out", func(i int) (measurement, error) {
			return b.goBacklog(ctx, b.noGuardBin, backlogTopic, b.modelPath, "go-noguard-", i)
		}}, variant{"monitoring off", func(i int) (measurement, error) {
			return b.goBacklog(ctx, b.scorerBin, backlogTopic, b.modelPath, "go-nomonitor-", i, "-monitor=false")
		}})
	}
	if b.o.parts[partNested] {
		// The grouped record is the flat one's values nested, with two
		// categories: the target's record. The flat model reads the rich
		// nested records too (its fields are at their top level, the
		// battery's default standing in for the field the nested record
		// moved into device): what the bigger record costs to decode,
		// apart from what its paths and categories cost.
		variants = append(variants, variant{"grouped", func(i int) (measurement, error) {
			return b.goBacklog(ctx, b.scorerBin, groupedTopic, b.nested.groupedModel, "go-grouped-", i)
		}}, variant{"nested record, flat model", func(i int) (measurement, error) {
			return b.goBacklog(ctx, b.scorerBin, nestedTopic, b.modelPath, "go-flatmodel-", i)
		}}, variant{"nested", func(i int) (measurement, error) {
			return b.goBacklog(ctx, b.scorerBin, nestedTopic, b.nested.richModel, "go-nested-", i)
		}})
	}
	names := make([]string, len(variants))
	for i, v := range variants {
		names[i] = v.name
	}
	progress("full speed: streamscore, %d runs each of %d records, taking turns: %s", b.o.runs, b.o.records, strings.Join(names, ", "))
	runs, err := b.alternate(ctx, variants)
	if err != nil {
		return err
	}
	rep.goFull = median(runs[0])
	if b.o.parts[partFull] {
		rep.goNoGuard, rep.goNoMonitor = median(runs[1]), median(runs[2])
	}
	if b.o.parts[partNested] {
		n := len(runs)
		rep.nested.flatRuns, rep.nested.groupedRuns = runs[0], runs[n-3]
		rep.nested.decodeRuns, rep.nested.richRuns = runs[n-2], runs[n-1]
	}
	return nil
}

// variant is one measurement of those alternate runs in turns.
type variant struct {
	name string
	f    func(i int) (measurement, error)
}

// alternate runs each variant o.runs times, taking turns, so that the
// machine's load drifts over all alike, and returns every run of each.
func (b *bench) alternate(ctx context.Context, variants []variant) ([][]measurement, error) {
	all := make([][]measurement, len(variants))
	for i := range b.o.runs {
		for j, v := range variants {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			m, err := v.f(i)
			if err != nil {
				return nil, fmt.Errorf("%s run %d: %w", v.name, i+1, err)
			}
			progress("  run %d, %s: %.0f records/s, %.1f us CPU per record", i+1, v.name, m.rate(), m.cpuPerRecord())
			all[j] = append(all[j], m)
		}
	}
	return all, nil
}

// repeat runs a measurement o.runs times and returns the median one.
func (b *bench) repeat(ctx context.Context, f func(int) (measurement, error)) (measurement, error) {
	var all []measurement
	for i := range b.o.runs {
		if ctx.Err() != nil {
			return measurement{}, ctx.Err()
		}
		m, err := f(i)
		if err != nil {
			return measurement{}, err
		}
		progress("  run %d: %.0f records/s, %.1f us CPU per record (broker: %.1f us)", i+1, m.rate(), m.cpuPerRecord(),
			float64(m.brokerCPU.Microseconds())/float64(m.records))
		all = append(all, m)
	}
	return median(all), nil
}

// prepare trains the flat model both implementations use a twin of,
// writes its training data for the Python side, preloads the flat backlog
// and, for the nested part, trains the grouped and nested models and
// preloads their backlogs.
func (b *bench) prepare(ctx context.Context) error {
	b.registry = srclient.NewSchemaRegistryClient(b.registryURL)
	var err error
	if b.codec, err = goavro.NewCodec(schemas.SensorReading); err != nil {
		return err
	}
	progress("training the model: %d trees of depth %d, no leaf cap, no early stopping, on %d rows", modelTrees, modelDepth, trainRows)
	spec := sample.SensorSpec("sensor-anomaly", "bench")
	onnxBytes, err := sample.SensorModel(ctx, spec, modelConfig(), trainRows)
	if err != nil {
		return err
	}
	b.modelPath = filepath.Join(b.dir, "sensor.onnx")
	if err := os.WriteFile(b.modelPath, onnxBytes, 0o644); err != nil {
		return err
	}
	if err := b.writeProfile(onnxBytes); err != nil {
		return err
	}
	if b.o.parts[partPython] {
		data, err := sample.SensorData(spec, 1, trainRows)
		if err != nil {
			return err
		}
		if err := b.writeCSV(data); err != nil {
			return err
		}
	}
	total := 0
	if b.o.parts[partFull] || b.o.parts[partEOS] || b.o.parts[partNested] {
		total = b.o.records
	}
	if b.o.parts[partPython] {
		total = max(total, b.o.pythonRecords)
	}
	if total > 0 {
		progress("preloading %d records into %s", total, backlogTopic)
		gen := sample.NewSensors(99, 200, 0.05)
		if b.nested.flat.bytes, err = b.produceBacklog(ctx, backlogTopic, schemas.SensorReading, b.codec, total, gen.Next); err != nil {
			return err
		}
	}
	if b.o.parts[partNested] {
		return b.prepareNested(ctx)
	}
	return nil
}

// writeProfile writes the flat model's reference profile, as the trainer
// would store it with a version, so the scorer measures drift against it
// as it would in production (-model-profile).
func (b *bench) writeProfile(onnxBytes []byte) error {
	if err := model.Init(model.LibraryPath("")); err != nil {
		return err
	}
	m, err := model.Load(onnxBytes, model.Options{})
	if err != nil {
		return err
	}
	defer m.Close()
	gen := sample.NewSensors(1, 100, 0.05)
	records := func(yield func(map[string]any) bool) {
		for range min(trainRows, 20_000) {
			if rec, _ := gen.Next(); !yield(rec) {
				return
			}
		}
	}
	profile, _, err := drift.ProfileRecords(m, records)
	if err != nil {
		return err
	}
	data, err := json.Marshal(profile)
	if err != nil {
		return err
	}
	b.profilePath = filepath.Join(b.dir, "sensor.profile.json")
	return os.WriteFile(b.profilePath, data, 0o644)
}

// writeCSV writes the training rows with the features in model order.
func (b *bench) writeCSV(data *train.Dataset) error {
	b.csvPath = filepath.Join(b.dir, "train.csv")
	f, err := os.Create(b.csvPath)
	if err != nil {
		return err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	w.Write(append(append([]string{}, sample.SensorFeatures...), "label"))
	row := make([]string, data.NumFeatures()+1)
	for i := range data.NumRows() {
		for j, v := range data.Row(i) {
			row[j] = strconv.FormatFloat(float64(v), 'g', -1, 32)
		}
		row[len(row)-1] = strconv.Itoa(int(data.Label(i)))
		w.Write(row)
	}
	w.Flush()
	return w.Error()
}

// topic creates a topic and registers the sensor schema under its subject.
func (b *bench) topic(ctx context.Context, name string) (uint32, error) {
	return b.topicOf(ctx, name, schemas.SensorReading)
}

// topicOf creates a topic and registers schema under its subject.
func (b *bench) topicOf(ctx context.Context, name, schema string) (uint32, error) {
	if _, err := b.admin.CreateTopic(ctx, int32(b.o.partitions), -1, nil, name); err != nil {
		return 0, fmt.Errorf("create %s: %w", name, err)
	}
	s, err := b.registry.CreateSchema(name+"-value", schema, srclient.Avro)
	if err != nil {
		return 0, fmt.Errorf("register %s: %w", name, err)
	}
	return uint32(s.ID()), nil
}

// frame encodes one generated reading.
func frame(codec *goavro.Codec, id uint32, rec map[string]any) (key, value []byte) {
	value = binary.BigEndian.AppendUint32([]byte{0}, id)
	value, err := codec.BinaryFromNative(value, rec)
	if err != nil {
		panic(err) // generated records always fit their schema
	}
	return []byte(rec["device_id"].(string)), value
}

// produceBacklog fills a topic with n generated readings as fast as the
// broker takes them and returns their mean size, framing included.
func (b *bench) produceBacklog(ctx context.Context, topic, schema string, codec *goavro.Codec, n int, next func() (map[string]any, bool)) (float64, error) {
	id, err := b.topicOf(ctx, topic, schema)
	if err != nil {
		return 0, err
	}
	var failed firstError
	size := 0
	for range n {
		rec, _ := next()
		key, value := frame(codec, id, rec)
		size += len(value)
		b.client.Produce(ctx, &kgo.Record{Topic: topic, Key: key, Value: value}, failed.promise)
	}
	if err := b.client.Flush(ctx); err != nil {
		return 0, err
	}
	if err := failed.get(); err != nil {
		return 0, fmt.Errorf("preload %s: %w", topic, err)
	}
	return float64(size) / float64(n), nil
}

// firstError keeps the first error of many produce promises.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) promise(_ *kgo.Record, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// offer produces records at a steady rate for a while, each stamped with
// the time it was created, and returns how many it sent.
func (b *bench) offer(ctx context.Context, topic string, id uint32) (int, error) {
	gen := sample.NewSensors(7, 200, 0.05)
	ticker := time.NewTicker(time.Millisecond)
	defer ticker.Stop()
	start := time.Now()
	want := int(float64(b.o.rate) * b.o.rateFor.Seconds())
	sent := 0
	var failed firstError
	for sent < want {
		select {
		case <-ctx.Done():
			return sent, ctx.Err()
		case now := <-ticker.C:
			due := min(want, int(now.Sub(start).Seconds()*float64(b.o.rate)))
			for ; sent < due; sent++ {
				rec, _ := gen.Next()
				key, value := frame(b.codec, id, rec)
				b.client.Produce(ctx, &kgo.Record{Topic: topic, Key: key, Value: value, Timestamp: time.Now()}, failed.promise)
			}
		}
	}
	if err := b.client.Flush(ctx); err != nil {
		return sent, err
	}
	if err := failed.get(); err != nil {
		return sent, fmt.Errorf("offer: %w", err)
	}
	return sent, nil
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "scorebench: "+format+"\n", args...)
}
