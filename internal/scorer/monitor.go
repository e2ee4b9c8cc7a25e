package scorer

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/drift"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/monitor"
	"github.com/streamscore/streamscore/internal/stream"
)

// MonitorConfig turns on what the scorer tells of its models beside the
// scores: drift windows, and, with a labels topic, online metrics.
type MonitorConfig struct {
	// Enabled profiles every scored row in windows, written to Topic and
	// as gauges. On by default; its cost is measured by `make bench`.
	Enabled bool `yaml:"enabled"`
	// Topic names each input's monitor topic; "{topic}" stands for the
	// input topic.
	Topic string `yaml:"topic"`
	// Window is the length of a monitoring window.
	Window time.Duration `yaml:"window"`

	// LabelsTopic names each input's labels topic ("{topic}" stands for
	// the input topic); empty turns the late-label join off.
	LabelsTopic string `yaml:"labels_topic"`
	// LabelKeyField is the id field labels and scored records share;
	// empty joins on the record key.
	LabelKeyField string `yaml:"label_key_field"`
	// LabelField is the labels record's field holding the truth.
	LabelField string `yaml:"label_field"`
	// JoinBudgetMB bounds what the join holds: predictions waiting for a
	// label and labels waiting for a prediction.
	JoinBudgetMB int `yaml:"join_budget_mb"`
	// LabelWait is how long a label waits for its prediction.
	LabelWait time.Duration `yaml:"label_wait"`
}

func defaultMonitorConfig() MonitorConfig {
	return MonitorConfig{
		Enabled: true, Topic: monitor.DefaultTopic, Window: stream.DefaultMonitorWindow,
		LabelField: monitor.DefaultLabelField, JoinBudgetMB: monitor.DefaultJoinBudget >> 20, LabelWait: monitor.DefaultLabelWait,
	}
}

func (m *MonitorConfig) bindFlags(fs *flag.FlagSet) {
	fs.BoolVar(&m.Enabled, "monitor", m.Enabled, "profile scored rows in windows: drift against each version's reference, to -monitor-topic and /metrics")
	fs.StringVar(&m.Topic, "monitor-topic", m.Topic, "monitoring records' topic; {topic} stands for the input topic")
	fs.DurationVar(&m.Window, "monitor-window", m.Window, "length of a monitoring window (tumbling, aligned to the clock)")
	fs.StringVar(&m.LabelsTopic, "labels-topic", m.LabelsTopic, "true labels arriving late, joined to the predictions for online metrics; {topic} stands for the input topic (default: off)")
	fs.StringVar(&m.LabelKeyField, "label-key-field", m.LabelKeyField, "field labels and scored records share to join on (default: the record key)")
	fs.StringVar(&m.LabelField, "label-field", m.LabelField, "labels record field holding the true class or value")
	fs.IntVar(&m.JoinBudgetMB, "label-join-budget-mb", m.JoinBudgetMB, "MiB the label join may hold: predictions awaiting labels, labels awaiting predictions")
	fs.DurationVar(&m.LabelWait, "label-wait", m.LabelWait, "how long a label that arrives before its prediction waits for it")
}

// validate checks the monitoring settings against the stream's topics.
func (m MonitorConfig) validate(s stream.Config) []error {
	var errs []error
	if !m.Enabled {
		if m.LabelsTopic != "" {
			errs = append(errs, errors.New("labels-topic: needs -monitor: online windows are monitoring records"))
		}
		return errs
	}
	if m.Window < time.Second {
		errs = append(errs, fmt.Errorf("monitor-window: %s is under a second", m.Window))
	}
	if m.Topic == "" {
		errs = append(errs, errors.New("monitor-topic: is required with -monitor"))
	}
	if len(s.Topics) > 1 && !strings.Contains(m.Topic, "{topic}") {
		errs = append(errs, fmt.Errorf("monitor-topic: %q must contain {topic} with several input topics", m.Topic))
	}
	if m.LabelsTopic == "" {
		return errs
	}
	if len(s.Topics) > 1 && !strings.Contains(m.LabelsTopic, "{topic}") {
		errs = append(errs, fmt.Errorf("labels-topic: %q must contain {topic} with several input topics: each input's labels are its own", m.LabelsTopic))
	}
	if m.JoinBudgetMB < 1 {
		errs = append(errs, fmt.Errorf("label-join-budget-mb: %d is not a positive size", m.JoinBudgetMB))
	}
	if m.LabelWait < 0 {
		errs = append(errs, fmt.Errorf("label-wait: %s is negative", m.LabelWait))
	}
	for _, in := range s.Topics {
		labels, mon := monitor.TopicFor(m.LabelsTopic, in), monitor.TopicFor(m.Topic, in)
		for _, clash := range []struct{ what, topic string }{
			{"an input topic", in}, {"an output topic", s.OutputFor(in)}, {"the dead-letter topic", s.DeadLetterTopic},
			{"a monitor topic", mon}, {"a shadow topic", s.ShadowFor(in)},
		} {
			if clash.topic != "" && labels == clash.topic {
				errs = append(errs, fmt.Errorf("labels-topic: %q is also %s", labels, clash.what))
			}
		}
	}
	return errs
}

