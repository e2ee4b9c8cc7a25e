package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/securetest"
	"github.com/streamscore/streamscore/internal/testkit"
	"github.com/streamscore/streamscore/internal/testkit/stackkit"
)

// bins holds the trainer built from the working tree, for the tests that
// need a process of their own (an environment without ONNX Runtime).
var bins testkit.Binaries

func TestMain(m *testing.M) {
	os.Exit(testkit.RunWithBinaries(m, "trainer", &bins, "trainer"))
}

func TestExitCodes(t *testing.T) {
	stack := stackkit.Start(t, embedded.Config{})
	brokers := "-brokers=" + stack.Brokers()[0]
	tests := []struct {
		name   string
		args   []string
		code   int
		output string // in stdout or stderr
	}{
		{"help", []string{"-help"}, 0, ""},
		{"unknown flag", []string{"-nope"}, 2, "flag provided but not defined"},
		{"bad setting", []string{brokers, "-log-format", "xml"}, 2, "log-format"},
		{"no HTTP body timeout", []string{brokers, "-http-read-timeout", "0s"}, 2, "http-read-timeout"},
		{"serve with arguments", []string{brokers, "extra"}, 2, "unexpected arguments"},
		{"train without a job name", []string{"train", brokers}, 2, "one job name"},
		{"train an unknown job", []string{"train", brokers, "nope"}, 2, `"nope"`},
		{"an unknown catalog command", []string{"models", brokers, "frobnicate"}, 2, "frobnicate"},
		{"an empty catalog", []string{"models", brokers, "list"}, 0, ""},
		{"a model the catalog lacks", []string{"models", brokers, "show", "ghost", "champion"}, 1, "ghost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, env(nil), &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stdout.String()+stderr.String(), tt.output) {
				t.Errorf("output %q %q does not contain %q", stdout.String(), stderr.String(), tt.output)
			}
		})
	}
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// TestRunNeverPrintsRegistryCredentials gives the trainer registry URLs
// with credentials, by flag, environment and file: a URL that does not
// parse exits 2 naming registry-url, one that parses but whose registry
// hangs up fails the training (exit 1), and neither the password nor the
// user appears in anything the trainer prints.
func TestRunNeverPrintsRegistryCredentials(t *testing.T) {
	const user, password = "adminUSER", "Pa%ssw0rdSECRET"
	// The password percent-encoded, as a URL that parses must hold it.
	const encoded = "Pa%25ssw0rdSECRET"
	secrets := []string{password, encoded, "ssw0rd", user}
	stack := stackkit.Start(t, embedded.Config{})
	brokers := "-brokers=" + stack.Brokers()[0]
	// One framed record: reading it asks the registry for schema 1.
	framed := []byte{0, 0, 0, 0, 1, 2, 3}
	stack.ProduceRecords(t, &kgo.Record{Topic: "history", Value: framed})
	dir := t.TempDir()
	jobs := filepath.Join(dir, "jobs.yaml")
	job := "jobs:\n  - name: sensors\n    source: {topic: history}\n    options: {family: gbdt, label: anomaly, features: [temperature]}\n"
	if err := os.WriteFile(jobs, []byte(job), 0o600); err != nil {
		t.Fatal(err)
	}
	badURL := "http://" + user + ":" + password + "@127.0.0.1:8081"
	withURL := filepath.Join(dir, "with-url.yaml")
	if err := os.WriteFile(withURL, []byte(job+"registry: {url: \""+badURL+"\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dead := securetest.HangUp(t)
	// The registry's address is printed, without the credentials.
	deadAt := dead + "/"
	deadURL := strings.Replace(dead, "//", "//"+user+":"+encoded+"@", 1)

	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		say  string // in stdout or stderr
	}{
		{"unparsable URL by flag", []string{"train", brokers, "-config", jobs, "-registry-url", badURL, "sensors"}, nil, 2, `registry-url: "http://xxxxx@127.0.0.1:8081" is not a valid URL`},
		{"unparsable URL by environment", []string{"train", brokers, "-config", jobs, "sensors"}, map[string]string{"STREAMSCORE_TRAINER_REGISTRY_URL": badURL}, 2, "registry-url:"},
		{"unparsable URL in the file", []string{"train", brokers, "-config", withURL, "sensors"}, nil, 2, "registry-url:"},
		{"unparsable URL, with usage text", []string{"train", brokers, "-config", withURL, "-nope", "sensors"}, nil, 2, "flag provided but not defined"},
		{"help with the URL in the file", []string{"train", "-config", withURL, "-h"}, nil, 0, "http://xxxxx@127.0.0.1:8081"},
		{"registry hangs up, URL by flag", []string{"train", brokers, "-config", jobs, "-registry-url", deadURL, "sensors"}, nil, 1, deadAt},
		{"registry hangs up, URL by environment", []string{"train", brokers, "-config", jobs, "sensors"}, map[string]string{"STREAMSCORE_TRAINER_REGISTRY_URL": deadURL}, 1, deadAt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Every case ends by itself; the deadline only stops one that
			// wrongly starts serving.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var stdout, stderr bytes.Buffer
			code := run(ctx, tt.args, env(tt.env), &stdout, &stderr)
			output := stdout.String() + stderr.String()
			if code != tt.code || !strings.Contains(output, tt.say) {
				t.Fatalf("exit %d, want %d with %q in the output:\n%s", code, tt.code, tt.say, output)
			}
			securetest.NoSecrets(t, "stdout and stderr", output, secrets...)
		})
	}
}
