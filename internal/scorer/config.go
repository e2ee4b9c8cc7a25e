// Package scorer assembles the scorer service from its configuration: the
// Kafka and registry clients, the model, the scoring loop and the HTTP
// endpoints. cmd/scorer is a thin main around it; the demo and the
// benchmark run it in-process.
package scorer

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/streamscore/streamscore/internal/avroguard"
	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/connect"
	"github.com/streamscore/streamscore/internal/flagconf"
	"github.com/streamscore/streamscore/internal/httpserve"
	"github.com/streamscore/streamscore/internal/stream"
)

// Config is everything the scorer is told. It is read, in rising order of
// precedence, from defaults, an optional YAML file (-config), environment
// variables (STREAMSCORE_ plus the flag name in upper snake case) and flags.
type Config struct {
	Kafka    connect.Kafka    `yaml:"kafka"`
	Registry connect.Registry `yaml:"registry"`
	Stream   stream.Config    `yaml:"stream"`
	Model    ModelConfig      `yaml:"model"`
	// Avro bounds what one record may cost to decode: deeper or costlier
	// ones are dead-lettered over_budget (see internal/avroguard).
	Avro avroguard.Limits `yaml:"avro"`
	// Monitor is drift monitoring and the late-label join (monitor.go).
	Monitor MonitorConfig `yaml:"monitor"`

	// CreateTopics creates missing output and dead-letter topics at start.
	CreateTopics bool `yaml:"create_topics"`

	// GCPercent is the Go garbage collector's target (GOGC), applied by
	// cmd/scorer unless the GOGC environment variable is set. The scorer's
	// live heap is small and its allocation rate high, so Go's default of
	// 100 collects so often that it costs about 15% of the CPU; 400 gained
	// another 5% of throughput but let the heap grow to five times a live
	// heap of fetch and decompression buffers, 260-290 MB of RSS on a
	// compressed hostile stream (internal/hostile) against 170 MB at 200.
	GCPercent int `yaml:"gc_percent"`
	// MemoryLimitMB is Go's soft memory limit (GOMEMLIMIT), applied by
	// cmd/scorer unless GOMEMLIMIT is set; 0 means none. Near the limit the
	// collector runs as often as it must, whatever GCPercent says: set it
	// below the container's limit.
	MemoryLimitMB int `yaml:"memory_limit_mb"`

	HTTPAddr string `yaml:"http_addr"`
	// HTTP bounds slow and oversized requests to the HTTP endpoints.
	HTTP httpserve.Config `yaml:"http"`
	// Pprof serves Go's profiler under /debug/pprof on the HTTP address.
	Pprof     bool   `yaml:"pprof"`
	LogLevel  string `yaml:"log_level"`
	LogFormat string `yaml:"log_format"`
}

// ModelConfig says which model to serve and how to run it: a file (Path),
// or the version an alias points at in the model catalog (Name), followed
// while the scorer runs.
type ModelConfig struct {
	// Path is the ONNX file.
	Path string `yaml:"path"`
	// SpecPath is a JSON feature mapping for models that carry none.
	SpecPath string `yaml:"spec_path"`
	// Version overrides the version in the model's spec.
	Version string `yaml:"version"`
	// ProfilePath is a model file's reference profile (a drift.Profile in
	// JSON), which drift is measured against; catalog versions carry
	// their own.
	ProfilePath string `yaml:"profile_path"`

	// Name serves the catalog model of this name instead of a file.
	Name string `yaml:"name"`
	// Alias is the alias of Name to serve; every move of it swaps the
	// model while the scorer runs.
	Alias string `yaml:"alias"`
	// Topic is the catalog's Kafka topic.
	Topic string `yaml:"models_topic"`
	// ShadowAlias, if set, also scores every batch with the version this
	// alias of Name points at, writing its results to the shadow topics
	// (stream.Config.ShadowTopic, "{topic}.shadow" unless set).
	ShadowAlias string `yaml:"shadow_alias"`

	// Library is the ONNX Runtime shared library (see model.LibraryPath).
	Library string `yaml:"ort_library"`
	// Threads is ONNX Runtime's intra-op thread count per session.
	Threads int `yaml:"ort_threads"`
}

// ErrBadConfig marks configuration errors; cmd/scorer exits 2 on them.
var ErrBadConfig = flagconf.ErrBadConfig

// DefaultConfig is the configuration before any file, variable or flag.
func DefaultConfig() Config {
	return Config{
		Kafka:        connect.Kafka{ClientID: "streamscore-scorer"},
		Stream:       stream.Config{Group: "streamscore-scorer", DeadLetterTopic: "streamscore.dlq"}.WithDefaults(),
		Model:        ModelConfig{Threads: 1, Alias: DefaultAlias, Topic: catalog.DefaultTopic},
		Monitor:      defaultMonitorConfig(),
		CreateTopics: true,
		GCPercent:    400,
		HTTPAddr:     ":8080", HTTP: httpserve.DefaultConfig(), LogLevel: "info", LogFormat: "text",
	}
}

// DefaultAlias is the catalog alias a scorer serves unless told otherwise.
const DefaultAlias = "champion"