// monitorTopics are the monitor topics the scorer writes, to be created.
func (m MonitorConfig) monitorTopics(inputs []string) []string {
	if !m.Enabled {
		return nil
	}
	topics := make([]string, 0, len(inputs))
	for _, in := range inputs {
		topics = append(topics, monitor.TopicFor(m.Topic, in))
	}
	return topics
}

// buildMonitoring makes the window writer and what the scoring stages need
// to profile rows; nil, nil when monitoring is off.
func (s *Service) buildMonitoring(kafkaOpts []kgo.Opt, registry *srclient.SchemaRegistryClient) (*stream.Monitoring, error) {
	m := s.cfg.Monitor
	if !m.Enabled {
		return nil, nil
	}
	client, err := kgo.NewClient(append([]kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MaxBufferedRecords(10_000)}, kafkaOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("monitor producer: %w", err)
	}
	w, err := monitor.NewWriter(monitor.WriterDeps{
		Topic: m.Topic, Client: client, Registry: registry, Metrics: s.registry, Logger: s.logger,
	})
	if err != nil {
		client.Close()
		return nil, err
	}
	s.monitorWriter = w
	if path := s.cfg.Model.ProfilePath; path != "" {
		if s.fileProfile, err = readProfile(path); err != nil {
			w.Close(0)
			return nil, fmt.Errorf("%w: model-profile: %w", ErrBadConfig, err)
		}
	}
	return &stream.Monitoring{Writer: w, Every: m.Window, Reference: s.reference}, nil
}

// reference is a version's reference profile: a catalog version's, or a
// model file's -model-profile; nil when there is none.
func (s *Service) reference(spec model.Spec) *drift.Profile {
	if s.catalog == nil {
		return s.fileProfile
	}
	n, err := strconv.Atoi(spec.Version)
	if err != nil {
		return nil
	}
	v, err := s.catalog.Get(spec.Name, n)
	if err != nil {
		return nil
	}
	if v.Profile == nil {
		s.logger.Warn("version has no reference profile: its monitoring windows carry counts, null rates and means, not drift", "model", spec.Name, "version", spec.Version)
	}
	return v.Profile
}

// buildLabelJoin makes the late-label join, when a labels topic is set.
func (s *Service) buildLabelJoin(kafkaOpts []kgo.Opt, decoder monitor.Decoder, spec model.Spec) error {
	m, streamCfg := s.cfg.Monitor, s.cfg.streamConfig()
	if !m.Enabled || m.LabelsTopic == "" {
		return nil
	}
	shadowFor := func(string) string { return "" }
	if streamCfg.ShadowTopic != "" {
		shadowFor = streamCfg.ShadowFor
	}
	join, err := monitor.NewLabelJoin(monitor.LabelsConfig{
		Topic: m.LabelsTopic, MonitorTopic: m.Topic, Inputs: streamCfg.Topics, OutputFor: streamCfg.WithDefaults().OutputFor, ShadowFor: shadowFor,
		KeyField: m.LabelKeyField, LabelField: m.LabelField,
		Window: m.Window, Budget: int64(m.JoinBudgetMB) << 20, LabelWait: m.LabelWait,
		Model: spec.Name, Task: spec.Task, Labels: spec.Labels,
	}, kafkaOpts, decoder, s.monitorWriter, s.logger)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	s.labelJoin = join
	return nil
}

// catalogVersions is what reference lookups need of the catalog.
type catalogVersions interface {
	Get(name string, version int) (catalog.Version, error)
}

// maxProfileFile bounds a -model-profile file: a catalog version's profile
// must fit in its metadata record, well under this.
const maxProfileFile = 4 << 20

// readProfile reads a reference profile from a JSON file.
func readProfile(path string) (*drift.Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxProfileFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxProfileFile {
		return nil, fmt.Errorf("%s is over %d bytes", path, maxProfileFile)
	}
	var p drift.Profile
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &p, nil
}
