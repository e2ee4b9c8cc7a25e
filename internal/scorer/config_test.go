package scorer_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/httpserve"
	"github.com/streamscore/streamscore/internal/scorer"
	"github.com/streamscore/streamscore/internal/securetest"
)

// minimal are the settings without which no configuration is valid.
var minimal = []string{"-brokers", "k:9092", "-registry-url", "http://r:8081", "-topics", "in", "-model", "m.onnx"}

// catalogMinimal is minimal serving a catalog model instead of a file.
var catalogMinimal = []string{"-brokers", "k:9092", "-registry-url", "http://r:8081", "-topics", "in", "-model-name", "m"}

func TestParseConfigRejectsBadSettings(t *testing.T) {
	cases := []struct {
		name        string
		args        []string
		env         map[string]string
		errContains []string
	}{
		{"nothing given", nil, nil, []string{"brokers: at least one", "registry-url: required", "topics: at least one", "model: the path"}},
		{"unknown flag", append(minimal, "-nope"), nil, []string{"flag provided but not defined: -nope"}},
		{"stray argument", append(minimal, "extra"), nil, []string{`unexpected arguments ["extra"]`}},
		{"registry URL without scheme", append(minimal, "-registry-url", "r:8081"), nil, []string{`registry-url: "r:8081" is not an http(s) URL`}},
		{"broker with a scheme and credentials", append(minimal, "-brokers", "SASL_SSL://user:pw@k:9092"), nil, []string{`brokers: "SASL_SSL://xxxxx@k:9092" is not host:port`}},
		{"negative HTTP read timeout", append(minimal, "-http-read-timeout", "-1s"), nil, []string{"http-read-timeout: -1s is not positive"}},
		{"no HTTP write timeout", append(minimal, "-http-write-timeout", "0"), nil, []string{"http-write-timeout: 0s is not positive"}},
		{"no HTTP idle timeout", append(minimal, "-http-idle-timeout", "0"), nil, []string{"http-idle-timeout: 0s is not positive"}},
		{"header timeout over the read timeout", append(minimal, "-http-read-header-timeout", "1m", "-http-read-timeout", "10s"), nil, []string{"http-read-header-timeout: 1m0s is longer than http-read-timeout"}},
		{"no HTTP header bytes", append(minimal, "-http-max-header-bytes", "0"), nil, []string{"http-max-header-bytes: 0 is not positive"}},
		{"unknown SASL mechanism", append(minimal, "-sasl-mechanism", "GSSAPI"), nil, []string{`sasl-mechanism: "GSSAPI"`}},
		{"SASL without user", append(minimal, "-sasl-mechanism", "SCRAM-SHA-256"), nil, []string{"sasl-username: required"}},
		{"half a client certificate", append(minimal, "-tls-cert-file", "c.pem"), nil, []string{"give both or neither"}},
		{"output back into input", append(minimal, "-output-topic", "{topic}"), nil, []string{"would write back into its own input"}},
		{"dead letters into input", append(minimal, "-dlq-topic", "in"), nil, []string{`dlq-topic: "in" is also an input topic`}},
		{"batch too large", append(minimal, "-batch-max-rows", "0"), nil, []string{"batch-max-rows: 0 is outside"}},
		{"bad duration", append(minimal, "-batch-max-wait", "soon"), nil, []string{`invalid value "soon" for flag -batch-max-wait`}},
		{"bad log level", append(minimal, "-log-level", "loud"), nil, []string{`log-level: "loud"`}},
		{"bad log format", append(minimal, "-log-format", "xml"), nil, []string{`log-format: "xml"`}},
		{"no threads", append(minimal, "-ort-threads", "0"), nil, []string{"ort-threads: 0"}},
		{"negative memory limit", append(minimal, "-memory-limit-mb", "-1"), nil, []string{"memory-limit-mb: -1 is negative"}},
		{"negative commit interval", append(minimal, "-commit-interval", "-1s"), nil, []string{"commit-interval: -1s is negative"}},
		{"transactions too long", append(minimal, "-exactly-once", "-commit-interval", "30s"), nil, []string{"too close to the 40 s transaction timeout"}},
		{"model file and catalog name", append(minimal, "-model-name", "m"), nil, []string{"model-name: give either -model FILE or -model-name NAME, not both"}},
		{"shadow without the catalog", append(minimal, "-shadow-alias", "challenger"), nil, []string{"shadow-alias: needs -model-name"}},
		{"shadow topic without shadow", append(minimal, "-shadow-topic", "{topic}.sh"), nil, []string{"shadow-topic: needs -shadow-alias"}},
		{"spec with a catalog model", append(catalogMinimal, "-model-spec", "s.json"), nil, []string{"model-spec: only with -model FILE"}},
		{"version with a catalog model", append(catalogMinimal, "-model-version", "3"), nil, []string{"model-version: only with -model FILE"}},
		{"bad model name", []string{"-brokers", "k:9092", "-registry-url", "http://r:8081", "-topics", "in", "-model-name", "a/b"}, nil, []string{`model-name: invalid: name "a/b"`}},
		{"numeric alias", append(catalogMinimal, "-model-alias", "3"), nil, []string{`model-alias: invalid: alias "3" is a number`}},
		{"empty alias", append(catalogMinimal, "-model-alias", ""), nil, []string{`model-alias: invalid: alias ""`}},
		{"no catalog topic", append(catalogMinimal, "-models-topic", ""), nil, []string{"models-topic: the catalog topic is required"}},
		{"shadow of itself", append(catalogMinimal, "-shadow-alias", "champion"), nil, []string{`shadow-alias: "champion" is also the -model-alias`}},
		{"bad shadow alias", append(catalogMinimal, "-shadow-alias", "a b"), nil, []string{`shadow-alias: invalid: alias "a b"`}},
		{"shadow topic on shadow topic", append(catalogMinimal, "-shadow-alias", "challenger", "-shadow-topic", "{topic}.scored"), nil, []string{`shadow-topic: "in.scored", the shadow of "in", is also an output topic`}},
		{"catalog topic from the environment", catalogMinimal, map[string]string{"STREAMSCORE_MODEL_ALIAS": "7"}, []string{`model-alias: invalid: alias "7"`}},
		{"bad environment value", minimal, map[string]string{"STREAMSCORE_BATCH_MAX_ROWS": "many"}, []string{"STREAMSCORE_BATCH_MAX_ROWS"}},
		{"missing config file", append(minimal, "-config", "/no/such/file.yaml"), nil, []string{"config file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := scorer.ParseConfig(c.args, mapEnv(c.env))
			if !errors.Is(err, scorer.ErrBadConfig) {
				t.Fatalf("err = %v, want ErrBadConfig", err)
			}
			for _, want := range c.errContains {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

// TestParseConfigPrecedence checks defaults < file < environment < flags.
func TestParseConfigPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "scorer.yaml")
	yaml := `
kafka:
  brokers: [file:9092]
  sasl: {mechanism: SCRAM-SHA-512, username: file-user, password: file-secret}
registry: {url: "http://file:8081"}
stream:
  topics: [a, b]
  group: file-group
  batch_max_rows: 64
  batch_max_wait: 5ms
model: {path: file.onnx}
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := mapEnv(map[string]string{
		"STREAMSCORE_CONFIG":        file,
		"STREAMSCORE_GROUP":         "env-group",
		"STREAMSCORE_SASL_PASSWORD": "env-secret",
		"STREAMSCORE_BROKERS":       "env1:9092,env2:9092",
	})
	cfg, err := scorer.ParseConfig([]string{"-brokers", "flag:9092", "-batch-max-rows", "32"}, env)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"brokers from the flag", cfg.Kafka.Brokers, []string{"flag:9092"}},
		{"group from the environment", cfg.Stream.Group, "env-group"},
		{"password from the environment", cfg.Kafka.SASL.Password, "env-secret"},
		{"user from the file", cfg.Kafka.SASL.Username, "file-user"},
		{"topics from the file", cfg.Stream.Topics, []string{"a", "b"}},
		{"batch rows from the flag", cfg.Stream.MaxBatch, 32},
		{"batch wait from the file", cfg.Stream.MaxWait, 5 * time.Millisecond},
		{"dead-letter topic by default", cfg.Stream.DeadLetterTopic, "streamscore.dlq"},
		{"output topic by default", cfg.Stream.OutputFor("a"), "a.scored"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestParseConfigCatalogModel checks the catalog settings' defaults and
// that they come from every source, like the others.
func TestParseConfigCatalogModel(t *testing.T) {
	file := filepath.Join(t.TempDir(), "scorer.yaml")
	yaml := `
model: {name: sensors, shadow_alias: challenger}
stream: {shadow_topic: "{topic}.compare"}
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want scorer.ModelConfig
		// shadowTopic is the shadow topic of input "in"; empty: shadow off.
		shadowTopic string
	}{
		{"defaults", catalogMinimal, nil,
			scorer.ModelConfig{Name: "m", Alias: "champion", Topic: "_streamscore_models", Threads: 1}, ""},
		{"shadow on, default topic", append(catalogMinimal, "-shadow-alias", "challenger"), nil,
			scorer.ModelConfig{Name: "m", Alias: "champion", Topic: "_streamscore_models", ShadowAlias: "challenger", Threads: 1}, "in.shadow"},
		{"flags", append(catalogMinimal, "-model-alias", "stable", "-models-topic", "models", "-shadow-alias", "canary", "-shadow-topic", "{topic}-canary"), nil,
			scorer.ModelConfig{Name: "m", Alias: "stable", Topic: "models", ShadowAlias: "canary", Threads: 1}, "in-canary"},
		{"environment", catalogMinimal, map[string]string{"STREAMSCORE_MODEL_ALIAS": "stable", "STREAMSCORE_SHADOW_ALIAS": "canary", "STREAMSCORE_MODELS_TOPIC": "models"},
			scorer.ModelConfig{Name: "m", Alias: "stable", Topic: "models", ShadowAlias: "canary", Threads: 1}, "in.shadow"},
		{"file", []string{"-brokers", "k:9092", "-registry-url", "http://r:8081", "-topics", "in", "-config", file}, nil,
			scorer.ModelConfig{Name: "sensors", Alias: "champion", Topic: "_streamscore_models", ShadowAlias: "challenger", Threads: 1}, "in.compare"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := scorer.ParseConfig(c.args, mapEnv(c.env))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.Model, c.want) {
				t.Errorf("model config %+v, want %+v", cfg.Model, c.want)
			}
			if got := scorer.ShadowTopicOf(cfg, "in"); got != c.shadowTopic {
				t.Errorf("shadow topic of in: %q, want %q", got, c.shadowTopic)
			}
		})
	}
}

