// Package demo runs streamscore end to end on one machine: the embedded
// broker and registry, two trained models, a producer of sample sensor
// readings and text messages (with a few bad records mixed in), a scorer for
// each stream, and a live view of what they do.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/scorer"
	"github.com/streamscore/streamscore/internal/train"
	"github.com/streamscore/streamscore/schemas"
)

// Config sets up the demo.
type Config struct {
	// Dir keeps the broker's topics and offsets, the registry's schemas and
	// the trained models across runs.
	Dir          string
	KafkaPort    int
	RegistryAddr string
	// HTTPAddrs are the sensor and the text scorers' HTTP addresses.
	HTTPAddrs [2]string
	// Rate is the sensor readings per second the producer offers; messages
	// come at a quarter of it.
	Rate int
	// BadEvery makes every BadEvery-th record a bad one, of each kind in
	// turn; zero sends only good records.
	BadEvery int
	// Duration stops the demo after a while; zero runs until interrupted.
	Duration time.Duration
	// Until, if set, stops the demo once it reports true of the scorers'
	// totals, asked after each line of progress (once a second).
	Until func(Totals) bool
	// Out receives the live view.
	Out io.Writer
	// Logger receives the components' logs.
	Logger *slog.Logger
	// Library is the ONNX Runtime library; empty takes model.LibraryPath's
	// choice.
	Library string
}

// pipeline is one scored stream of the demo: its topic, schema and model.
type pipeline struct {
	topic  string
	schema string
	model  string
	train  func(ctx context.Context) ([]byte, error)
	about  string

	schemaID uint32
	service  *scorer.Service
	output   string
}

func pipelines() []*pipeline {
	return []*pipeline{
		{
			topic: sensorTopic, schema: schemas.SensorReading, model: "sensor-anomaly",
			about: "gradient-boosted trees at scikit-learn's defaults (up to 100 rounds of 31 leaves, early stopping) over 10 sensor fields",
			train: func(ctx context.Context) ([]byte, error) {
				return sample.SensorModel(ctx, sample.SensorSpec("sensor-anomaly", "1"), train.DefaultConfig(), 50_000)
			},
		},
		{
			topic: messageTopic, schema: schemas.TextMessage, model: "spam",
			about: "TF-IDF over words and logistic regression; tokenizes raw text inside the graph",
			train: func(ctx context.Context) ([]byte, error) {
				return sample.TextModel(ctx, sample.TextSpec("spam", "1"), 20_000)
			},
		},
	}
}

// Run runs the demo until ctx ends or Duration passes.
func Run(ctx context.Context, cfg Config) error {
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
	streams := pipelines()
	var gatherers []gatherer
	for i, p := range streams {
		if err := p.start(ctx, cfg, stack, reg, cfg.HTTPAddrs[i]); err != nil {
			return err
		}
		gatherers = append(gatherers, p.service.Metrics())
	}
	fmt.Fprintln(cfg.Out)

	prod, err := newProducer(stack.Brokers(), streams[0].schemaID, streams[1].schemaID, cfg.Rate, cfg.BadEvery)
	if err != nil {
		return err
	}
	defer prod.close()
	view, err := newView(stack.Brokers(), reg, gatherers, []string{streams[0].output, streams[1].output}, "streamscore.dlq", cfg.Out)
	if err != nil {
		return err
	}
	view.until = cfg.Until
	defer view.close()

	g, gctx := errgroup.WithContext(ctx)
	for _, p := range streams {
		g.Go(func() error { return p.service.Run(gctx) })
	}
	g.Go(func() error { return prod.run(gctx) })
	g.Go(func() error { return view.run(gctx) })
	err = g.Wait()
	view.summary(prod)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errEnough) {
		return nil
	}
	return err
}

// start creates the pipeline's topic, registers its schema, trains its
// model if no earlier run did, and builds its scorer.
func (p *pipeline) start(ctx context.Context, cfg Config, stack *embedded.Stack, reg *srclient.SchemaRegistryClient, httpAddr string) error {
	if err := createTopic(ctx, stack.Brokers(), p.topic, 3); err != nil {
		return err
	}
	s, err := reg.CreateSchema(p.topic+"-value", p.schema, srclient.Avro)
	if err != nil {
		return fmt.Errorf("register %s schema: %w", p.topic, err)
	}
	p.schemaID = uint32(s.ID())
	modelPath, err := p.ensureModel(ctx, cfg)
	if err != nil {
		return err
	}
	sc := scorer.DefaultConfig()
	sc.Kafka.Brokers = stack.Brokers()
	sc.Registry.URL = stack.RegistryURL()
	sc.Stream.Topics = []string{p.topic}
	sc.Stream.Group = "streamscore-" + p.topic
	sc.Model.Path = modelPath
	sc.HTTPAddr = httpAddr
	if p.service, err = scorer.New(sc, cfg.Logger); err != nil {
		return err
	}
	p.output = sc.Stream.OutputFor(p.topic)
	fmt.Fprintf(cfg.Out, "scorer    %s -> %s (dead letters -> %s), http://%s/metrics\n",
		p.topic, p.output, sc.Stream.DeadLetterTopic, p.service.Addr())
	return nil
}

// ensureModel trains the model on first use and keeps it in Dir, so later
// runs start at once and score with the same version.
func (p *pipeline) ensureModel(ctx context.Context, cfg Config) (string, error) {
	path := filepath.Join(cfg.Dir, "models", p.model+".onnx")
	if _, err := os.Stat(path); err == nil {
		fmt.Fprintf(cfg.Out, "model     %s (trained on an earlier run)\n", path)
		return path, nil
	}
	start := time.Now()
	onnxBytes, err := p.train(ctx)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, onnxBytes, 0o644); err != nil {
		return "", err
	}
	fmt.Fprintf(cfg.Out, "model     %s: %s, trained in %v\n", path, p.about, time.Since(start).Round(time.Millisecond))
	return path, nil
}

// createTopic creates an input topic unless an earlier run did.
func createTopic(ctx context.Context, brokers []string, topic string, partitions int32) error {
	client, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return err
	}
	defer client.Close()
	resp, err := kadm.NewClient(client).CreateTopic(ctx, partitions, -1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	return nil
}
