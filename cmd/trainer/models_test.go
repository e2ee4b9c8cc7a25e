package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/testkit/stackkit"
)

// catalogCommands are the commands `trainer models` must list.
var catalogCommands = []string{"list", "versions", "show", "history", "export", "promote", "rollback", "import"}

// TestModelsUsage asks `trainer models` for help, for no command and for
// an unknown one: each prints every command with what it does, then the
// flags; help exits 0, a mistake 2. The broker does not exist: a usage
// mistake is found before anything is reached.
func TestModelsUsage(t *testing.T) {
	nowhere := "-brokers=127.0.0.1:1"
	for _, tt := range []struct {
		name string
		args []string
		code int
		say  string
	}{
		{"help", []string{"models", "-h"}, 0, "Usage: trainer models [flags] COMMAND"},
		{"help after a flag", []string{"models", nowhere, "-help"}, 0, "Usage: trainer models [flags] COMMAND"},
		{"no command", []string{"models", nowhere}, 2, "trainer models: no command"},
		{"an unknown command", []string{"models", nowhere, "frobnicate", "x"}, 2, `trainer models: unknown command "frobnicate"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // only if it wrongly connects
			defer cancel()
			var stdout, stderr bytes.Buffer
			code := run(ctx, tt.args, env(nil), &stdout, &stderr)
			out := stderr.String()
			if code != tt.code || !strings.Contains(out, tt.say) {
				t.Fatalf("exit %d, want %d with %q:\n%s", code, tt.code, tt.say, out)
			}
			commands, flags := strings.Index(out, "Commands:\n"), strings.Index(out, "Flags:\n")
			if commands < 0 || flags < commands {
				t.Fatalf("want the commands, then the flags:\n%s", out)
			}
			for _, cmd := range catalogCommands {
				if !regexp.MustCompile(`(?m)^  ` + cmd + `\b.*  [a-z]\S* \S`).MatchString(out[commands:flags]) {
					t.Errorf("no line for %s with what it does:\n%s", cmd, out[commands:flags])
				}
			}
			for _, flag := range []string{"-brokers", "-models-topic", "-ort-library"} {
				if !strings.Contains(out[flags:], "  "+flag+" ") {
					t.Errorf("flag %s is not listed after the commands", flag)
				}
			}
			if stdout.Len() != 0 {
				t.Errorf("usage on stdout: %q", stdout.String())
			}
		})
	}
}

// TestCatalogReadsWithoutONNXRuntime runs the trainer binary where ONNX
// Runtime is missing (the variable names a file that does not exist, and
// the working directory is outside the repository): the commands that only
// read the catalog or move aliases succeed, and import, which loads the
// model, exits 1 saying the library is missing, publishing nothing.
func TestCatalogReadsWithoutONNXRuntime(t *testing.T) {
	stack := stackkit.Start(t, embedded.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // bounds a hung command only
	defer cancel()
	// Two imported versions, the first the champion, published in this
	// process.
	c, err := catalog.New(stack.KafkaOpts(), catalog.DefaultTopic, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	testdata := "testdata/"
	artifact, err := os.ReadFile(testdata + "linear.onnx")
	if err != nil {
		t.Fatal(err)
	}
	rawSpec, err := os.ReadFile(testdata + "linear.spec.json")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := model.ParseSpec(rawSpec)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := c.Publish(ctx, catalog.Version{Name: "linear", Family: "imported", Spec: spec}, artifact); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.SetAlias(ctx, "linear", "champion", 1, "first", false); err != nil {
		t.Fatal(err)
	}
	// A version whose third column is a category of a hundred sites: show
	// prints its table as a count and the first few.
	sites := spec
	sites.Inputs = []model.Input{{Name: spec.Inputs[0].Name, Type: model.FloatInput, Fields: slices.Clone(spec.Inputs[0].Fields)}}
	sites.Inputs[0].Fields[2] = model.Feature{Field: "site"}
	for i := range 100 {
		sites.Inputs[0].Fields[2].Categories = append(sites.Inputs[0].Fields[2].Categories, fmt.Sprintf("site-%03d", i))
	}
	if _, err := c.Publish(ctx, catalog.Version{Name: "sites", Family: "imported", Spec: sites}, artifact); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	absTestdata, err := filepath.Abs(testdata)
	if err != nil {
		t.Fatal(err)
	}
	trainer := func(args ...string) (int, string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, bins.Path("trainer"), append([]string{"models", "-brokers", stack.Brokers()[0]}, args...)...)
		cmd.Dir = dir
		cmd.Env = []string{model.LibraryEnv + "=" + filepath.Join(dir, "missing", "libonnxruntime.so.1")}
		out, err := cmd.CombinedOutput()
		if err != nil && cmd.ProcessState == nil {
			t.Fatalf("trainer %q: %v", args, err)
		}
		return cmd.ProcessState.ExitCode(), string(out)
	}
	for _, tt := range []struct {
		args []string
		say  string
	}{
		{[]string{"list"}, "linear  2 "},
		{[]string{"versions", "linear"}, "imported"},
		{[]string{"show", "linear", "champion"}, `"family": "imported"`},
		{[]string{"show", "sites", "1"}, `"count": 100,`},
		{[]string{"history", "linear"}, "champion"},
		{[]string{"export", "linear", "champion", "-o", "linear.onnx"}, "linear version 1 -> linear.onnx"},
		{[]string{"promote", "linear", "2"}, "linear champion: 1 -> 2"},
		{[]string{"rollback", "linear"}, "linear champion: 2 -> 1"},
	} {
		code, out := trainer(tt.args...)
		if code != 0 || !strings.Contains(out, tt.say) {
			t.Errorf("trainer models %s: exit %d, want 0 with %q:\n%s", strings.Join(tt.args, " "), code, tt.say, out)
		}
	}
	if _, out := trainer("show", "sites", "1"); !strings.Contains(out, `"site-004"`) || strings.Contains(out, "site-005") {
		t.Errorf("show does not print the first five categories alone:\n%s", out)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "linear.onnx")); err != nil || !bytes.Equal(got, artifact) {
		t.Errorf("the exported file is not the version's ONNX (%v)", err)
	}
	code, out := trainer("import", "other", filepath.Join(absTestdata, "linear.onnx"), "-spec", filepath.Join(absTestdata, "linear.spec.json"))
	if code != 1 || !strings.Contains(out, "missing/libonnxruntime.so.1") {
		t.Errorf("import without ONNX Runtime: exit %d, want 1 naming the library:\n%s", code, out)
	}
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if vs := c.Versions("other"); len(vs) != 0 {
		t.Errorf("import without ONNX Runtime published %d versions", len(vs))
	}
}