func TestParseConfigRejectsUnknownYAMLKeys(t *testing.T) {
	file := filepath.Join(t.TempDir(), "scorer.yaml")
	os.WriteFile(file, []byte("stream: {topcs: [a]}\n"), 0o600)
	_, err := scorer.ParseConfig(append(minimal, "-config", file), mapEnv(nil))
	if !errors.Is(err, scorer.ErrBadConfig) || !strings.Contains(err.Error(), "topcs") {
		t.Fatalf("err = %v, want one naming the unknown key", err)
	}
}

// TestUsageHidesSecrets checks that -h, whose text shows every flag's
// default, does not print a password loaded from the environment, nor the
// credentials of a registry URL or a broker read from the file.
func TestUsageHidesSecrets(t *testing.T) {
	file := filepath.Join(t.TempDir(), "scorer.yaml")
	yaml := `
kafka: {brokers: ["SASL_SSL://user:hunter2-broker@k:9092"]}
registry: {url: "http://admin:hunter2-url@r:8081"}
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var usage bytes.Buffer
	_, parseErr := scorer.ParseConfigUsage([]string{"-config", file, "-h"}, mapEnv(map[string]string{
		"STREAMSCORE_SASL_PASSWORD": "hunter2-kafka", "STREAMSCORE_REGISTRY_PASSWORD": "hunter2-registry",
	}), &usage)
	if !errors.Is(parseErr, flag.ErrHelp) || !strings.Contains(usage.String(), "-sasl-password") || !strings.Contains(usage.String(), "http://xxxxx@r:8081") {
		t.Fatalf("no usage text with the redacted URL (err %v): %s", parseErr, usage.String())
	}
	securetest.NoSecrets(t, "usage text", usage.String(), "hunter2", "admin")
}

// TestParseConfigRefusesBadRegistryURLs gives the scorer unusable registry
// URLs with a password in them from each source: each is a configuration
// error (exit 2) naming the setting, and none shows the password.
func TestParseConfigRefusesBadRegistryURLs(t *testing.T) {
	const bad = "http://admin:Pa%ssw0rdSECRET@host:8081"
	file := func(url string) string {
		path := filepath.Join(t.TempDir(), "scorer.yaml")
		if err := os.WriteFile(path, []byte("registry: {url: \""+url+"\"}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	noRegistry := []string{"-brokers", "k:9092", "-topics", "in", "-model", "m.onnx"}
	cases := []struct {
		name        string
		args        []string
		env         map[string]string
		errContains string
	}{
		{"bad escape from the flag", append(noRegistry, "-registry-url", bad), nil, `registry-url: "http://xxxxx@host:8081" is not a valid URL`},
		{"bad escape from the environment", noRegistry, map[string]string{"STREAMSCORE_REGISTRY_URL": bad}, `registry-url: "http://xxxxx@host:8081" is not a valid URL`},
		{"bad escape from the file", append(noRegistry, "-config", file(bad)), nil, `registry-url: "http://xxxxx@host:8081" is not a valid URL`},
		{"a slash in the password", append(noRegistry, "-registry-url", "http://admin:12/ssw0rdSECRET@host"), nil, "has an @ outside its user info"},
		{"a token as the user", append(noRegistry, "-registry-url", "https://ssw0rdSECRET@host"), nil, "the user info needs a user and a password"},
		{"credentials twice", append(noRegistry, "-registry-url", "http://admin:ssw0rdSECRET@host", "-registry-username", "admin"), nil, "give the credentials in one place"},
		{"a query", append(noRegistry, "-registry-url", "http://host/?key=ssw0rdSECRET"), nil, "has a query or fragment"},
		{"another scheme", append(noRegistry, "-registry-url", "ftp://admin:ssw0rdSECRET@host"), nil, "is not an http(s) URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var usage bytes.Buffer
			_, err := scorer.ParseConfigUsage(c.args, mapEnv(c.env), &usage)
			if !errors.Is(err, scorer.ErrBadConfig) {
				t.Fatalf("err = %v, want ErrBadConfig", err)
			}
			if !strings.Contains(err.Error(), c.errContains) {
				t.Errorf("error %q lacks %q", err, c.errContains)
			}
			securetest.NoSecrets(t, "the error", err.Error()+usage.String(), "ssw0rd", "%ss", "admin:")
		})
	}
	t.Run("credentials in a valid URL are taken", func(t *testing.T) {
		cfg, err := scorer.ParseConfig(append(noRegistry, "-registry-url", "http://admin:Pa%25ss@host:8081"), mapEnv(nil))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Registry.URL != "http://admin:Pa%25ss@host:8081" {
			t.Errorf("registry URL %q", cfg.Registry.URL)
		}
	})
}

// TestParseConfigHTTPLimits checks the HTTP limits' defaults and that they
// come from every source.
func TestParseConfigHTTPLimits(t *testing.T) {
	file := filepath.Join(t.TempDir(), "scorer.yaml")
	if err := os.WriteFile(file, []byte("http: {read_timeout: 1m, max_header_bytes: 4096}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := scorer.ParseConfig(append(minimal, "-config", file, "-http-idle-timeout", "5s"),
		mapEnv(map[string]string{"STREAMSCORE_HTTP_WRITE_TIMEOUT": "45s"}))
	if err != nil {
		t.Fatal(err)
	}
	want := httpserve.Config{ReadHeaderTimeout: httpserve.DefaultReadHeaderTimeout, ReadTimeout: time.Minute,
		WriteTimeout: 45 * time.Second, IdleTimeout: 5 * time.Second, MaxHeaderBytes: 4096}
	if cfg.HTTP != want {
		t.Errorf("HTTP limits %+v, want %+v", cfg.HTTP, want)
	}
}

func TestParseConfigHelp(t *testing.T) {
	if _, err := scorer.ParseConfig([]string{"-h"}, mapEnv(nil)); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
}

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}
