// Package demo runs streamscore end to end on one machine: the embedded
// broker and registry, a trained model, a producer of sample readings (with
// a few bad records mixed in), the scorer, and a live view of what it does.
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
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/scorer"
	"github.com/streamscore/streamscore/internal/train"
	"github.com/streamscore/streamscore/schemas"
)

// Config sets up the demo.
type Config struct {
	// Dir keeps the broker's topics and offsets, the registry's schemas and
	// the trained model across runs.
	Dir          string
	KafkaPort    int
	RegistryAddr string
	HTTPAddr     string
	// Rate is the records per second the producer offers.
	Rate int
	// BadEvery makes every BadEvery-th record a bad one, of each kind in
	// turn; zero sends only good records.
	BadEvery int
	// Duration stops the demo after a while; zero runs until interrupted.
	Duration time.Duration
	// Out receives the live view.
	Out io.Writer
	// Logger receives the components' logs.
	Logger *slog.Logger
}

// The demo's topics.
const (
	SensorTopic = "sensors"
	modelName   = "sensor-anomaly"
)

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

	if err := createTopic(ctx, stack.Brokers(), SensorTopic, 3); err != nil {
		return err
	}
	reg := srclient.NewSchemaRegistryClient(stack.RegistryURL())
	sensorSchema, err := reg.CreateSchema(SensorTopic+"-value", schemas.SensorReading, srclient.Avro)
	if err != nil {
		return fmt.Errorf("register %s schema: %w", SensorTopic, err)
	}
	modelPath, err := ensureModel(ctx, cfg)
	if err != nil {
		return err
	}

	sc := scorer.DefaultConfig()
	sc.Kafka.Brokers = stack.Brokers()
	sc.Registry.URL = stack.RegistryURL()
	sc.Stream.Topics = []string{SensorTopic}
	sc.Model.Path = modelPath
	sc.HTTPAddr = cfg.HTTPAddr
	svc, err := scorer.New(sc, cfg.Logger)
	if err != nil {
		return err
	}
	fmt.Fprintf(cfg.Out, "scorer    http://%s/metrics  (also /healthz, /readyz)\n", svc.Addr())
	fmt.Fprintf(cfg.Out, "topics    %s -> %s, dead letters -> %s\n\n", SensorTopic, sc.Stream.OutputFor(SensorTopic), sc.Stream.DeadLetterTopic)

	prod, err := newProducer(stack.Brokers(), uint32(sensorSchema.ID()), cfg.Rate, cfg.BadEvery)
	if err != nil {
		return err
	}
	defer prod.close()
	view, err := newView(stack.Brokers(), reg, svc.Metrics(), sc.Stream.OutputFor(SensorTopic), sc.Stream.DeadLetterTopic, cfg.Out)
	if err != nil {
		return err
	}
	defer view.close()

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return svc.Run(gctx) })
	g.Go(func() error { return prod.run(gctx) })
	g.Go(func() error { return view.run(gctx) })
	err = g.Wait()
	view.summary(prod)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// ensureModel trains the sensor model on first use and keeps it in Dir, so
// later runs start at once and score with the same version.
func ensureModel(ctx context.Context, cfg Config) (string, error) {
	path := filepath.Join(cfg.Dir, "models", modelName+".onnx")
	if _, err := os.Stat(path); err == nil {
		fmt.Fprintf(cfg.Out, "model     %s (trained on an earlier run)\n", path)
		return path, nil
	}
	start := time.Now()
	spec := sample.SensorSpec(modelName, "1")
	onnxBytes, err := sample.SensorModel(ctx, spec, train.DefaultConfig(), 50_000)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, onnxBytes, 0o644); err != nil {
		return "", err
	}
	fmt.Fprintf(cfg.Out, "model     %s: 100 gradient-boosted trees of depth 6 on %d features, trained in %v\n",
		path, len(spec.Inputs[0].Fields), time.Since(start).Round(time.Millisecond))
	return path, nil
}

// createTopic creates the input topic unless an earlier run did.
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
