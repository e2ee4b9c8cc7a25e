// Package trainer assembles the trainer process from its configuration:
// the Kafka and registry clients, the model catalog, the training jobs and
// their scheduler (internal/jobs), and the HTTP API. cmd/trainer is a thin
// main around it, as cmd/scorer is around internal/scorer.
package trainer

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/streamscore/streamscore/internal/api"
	"github.com/streamscore/streamscore/internal/avroguard"
	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/connect"
	"github.com/streamscore/streamscore/internal/flagconf"
	"github.com/streamscore/streamscore/internal/httpserve"
	"github.com/streamscore/streamscore/internal/jobs"
)

// EnvPrefix starts every environment variable the trainer reads.
const EnvPrefix = "STREAMSCORE_TRAINER_"

// ErrBadConfig marks configuration errors; cmd/trainer exits 2 on them.
var ErrBadConfig = flagconf.ErrBadConfig

// Config is everything the trainer is told: connection settings and
// service options as flags, environment or YAML, and the jobs in YAML.
type Config struct {
	Kafka    connect.Kafka    `yaml:"kafka"`
	Registry connect.Registry `yaml:"registry"`
	// Avro bounds what one history record may cost to decode: deeper or
	// costlier ones are skipped and counted as over_budget.
	Avro avroguard.Limits `yaml:"avro"`
	// ModelsTopic is the catalog's compacted topic.
	ModelsTopic string `yaml:"models_topic"`
	// Jobs are the models retrained from topics.
	Jobs []jobs.Job `yaml:"jobs"`
	// PollInterval is how often record-count triggers look at the topics.
	PollInterval time.Duration `yaml:"poll_interval"`

	HTTPAddr string `yaml:"http_addr"`
	// HTTP bounds slow and oversized requests to the API.
	HTTP httpserve.Config `yaml:"http"`
	// APIToken, when set, is the bearer token every API request must carry.
	APIToken string `yaml:"api_token"`
	// MaxBodyBytes bounds an API request body.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxDataBytes and MaxModelDataBytes bound the training rows the API
	// holds, for all models and for one (api.Config).
	MaxDataBytes      int64 `yaml:"max_data_bytes"`
	MaxModelDataBytes int64 `yaml:"max_model_data_bytes"`
	// ORTLibrary is the ONNX Runtime shared library (see model.LibraryPath).
	ORTLibrary string `yaml:"ort_library"`
	// GCPercent is the Go garbage collector's target (GOGC), applied by
	// cmd/trainer unless GOGC is set. A training's heap is mostly its rows'
	// columns, which hold no pointers, so a collection costs little however
	// large they are; Go's default of 100 would let the heap reach twice
	// them before collecting. At the default, 25, a 10M-record history of
	// 10 features peaks at about 1 GB instead of 1.6.
	GCPercent int `yaml:"gc_percent"`
	// MemoryLimitMB is Go's soft memory limit (GOMEMLIMIT), applied by
	// cmd/trainer unless GOMEMLIMIT is set; 0 means none. A history read
	// into columns is mostly long-lived, and Go's default GC target lets
	// the heap reach about twice it before collecting: near the limit the
	// collector runs as often as it must instead. Set it below the
	// container's limit.
	MemoryLimitMB int    `yaml:"memory_limit_mb"`
	LogLevel      string `yaml:"log_level"`
	LogFormat     string `yaml:"log_format"`
}

// DefaultGCPercent is the trainer's Go GC target (see Config.GCPercent).
const DefaultGCPercent = 25

// DefaultConfig is the configuration before any file, variable or flag.
func DefaultConfig() Config {
	return Config{
		Kafka:        connect.Kafka{ClientID: "streamscore-trainer"},
		ModelsTopic:  catalog.DefaultTopic,
		PollInterval: jobs.DefaultPollInterval,
		HTTPAddr:     ":8081",
		HTTP:         httpserve.DefaultConfig(),
		MaxBodyBytes: 32 << 20,
		LogLevel:     "info", LogFormat: "text",

		// The API's data budgets (api.Config).
		MaxDataBytes:      api.DefaultMaxDataBytes,
		MaxModelDataBytes: api.DefaultMaxModelDataBytes,
		GCPercent:         DefaultGCPercent,
	}
}

