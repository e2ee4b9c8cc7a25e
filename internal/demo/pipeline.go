package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/scorer"
)

// pipeline is one scored stream of the demo: its topic and the scorer of
// it.
type pipeline struct {
	topic string
	// serve tells the scorer which model to serve, and says so.
	serve func(ctx context.Context, cfg Config, sc *scorer.Config) (string, error)

	service *scorer.Service
	output  string
}

// sensorPipeline serves the catalog's sensor model: its champion, with its
// challenger shadow-scored beside it, the scored rows profiled in
// monitoring windows and joined to the labels that come late.
func sensorPipeline() *pipeline {
	return &pipeline{topic: sensorTopic, serve: func(_ context.Context, cfg Config, sc *scorer.Config) (string, error) {
		sc.Model.Name = sensorModel
		sc.Model.ShadowAlias = jobs.AliasChallenger
		sc.Monitor.Window = cfg.MonitorWindow
		sc.Monitor.LabelsTopic = "{topic}.labels"
		return fmt.Sprintf("%s's %s, shadowing its %s to %s; monitoring windows of %v to %s, labels from %s",
			sensorModel, jobs.AliasChampion, jobs.AliasChallenger, shadowTopic, cfg.MonitorWindow, monitorTopic, labelsTopic), nil
	}}
}

// textPipeline serves a spam model from a file, trained on first use.
func textPipeline() *pipeline {
	return &pipeline{topic: messageTopic, serve: func(ctx context.Context, cfg Config, sc *scorer.Config) (string, error) {
		path, about, err := ensureTextModel(ctx, cfg)
		if err != nil {
			return "", err
		}
		sc.Model.Path = path
		return about, nil
	}}
}

// start builds the pipeline's scorer.
func (p *pipeline) start(ctx context.Context, cfg Config, stack *embedded.Stack, httpAddr string) error {
	sc := scorer.DefaultConfig()
	sc.Kafka.Brokers = stack.Brokers()
	sc.Registry.URL = stack.RegistryURL()
	sc.Stream.Topics = []string{p.topic}
	sc.Stream.Group = "streamscore-" + p.topic
	sc.HTTPAddr = httpAddr
	serving, err := p.serve(ctx, cfg, &sc)
	if err != nil {
		return err
	}
	if p.service, err = scorer.New(sc, cfg.Logger); err != nil {
		return err
	}
	p.output = sc.Stream.OutputFor(p.topic)
	fmt.Fprintf(cfg.Out, "scorer    %s -> %s (dead letters -> %s), http://%s/metrics\n          serving %s\n",
		p.topic, p.output, sc.Stream.DeadLetterTopic, p.service.Addr(), serving)
	return nil
}

// ensureTextModel trains the spam model on first use and keeps it in Dir,
// so later runs start at once and score with the same version. It returns
// the model's path and what to say of it.
func ensureTextModel(ctx context.Context, cfg Config) (path, about string, err error) {
	path = filepath.Join(cfg.Dir, "models", "spam.onnx")
	if _, err := os.Stat(path); err == nil {
		return path, path + " (trained on an earlier run)", nil
	}
	start := time.Now()
	onnxBytes, err := sample.TextModel(ctx, sample.TextSpec("spam", "1"), 20_000)
	if err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(path, onnxBytes, 0o644); err != nil {
		return "", "", err
	}
	return path, fmt.Sprintf("%s: TF-IDF over words and logistic regression, tokenizing raw text inside the graph; trained in %v",
		path, time.Since(start).Round(time.Millisecond)), nil
}

// createTopic creates a topic unless an earlier run did.
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
