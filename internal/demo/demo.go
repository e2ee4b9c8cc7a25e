// Package demo runs streamscore end to end on one machine: the embedded
// broker and registry, a producer of sample sensor readings and text
// messages (with a few bad records mixed in), a scorer for each stream,
// and a live view of what they do. The sensor stream closes the loop: its
// model comes from the catalog of an in-process trainer, the readings
// shift midway, the scorer's monitoring windows show the drift, the
// trainer retrains on it, the scorer shadow-scores the new version, the
// true labels arrive late, and the new version is promoted once the labels
// show it better.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/riferrei/srclient"
	"golang.org/x/sync/errgroup"

	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/schemas"
)

// Config sets up the demo.
type Config struct {
	// Dir keeps the broker's topics and offsets (the model catalog's
	// among them), the registry's schemas and the text model across runs.
	Dir          string
	KafkaPort    int
	RegistryAddr string
	// HTTPAddrs are the sensor and the text scorers' HTTP addresses.
	HTTPAddrs [2]string
	// TrainerHTTPAddr is the trainer's REST API and /metrics; empty takes
	// a free port on 127.0.0.1.
	TrainerHTTPAddr string
	// Rate is the sensor readings per second the producer offers; messages
	// come at a quarter of it.
	Rate int
	// BadEvery makes every BadEvery-th record a bad one, of each kind in
	// turn; zero sends only good records.
	BadEvery int
	// ShiftAfter is when, after the producer starts, the readings'
	// temperature rises by 8 °C; 0 means a minute.
	ShiftAfter time.Duration
	// MonitorWindow is the sensor scorer's monitoring window; the drift
	// must last four of them before the trainer retrains, on the history
	// of the last three. 0 means 10 s.
	MonitorWindow time.Duration
	// LabelDelay is how long after a reading its true label is written; 0
	// means 3 s.
	LabelDelay time.Duration
	// Duration stops the demo after a while; zero runs until interrupted.
	Duration time.Duration
	// Until, if set, stops the demo once it reports true of the totals,
	// asked after each line of progress (once a second).
	Until func(Totals) bool
	// Out receives the live view.
	Out io.Writer
	// Logger receives the components' logs.
	Logger *slog.Logger
	// Library is the ONNX Runtime library; empty takes model.LibraryPath's
	// choice.
	Library string
}

// withDefaults fills in what was left out.
func (c Config) withDefaults() Config {
	if c.ShiftAfter == 0 {
		c.ShiftAfter = time.Minute
	}
	if c.MonitorWindow == 0 {
		c.MonitorWindow = 10 * time.Second
	}
	if c.LabelDelay == 0 {
		c.LabelDelay = 3 * time.Second
	}
	if c.TrainerHTTPAddr == "" {
		c.TrainerHTTPAddr = "127.0.0.1:0"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Run runs the demo until ctx ends or Duration passes.
func Run(ctx context.Context, cfg Config) error {
	cfg = cfg.withDefaults()
	if cfg.Rate < 1 {
		return fmt.Errorf("demo: rate %d is not a positive number of readings per second", cfg.Rate)
	}
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	stack, err := embedded.Start(embedded.Config{
		Dir: filepath.Join(cfg.Dir, "stack"), KafkaPort: cfg.KafkaPort, RegistryAddr: cfg.RegistryAddr,
		Partitions: 3, Logger: cfg.Logger,
	})
	if err != nil {
		return err
	}
	defer stack.Close()
	fmt.Fprintf(cfg.Out, "kafka     %s\nregistry  %s\n", stack.Brokers()[0], stack.RegistryURL())

	if err := model.Init(model.LibraryPath(cfg.Library)); err != nil {
		return err
	}
	reg := srclient.NewSchemaRegistryClient(stack.RegistryURL())
	codecs, err := prepareTopics(ctx, stack.Brokers(), reg)
	if err != nil {
		return err
	}
	prod, err := newProducer(stack.Brokers(), codecs, cfg)
	if err != nil {
		return err
	}
	defer prod.close()

	job, err := sensorJob(cfg.MonitorWindow, cfg.Rate)
	if err != nil {
		return err
	}
	train, err := newTrainer(ctx, cfg, stack, job)
	if err != nil {
		return err
	}
	fmt.Fprintf(cfg.Out, "trainer   job %s: retrains from %s when %s drifts, promotes online; http://%s/metrics\n",
		sensorModel, historyTopic, monitorTopic, train.Addr())
	began := time.Now()
	if err := firstVersion(ctx, cfg, train, prod); err != nil {
		train.Close()
		return err
	}
	streams := []*pipeline{sensorPipeline(), textPipeline()}
	var gatherers []gatherer
	for i, p := range streams {
		if err := p.start(ctx, cfg, stack, cfg.HTTPAddrs[i]); err != nil {
			train.Close()
			return err
		}
		gatherers = append(gatherers, p.service.Metrics())
	}
	fmt.Fprintln(cfg.Out)

	loop := newLoopWatch(train.Catalog(), streams[0].service.Metrics(), "http://"+train.Addr()+"/metrics", prod, job, began)
	view, err := newView(viewDeps{
		brokers: stack.Brokers(), registry: reg, scorers: gatherers,
		outputs: []string{streams[0].output, streams[1].output}, dlq: "streamscore.dlq", monitor: monitorTopic,
		loop: loop, out: cfg.Out,
	})
	if err != nil {
		train.Close()
		return err
	}
	view.until = cfg.Until
	defer view.close()

	g, gctx := errgroup.WithContext(ctx)
	for _, p := range streams {
		g.Go(func() error { return p.service.Run(gctx) })
	}
	g.Go(func() error { return train.Run(gctx) })
	g.Go(func() error { return prod.run(gctx) })
	g.Go(func() error { return view.run(gctx) })
	err = g.Wait()
	view.summary(prod)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errEnough) {
		return nil
	}
	return err
}

// prepareTopics creates the demo's topics and registers their schemas,
// unless an earlier run did, and returns the producer's codecs.
func prepareTopics(ctx context.Context, brokers []string, reg *srclient.SchemaRegistryClient) (producerCodecs, error) {
	labelled, err := sample.LabelledSensorSchema()
	if err != nil {
		return producerCodecs{}, err
	}
	var codecs producerCodecs
	for _, t := range []struct {
		topic  string
		schema string
		codec  *codec
	}{
		{sensorTopic, schemas.SensorReading, &codecs.sensor},
		{messageTopic, schemas.TextMessage, &codecs.text},
		{historyTopic, labelled, &codecs.history},
		{labelsTopic, labelSchema, &codecs.label},
	} {
		if err := createTopic(ctx, brokers, t.topic, 3); err != nil {
			return producerCodecs{}, err
		}
		s, err := reg.CreateSchema(t.topic+"-value", t.schema, srclient.Avro)
		if err != nil {
			return producerCodecs{}, fmt.Errorf("register %s schema: %w", t.topic, err)
		}
		c, err := goavro.NewCodec(t.schema)
		if err != nil {
			return producerCodecs{}, fmt.Errorf("%s schema: %w", t.topic, err)
		}
		*t.codec = codec{Codec: c, id: uint32(s.ID())}
	}
	// The scorer would create the monitor topic, with one partition; it is
	// made first so that the view and the trainer, which read it from its
	// end at their start, read it from its first window.
	return codecs, createTopic(ctx, brokers, monitorTopic, 1)
}