// ParseConfig reads the configuration and returns the arguments left after
// the flags (a subcommand's own), printing usage text to standard error.
// flag.ErrHelp is returned as is; every other error wraps ErrBadConfig and
// names the setting.
func ParseConfig(name string, args []string, getenv func(string) string) (Config, []string, error) {
	return ParseConfigUsage(name, args, getenv, os.Stderr)
}

// ParseConfigUsage is ParseConfig printing usage text to usage.
func ParseConfigUsage(name string, args []string, getenv func(string) string, usage io.Writer) (Config, []string, error) {
	cfg := DefaultConfig()
	rest, err := flagconf.Parse(name, EnvPrefix, args, getenv, usage, &cfg, func(fs *flag.FlagSet) {
		cfg.Kafka.BindFlags(fs)
		cfg.Registry.BindFlags(fs)
		cfg.Avro.BindFlags(fs)
		fs.StringVar(&cfg.ModelsTopic, "models-topic", cfg.ModelsTopic, "compacted topic of the model catalog")
		fs.DurationVar(&cfg.PollInterval, "poll-interval", cfg.PollInterval, "how often record-count triggers count new records")
		fs.StringVar(&cfg.HTTPAddr, "http-addr", cfg.HTTPAddr, "address of the REST API, /healthz, /readyz and /metrics")
		cfg.HTTP.BindFlags(fs)
		fs.Var((*connect.SecretValue)(&cfg.APIToken), "api-token", "bearer token the API requires (prefer the environment variable)")
		fs.Int64Var(&cfg.MaxBodyBytes, "max-body-bytes", cfg.MaxBodyBytes, "largest API request body")
		fs.Int64Var(&cfg.MaxDataBytes, "max-data-bytes", cfg.MaxDataBytes, "most bytes of training rows the API holds for all models")
		fs.Int64Var(&cfg.MaxModelDataBytes, "max-model-data-bytes", cfg.MaxModelDataBytes, "most bytes of training rows the API holds for one model")
		fs.StringVar(&cfg.ORTLibrary, "ort-library", cfg.ORTLibrary, "ONNX Runtime shared library (env ONNXRUNTIME_SHARED_LIBRARY_PATH)")
		fs.IntVar(&cfg.GCPercent, "gc-percent", cfg.GCPercent, "Go GC target percentage, unless GOGC is set: the rows' columns hold no pointers, so collecting often is cheap")
		fs.IntVar(&cfg.MemoryLimitMB, "memory-limit-mb", cfg.MemoryLimitMB, "Go soft memory limit in MiB, unless GOMEMLIMIT is set (0: none); set it below the container's limit")
		fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error")
		fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "text or json")
	})
	if err != nil {
		return Config{}, nil, err
	}
	return cfg, rest, cfg.Validate()
}

// Validate checks every part and reports all problems at once.
func (c Config) Validate() error {
	var errs []error
	if err := c.Kafka.Validate(); err != nil {
		errs = append(errs, err)
	}
	// Only jobs read Avro topics; the API and the catalog commands need
	// no schema registry.
	if len(c.Jobs) > 0 || c.Registry.URL != "" {
		if err := c.Registry.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.HTTP.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Avro.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.ModelsTopic == "" {
		errs = append(errs, errors.New("models-topic: is empty"))
	}
	if c.PollInterval <= 0 {
		errs = append(errs, fmt.Errorf("poll-interval: %s is not positive", c.PollInterval))
	}
	if c.MaxBodyBytes < 1 {
		errs = append(errs, fmt.Errorf("max-body-bytes: %d is not positive", c.MaxBodyBytes))
	}
	if c.MaxDataBytes < 1 {
		errs = append(errs, fmt.Errorf("max-data-bytes: %d is not positive", c.MaxDataBytes))
	}
	if c.MaxModelDataBytes < 1 {
		errs = append(errs, fmt.Errorf("max-model-data-bytes: %d is not positive", c.MaxModelDataBytes))
	}
	if c.GCPercent < 0 {
		errs = append(errs, fmt.Errorf("gc-percent: %d is negative", c.GCPercent))
	}
	if c.MemoryLimitMB < 0 {
		errs = append(errs, fmt.Errorf("memory-limit-mb: %d is negative", c.MemoryLimitMB))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log-format: %q is neither text nor json", c.LogFormat))
	}
	for _, j := range c.Jobs {
		if err := j.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrBadConfig, errors.Join(errs...))
	}
	return nil
}