// EnvPrefix starts every environment variable the scorer reads.
const EnvPrefix = "STREAMSCORE_"

// ParseConfig reads the configuration from a YAML file, the environment and
// the command line, printing usage text to standard error. flag.ErrHelp is
// returned as is; every other error wraps ErrBadConfig and names the
// setting.
func ParseConfig(args []string, getenv func(string) string) (Config, error) {
	return ParseConfigUsage(args, getenv, os.Stderr)
}

// ParseConfigUsage is ParseConfig printing usage text to usage.
func ParseConfigUsage(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	cfg := DefaultConfig()
	rest, err := flagconf.Parse("scorer", EnvPrefix, args, getenv, usage, &cfg, func(fs *flag.FlagSet) { bindFlags(fs, &cfg) })
	if err != nil {
		return Config{}, err
	}
	if len(rest) > 0 {
		return Config{}, fmt.Errorf("%w: unexpected arguments %q", ErrBadConfig, rest)
	}
	return cfg, cfg.Validate()
}

// Validate checks every part and reports all problems at once.
func (c Config) Validate() error {
	var errs []error
	if err := c.Kafka.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Registry.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.HTTP.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Avro.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.streamConfig().Validate(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.Model.validate(c.Stream.ShadowTopic)...)
	errs = append(errs, c.Monitor.validate(c.streamConfig().WithDefaults())...)
	if c.Model.Threads < 1 {
		errs = append(errs, fmt.Errorf("ort-threads: %d is not a positive count", c.Model.Threads))
	}
	if c.MemoryLimitMB < 0 {
		errs = append(errs, fmt.Errorf("memory-limit-mb: %d is negative", c.MemoryLimitMB))
	}
	if c.GCPercent < 0 {
		errs = append(errs, fmt.Errorf("gc-percent: %d is negative", c.GCPercent))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log-format: %q is neither text nor json", c.LogFormat))
	}
	if _, err := flagconf.ParseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrBadConfig, errors.Join(errs...))
	}
	return nil
}

// validate checks which model to serve; shadowTopic is the one set, if
// any.
func (m ModelConfig) validate(shadowTopic string) []error {
	var errs []error
	switch {
	case m.Path == "" && m.Name == "":
		errs = append(errs, errors.New("model: the path of an ONNX model (-model) or a catalog model name (-model-name) is required"))
	case m.Path != "" && m.Name != "":
		errs = append(errs, errors.New("model-name: give either -model FILE or -model-name NAME, not both"))
	}
	if m.Name == "" {
		if m.ShadowAlias != "" {
			errs = append(errs, errors.New("shadow-alias: needs -model-name: shadow models come from the catalog"))
		}
		if shadowTopic != "" {
			errs = append(errs, errors.New("shadow-topic: needs -shadow-alias"))
		}
		return errs
	}
	if m.SpecPath != "" {
		errs = append(errs, errors.New("model-spec: only with -model FILE: catalog versions carry their spec"))
	}
	if m.Version != "" {
		errs = append(errs, errors.New("model-version: only with -model FILE: catalog versions are numbered by the catalog"))
	}
	if m.ProfilePath != "" {
		errs = append(errs, errors.New("model-profile: only with -model FILE: catalog versions carry their reference profile"))
	}
	if err := catalog.ValidName(m.Name); err != nil {
		errs = append(errs, fmt.Errorf("model-name: %w", err))
	}
	if err := catalog.ValidAlias(m.Alias); err != nil {
		errs = append(errs, fmt.Errorf("model-alias: %w", err))
	}
	if m.Topic == "" {
		errs = append(errs, errors.New("models-topic: the catalog topic is required"))
	}
	switch {
	case m.ShadowAlias == "" && shadowTopic != "":
		errs = append(errs, errors.New("shadow-topic: needs -shadow-alias"))
	case m.ShadowAlias == "":
	case m.ShadowAlias == m.Alias:
		errs = append(errs, fmt.Errorf("shadow-alias: %q is also the -model-alias: a model cannot shadow itself", m.ShadowAlias))
	default:
		if err := catalog.ValidAlias(m.ShadowAlias); err != nil {
			errs = append(errs, fmt.Errorf("shadow-alias: %w", err))
		}
	}
	return errs
}

// streamConfig is the loop's configuration, with the default shadow topic
// when shadow scoring is on and none is set.
func (c Config) streamConfig() stream.Config {
	s := c.Stream
	if c.Model.ShadowAlias != "" && s.ShadowTopic == "" {
		s.ShadowTopic = stream.DefaultShadowTopic
	}
	return s
}

