package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/securetest"
	"github.com/streamscore/streamscore/internal/testkit/ortkit"
	"github.com/streamscore/streamscore/internal/train"
)

func TestMain(m *testing.M) { os.Exit(ortkit.Main(m)) }

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// TestRunExitCodes checks the contract operators script against: 2 for a
// configuration the scorer cannot start with, 1 for a failure after that,
// 0 for help.
func TestRunExitCodes(t *testing.T) {
	valid := []string{"-brokers", "127.0.0.1:1", "-registry-url", "http://127.0.0.1:1", "-topics", "in",
		"-http-addr", "127.0.0.1:0"}
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"help", []string{"-h"}, 0},
		{"unknown flag", []string{"-no-such-flag"}, 2},
		{"nothing configured", nil, 2},
		{"bad setting", append(valid, "-model", "m.onnx", "-batch-max-rows", "-1"), 2},
		{"model file and catalog model", append(valid, "-model", "m.onnx", "-model-name", "m"), 2},
		{"shadow without a catalog model", append(valid, "-model", "m.onnx", "-shadow-alias", "challenger"), 2},
		{"no HTTP body timeout", append(valid, "-model", "m.onnx", "-http-read-timeout", "0"), 2},
		{"model file missing", append(valid, "-model", "/no/such/model.onnx"), 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := run(c.args, env(nil), &stderr); got != c.want {
				t.Fatalf("run(%q) = %d, want %d; stderr: %s", c.args, got, c.want, stderr.String())
			}
		})
	}
}

// TestRunNeverPrintsRegistryCredentials gives the scorer registry URLs
// with credentials, by flag, environment and file: a URL that does not
// parse exits 2 naming registry-url, one that parses but leads nowhere
// exits 1 saying the registry failed, and neither the password nor the
// user appears in anything the scorer prints.
func TestRunNeverPrintsRegistryCredentials(t *testing.T) {
	const user, password = "adminUSER", "Pa%ssw0rdSECRET"
	// The password percent-encoded, as a URL that parses must hold it.
	const encoded = "Pa%25ssw0rdSECRET"
	secrets := []string{password, encoded, "ssw0rd", user}
	badURL := "http://" + user + ":" + password + "@127.0.0.1:8081"
	dead := securetest.HangUp(t)
	// The registry's address is printed, without the credentials.
	deadAt := dead + "/"
	deadURL := strings.Replace(dead, "//", "//"+user+":"+encoded+"@", 1)
	modelPath := smallModel(t)
	configFile := func(url string) string {
		path := filepath.Join(t.TempDir(), "scorer.yaml")
		if err := os.WriteFile(path, []byte("registry: {url: \""+url+"\"}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	base := []string{"-brokers", "127.0.0.1:1", "-topics", "in", "-model", modelPath, "-http-addr", "127.0.0.1:0"}

	cases := []struct {
		name string
		args []string
		env  map[string]string
		code int
		// say is in stderr.
		say string
	}{
		{"unparsable URL by flag", append(base, "-registry-url", badURL), nil, 2, `registry-url: "http://xxxxx@127.0.0.1:8081" is not a valid URL`},
		{"unparsable URL by environment", base, map[string]string{"STREAMSCORE_REGISTRY_URL": badURL}, 2, "registry-url:"},
		{"unparsable URL in the file", append(base, "-config", configFile(badURL)), nil, 2, "registry-url:"},
		{"unparsable URL, with usage text", append(base, "-registry-url", badURL, "-no-such-flag"), nil, 2, "flag provided but not defined"},
		{"help with the URL in the file", append(base, "-config", configFile(badURL), "-h"), nil, 0, "http://xxxxx@127.0.0.1:8081"},
		{"registry hangs up, URL by flag", append(base, "-registry-url", deadURL), nil, 1, deadAt},
		{"registry hangs up, URL by environment", base, map[string]string{"STREAMSCORE_REGISTRY_URL": deadURL}, 1, deadAt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(c.args, env(c.env), &stderr)
			if code != c.code || !strings.Contains(stderr.String(), c.say) {
				t.Fatalf("exit %d, want %d with %q in stderr:\n%s", code, c.code, c.say, stderr.String())
			}
			securetest.NoSecrets(t, "stderr", stderr.String(), secrets...)
		})
	}
}

// smallModel writes a small sensor model and returns its path.
func smallModel(t *testing.T) string {
	t.Helper()
	cfg := train.DefaultConfig()
	cfg.MaxIter, cfg.MaxDepth = 5, 3
	onnx, err := sample.SensorModel(context.Background(), sample.SensorSpec("sensor-anomaly", "1"), cfg, 1000)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sensor.onnx")
	if err := os.WriteFile(path, onnx, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
