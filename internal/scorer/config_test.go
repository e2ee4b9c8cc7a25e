package scorer_test

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/scorer"
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
// default, does not print a password loaded from the environment.
func TestUsageHidesSecrets(t *testing.T) {
	stderr := os.Stderr
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	os.Stderr = w
	_, parseErr := scorer.ParseConfig([]string{"-h"}, mapEnv(map[string]string{
		"STREAMSCORE_SASL_PASSWORD": "hunter2-kafka", "STREAMSCORE_REGISTRY_PASSWORD": "hunter2-registry",
	}))
	w.Close()
	os.Stderr = stderr
	usage, _ := io.ReadAll(r)
	if !errors.Is(parseErr, flag.ErrHelp) || !strings.Contains(string(usage), "-sasl-password") {
		t.Fatalf("no usage text (err %v): %s", parseErr, usage)
	}
	if strings.Contains(string(usage), "hunter2") {
		t.Fatalf("usage text shows a password:\n%s", usage)
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