// bindFlags defines one flag per setting, writing straight into cfg, with
// the current values (defaults and the file's) as the flag defaults.
func bindFlags(fs *flag.FlagSet, cfg *Config) {
	cfg.Kafka.BindFlags(fs)
	cfg.Registry.BindFlags(fs)

	s := &cfg.Stream
	fs.Var((*connect.ListValue)(&s.Topics), "topics", "input topics, comma separated")
	fs.StringVar(&s.Group, "group", s.Group, "consumer group id")
	fs.StringVar(&s.OutputTopic, "output-topic", s.OutputTopic, "output topic; {topic} stands for the input topic")
	fs.StringVar(&s.DeadLetterTopic, "dlq-topic", s.DeadLetterTopic, "dead-letter topic")
	fs.IntVar(&s.MaxBatch, "batch-max-rows", s.MaxBatch, "most records per model run")
	fs.DurationVar(&s.MaxWait, "batch-max-wait", s.MaxWait, "how long a partial batch waits for more records")
	fs.IntVar(&s.MaxRecordBytes, "max-record-bytes", s.MaxRecordBytes, "largest input value scored; larger ones are dead-lettered")
	fs.IntVar(&s.FetchMaxPartitionBytes, "fetch-max-partition-bytes", s.FetchMaxPartitionBytes, "bytes (compressed) a fetch asks of each partition: bounds the fetched records held per partition")
	fs.IntVar(&s.MaxDecompressedBatchBytes, "max-decompressed-batch-bytes", s.MaxDecompressedBatchBytes, "largest a fetched batch may decompress to; larger ones are skipped and dead-lettered as oversize_batch")
	fs.DurationVar(&s.DrainTimeout, "drain-timeout", s.DrainTimeout, "how long shutdown and rebalances wait for in-flight results")
	fs.BoolVar(&s.ExactlyOnce, "exactly-once", s.ExactlyOnce, "score inside Kafka transactions: results and input offsets commit together")
	fs.StringVar(&s.TransactionalID, "transactional-id", s.TransactionalID, "exactly-once: this scorer's transactional id, unique in the group and stable across its restarts (default: group-hostname)")
	fs.StringVar(&s.ShadowTopic, "shadow-topic", s.ShadowTopic, "with -shadow-alias: the shadow results' topic; {topic} stands for the input topic (default "+stream.DefaultShadowTopic+")")
	fs.DurationVar(&s.CommitInterval, "commit-interval", s.CommitInterval, "how often offsets commit; exactly-once: how long a transaction gathers records (0: 100ms exactly-once, 1s at least once)")
	fs.StringVar(&s.InstanceID, "instance-id", s.InstanceID, "static group membership: this scorer's name, unique in the group and stable across its restarts, so a restart takes its partitions back at once (default: dynamic; exactly-once: the transactional id)")
	fs.DurationVar(&s.SessionTimeout, "session-timeout", s.SessionTimeout, "how long the group waits for a silent scorer before its partitions go to the others (6s..30m)")

	fs.StringVar(&cfg.Model.Path, "model", cfg.Model.Path, "ONNX model file")
	fs.StringVar(&cfg.Model.SpecPath, "model-spec", cfg.Model.SpecPath, "JSON feature mapping, for models without streamscore.spec metadata")
	fs.StringVar(&cfg.Model.Version, "model-version", cfg.Model.Version, "model version to report (default: the spec's, else a hash of the file)")
	fs.StringVar(&cfg.Model.ProfilePath, "model-profile", cfg.Model.ProfilePath, "with -model FILE: its reference profile (JSON) for drift monitoring (default: none: windows carry counts, null rates and means)")
	fs.StringVar(&cfg.Model.Name, "model-name", cfg.Model.Name, "serve this model from the catalog instead of -model FILE, following -model-alias")
	fs.StringVar(&cfg.Model.Alias, "model-alias", cfg.Model.Alias, "with -model-name: the catalog alias to serve; each move of it swaps the model while running")
	fs.StringVar(&cfg.Model.Topic, "models-topic", cfg.Model.Topic, "with -model-name: the model catalog's topic")
	fs.StringVar(&cfg.Model.ShadowAlias, "shadow-alias", cfg.Model.ShadowAlias, "with -model-name: also score with this alias's version (e.g. challenger), results to -shadow-topic (default: off)")
	fs.StringVar(&cfg.Model.Library, "ort-library", cfg.Model.Library, "ONNX Runtime shared library (env ONNXRUNTIME_SHARED_LIBRARY_PATH)")
	fs.IntVar(&cfg.Model.Threads, "ort-threads", cfg.Model.Threads, "ONNX Runtime intra-op threads")

	cfg.Avro.BindFlags(fs)
	cfg.Monitor.bindFlags(fs)

	fs.BoolVar(&cfg.CreateTopics, "create-topics", cfg.CreateTopics, "create missing output and dead-letter topics at start")
	fs.StringVar(&cfg.HTTPAddr, "http-addr", cfg.HTTPAddr, "address of /healthz, /readyz and /metrics")
	cfg.HTTP.BindFlags(fs)
	fs.IntVar(&cfg.GCPercent, "gc-percent", cfg.GCPercent, "Go GC target percentage, unless GOGC is set")
	fs.IntVar(&cfg.MemoryLimitMB, "memory-limit-mb", cfg.MemoryLimitMB, "Go soft memory limit in MiB, unless GOMEMLIMIT is set (0: none); set it below the container's limit")
	fs.BoolVar(&cfg.Pprof, "pprof", cfg.Pprof, "serve Go's profiler under /debug/pprof")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error")
	fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "text or json")
}
