package trainer_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/httpserve"
	"github.com/streamscore/streamscore/internal/securetest"
	"github.com/streamscore/streamscore/internal/trainer"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestParseConfigReadsTheExampleFile(t *testing.T) {
	cfg, rest, err := trainer.ParseConfig("trainer", []string{"-config", "testdata/trainer.yaml", "-http-addr", ":9000", "list"},
		env(map[string]string{"STREAMSCORE_TRAINER_BROKERS": "a:1,b:2"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Jobs) != 2 || cfg.Jobs[0].Schedule != 24*time.Hour || cfg.Jobs[0].EveryRecords != 500000 {
		t.Errorf("jobs %+v", cfg.Jobs)
	}
	if string(cfg.Jobs[0].Options.Params) != `{"learning_rate":0.1,"max_iter":100,"max_leaf_nodes":31}` {
		t.Errorf("params %s", cfg.Jobs[0].Options.Params)
	}
	// Flags over the environment over the file.
	if cfg.HTTPAddr != ":9000" || strings.Join(cfg.Kafka.Brokers, ",") != "a:1,b:2" {
		t.Errorf("http %q brokers %v", cfg.HTTPAddr, cfg.Kafka.Brokers)
	}
	if len(rest) != 1 || rest[0] != "list" {
		t.Errorf("arguments left %q, want [list]", rest)
	}
}

// TestParseConfigReadsTheGCSettings reads the Go memory limit and GC
// target from each source, flags over the environment over the file; by
// default no limit and DefaultGCPercent.
func TestParseConfigReadsTheGCSettings(t *testing.T) {
	file := filepath.Join(t.TempDir(), "trainer.yaml")
	if err := os.WriteFile(file, []byte("kafka: {brokers: [\"k:9092\"]}\nmemory_limit_mb: 1000\ngc_percent: 50\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name             string
		args             []string
		env              map[string]string
		limitMB, percent int
	}{
		{"default", []string{"-brokers", "k:9092"}, nil, 0, trainer.DefaultGCPercent},
		{"file", []string{"-config", file}, nil, 1000, 50},
		{"environment over the file", []string{"-config", file},
			map[string]string{"STREAMSCORE_TRAINER_MEMORY_LIMIT_MB": "1100", "STREAMSCORE_TRAINER_GC_PERCENT": "60"}, 1100, 60},
		{"flag over the environment", []string{"-config", file, "-memory-limit-mb", "1280", "-gc-percent", "100"},
			map[string]string{"STREAMSCORE_TRAINER_MEMORY_LIMIT_MB": "1100", "STREAMSCORE_TRAINER_GC_PERCENT": "60"}, 1280, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := trainer.ParseConfig("trainer", tt.args, env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MemoryLimitMB != tt.limitMB || cfg.GCPercent != tt.percent {
				t.Errorf("memory limit %d MiB, GC percent %d; want %d, %d", cfg.MemoryLimitMB, cfg.GCPercent, tt.limitMB, tt.percent)
			}
		})
	}
	for _, flag := range []string{"-memory-limit-mb", "-gc-percent"} {
		if _, _, err := trainer.ParseConfig("trainer", []string{"-brokers", "k:9092", flag, "-1"}, env(nil)); err == nil || !strings.Contains(err.Error(), flag[1:]) {
			t.Errorf("%s -1: %v, want an error naming it", flag, err)
		}
	}
}

func TestParseConfigRefusesBadSettings(t *testing.T) {
	dir := t.TempDir()
	badJob := filepath.Join(dir, "bad-job.yaml")
	if err := os.WriteFile(badJob, []byte("jobs:\n  - name: x\n    source: {topic: t}\n    options: {family: gbdt, label: y}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unknown := filepath.Join(dir, "unknown.yaml")
	if err := os.WriteFile(unknown, []byte("http_adr: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown flag", []string{"-nope"}, nil, "flag provided but not defined"},
		{"bad duration", []string{"-poll-interval", "soon"}, nil, "poll-interval"},
		{"non-positive poll interval", []string{"-poll-interval", "0s"}, nil, "poll-interval"},
		{"bad log format", []string{"-log-format", "xml"}, nil, "log-format"},
		{"negative memory limit", []string{"-memory-limit-mb", "-1"}, nil, "memory-limit-mb: -1 is negative"},
		{"bad environment value", nil, map[string]string{"STREAMSCORE_TRAINER_MAX_BODY_BYTES": "lots"}, "STREAMSCORE_TRAINER_MAX_BODY_BYTES"},
		{"missing file", []string{"-config", filepath.Join(dir, "none.yaml")}, nil, "config file"},
		{"unknown key in the file", []string{"-config", unknown}, nil, "http_adr"},
		{"a job without features", []string{"-config", badJob}, nil, "features: at least one"},
		{"broker with a scheme and credentials", []string{"-brokers", "SASL_SSL://user:pw@k:9092"}, nil, `brokers: "SASL_SSL://xxxxx@k:9092" is not host:port`},
		{"no HTTP read timeout", []string{"-http-read-timeout", "0s"}, nil, "http-read-timeout: 0s is not positive"},
		{"negative HTTP idle timeout", nil, map[string]string{"STREAMSCORE_TRAINER_HTTP_IDLE_TIMEOUT": "-1s"}, "http-idle-timeout: -1s is not positive"},
		{"no HTTP header bytes", []string{"-http-max-header-bytes", "-1"}, nil, "http-max-header-bytes: -1 is not positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := trainer.ParseConfig("trainer", tt.args, env(tt.env))
			if !errors.Is(err, trainer.ErrBadConfig) {
				t.Fatalf("error %v, want ErrBadConfig", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %q", err, tt.want)
			}
		})
	}
}

// TestParseConfigRefusesBadRegistryURLs gives the trainer unusable
// registry URLs with a password in them from each source: each is a
// configuration error (exit 2) naming the setting, and none shows the
// password, in the error or in the usage text.
func TestParseConfigRefusesBadRegistryURLs(t *testing.T) {
	const bad = "http://admin:Pa%ssw0rdSECRET@host:8081"
	file := filepath.Join(t.TempDir(), "trainer.yaml")
	if err := os.WriteFile(file, []byte("registry: {url: \""+bad+"\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	brokers := []string{"-brokers", "k:9092"}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad escape from the flag", append(brokers, "-registry-url", bad), nil, `registry-url: "http://xxxxx@host:8081" is not a valid URL`},
		{"bad escape from the environment", brokers, map[string]string{"STREAMSCORE_TRAINER_REGISTRY_URL": bad}, `registry-url: "http://xxxxx@host:8081" is not a valid URL`},
		{"bad escape from the file", append(brokers, "-config", file), nil, `registry-url: "http://xxxxx@host:8081" is not a valid URL`},
		{"a slash in the password", append(brokers, "-registry-url", "http://admin:12/ssw0rdSECRET@host"), nil, "has an @ outside its user info"},
		{"a token as the user", append(brokers, "-registry-url", "https://ssw0rdSECRET@host"), nil, "the user info needs a user and a password"},
		{"credentials twice", append(brokers, "-registry-url", "http://admin:ssw0rdSECRET@host", "-registry-username", "admin"), nil, "give the credentials in one place"},
		{"no scheme", append(brokers, "-registry-url", "admin:ssw0rdSECRET@host:8081"), nil, "registry-url:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var usage bytes.Buffer
			_, _, err := trainer.ParseConfigUsage("trainer", tt.args, env(tt.env), &usage)
			if !errors.Is(err, trainer.ErrBadConfig) {
				t.Fatalf("error %v, want ErrBadConfig", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %q", err, tt.want)
			}
			securetest.NoSecrets(t, "the error and usage text", err.Error()+usage.String(), "ssw0rd", "%ss", "admin:")
		})
	}
}

// TestUsageHidesSecrets checks that -h does not print the credentials of a
// registry URL read from the file, nor the token from the environment.
func TestUsageHidesSecrets(t *testing.T) {
	file := filepath.Join(t.TempDir(), "trainer.yaml")
	if err := os.WriteFile(file, []byte("registry: {url: \"http://admin:hunter2-url@r:8081\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var usage bytes.Buffer
	_, _, err := trainer.ParseConfigUsage("trainer", []string{"-config", file, "-h"},
		env(map[string]string{"STREAMSCORE_TRAINER_API_TOKEN": "hunter2-token"}), &usage)
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(usage.String(), "http://xxxxx@r:8081") {
		t.Fatalf("no usage text with the redacted URL (err %v): %s", err, usage.String())
	}
	securetest.NoSecrets(t, "usage text", usage.String(), "hunter2", "admin")
}

func TestParseConfigHTTPLimits(t *testing.T) {
	cfg, _, err := trainer.ParseConfig("trainer", []string{"-brokers", "k:9092", "-http-read-timeout", "2m"},
		env(map[string]string{"STREAMSCORE_TRAINER_HTTP_MAX_HEADER_BYTES": "8192"}))
	if err != nil {
		t.Fatal(err)
	}
	want := httpserve.DefaultConfig()
	want.ReadTimeout, want.MaxHeaderBytes = 2*time.Minute, 8192
	if cfg.HTTP != want {
		t.Errorf("HTTP limits %+v, want %+v", cfg.HTTP, want)
	}
}
