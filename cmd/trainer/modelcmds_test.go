package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/testkit"
	"github.com/streamscore/streamscore/internal/trainer"
)

// cliCatalog is a catalog holding sensor versions 1 and 2 (created at fixed
// times), spam version 1, and champion moved from 1 to 2.
func cliCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	c := emptyCatalog(t)
	ctx := testContext(t)
	for i, size := range []int{1200, 3400} {
		v := testkit.SensorVersion("sensor")
		v.CreatedAt = time.Date(2026, 3, 1+i, 12, 0, 0, 0, time.UTC)
		v.Parent = i // version 2 was trained to replace 1
		if _, err := c.Publish(ctx, v, testkit.RandomBytes(uint64(i), size)); err != nil {
			t.Fatal(err)
		}
	}
	spam := testkit.SensorVersion("spam")
	spam.Family, spam.Metrics = "text", nil
	spam.CreatedAt = time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	if _, err := c.Publish(ctx, spam, []byte("onnx")); err != nil {
		t.Fatal(err)
	}
	for _, v := range []int{1, 2} {
		if _, err := c.SetAlias(ctx, "sensor", "champion", v, "beats the holdout", false); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func TestCLI(t *testing.T) {
	c := cliCatalog(t)
	// The steps run in order on one catalog: promote and rollback change
	// what later steps see.
	for _, tc := range []struct {
		name string
		args []string
		want string // the whole output, or a regexp if it starts with "(?"
		err  error
	}{
		{"list", []string{"list"},
			"NAME    VERSIONS  LATEST  ALIASES\n" +
				"sensor  2         2       champion=2\n" +
				"spam    1         1       -\n", nil},
		{"versions", []string{"versions", "sensor"},
			"VERSION  FAMILY  CREATED               SIZE  PARENT  ALIASES   METRICS\n" +
				"1        gbdt    2026-03-01T12:00:00Z  1200  -       -         auc=0.93 logloss=0.21\n" +
				"2        gbdt    2026-03-02T12:00:00Z  3400  1       champion  auc=0.93 logloss=0.21\n", nil},
		{"show by alias", []string{"show", "sensor", "champion"}, `(?s)^\{\n  "name": "sensor",\n  "version": 2,\n  "family": "gbdt",.*"parent": 1,.*"size": 3400,\n  "chunks": 1,\n  "spec": \{\n.*\n  \}\n\}\n$`, nil},
		{"show by number", []string{"show", "sensor", "1"}, `(?s)"version": 1,.*"topic": "sensors",.*"params": \{\n    "num_trees": 20`, nil},
		{"promote", []string{"promote", "sensor", "1", "-reason", "hot fix"}, "sensor champion: 2 -> 1\n", nil},
		{"promote flags first", []string{"promote", "-alias", "shadow", "sensor", "2"}, "sensor shadow: none -> 2\n", nil},
		{"history", []string{"history", "sensor"},
			`(?m)\AAT +ALIAS +VERSION +PREVIOUS +FORCED +REASON\n` +
				`\S+Z +champion +1 +- +no +beats the holdout\n` +
				`\S+Z +champion +2 +1 +no +beats the holdout\n` +
				`\S+Z +champion +1 +2 +yes +hot fix\n` +
				`\S+Z +shadow +2 +- +yes +promoted by hand\n\z`, nil},
		{"rollback", []string{"rollback", "sensor"}, "sensor champion: 1 -> 2\n", nil},
		{"rollback alias", []string{"rollback", "sensor", "-alias", "shadow"}, "", catalog.ErrInvalid},
		{"list after", []string{"list"},
			"NAME    VERSIONS  LATEST  ALIASES\n" +
				"sensor  2         2       champion=2 shadow=2\n" +
				"spam    1         1       -\n", nil},
		{"show unknown version", []string{"show", "sensor", "9"}, "", catalog.ErrNotFound},
		{"show unknown alias", []string{"show", "sensor", "canary"}, "", catalog.ErrNotFound},
		{"versions unknown model", []string{"versions", "nope"}, "", catalog.ErrNotFound},
		{"promote unknown version", []string{"promote", "sensor", "7"}, "", catalog.ErrNotFound},
		{"promote numeric alias", []string{"promote", "sensor", "1", "-alias", "2"}, "", catalog.ErrInvalid},
		{"no command", nil, "", trainer.ErrUsage},
		{"unknown command", []string{"delete", "sensor"}, "", trainer.ErrUsage},
		{"missing argument", []string{"versions"}, "", trainer.ErrUsage},
		{"extra argument", []string{"history", "sensor", "more"}, "", trainer.ErrUsage},
		{"version not a number", []string{"promote", "sensor", "latest"}, "", trainer.ErrUsage},
		{"unknown flag", []string{"list", "-x"}, "", trainer.ErrUsage},
		{"flag without value", []string{"promote", "sensor", "1", "-alias"}, "", trainer.ErrUsage},
		{"export without -o", []string{"export", "sensor", "1"}, "", trainer.ErrUsage},
		{"import without -spec", []string{"import", "x", "x.onnx"}, "", trainer.ErrUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := runCatalogCommand(testContext(t), c, tc.args, &out)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("runCatalogCommand(%q): %v, want %v", tc.args, err, tc.err)
			}
			if strings.HasPrefix(tc.want, "(?") {
				if !regexp.MustCompile(tc.want).MatchString(out.String()) {
					t.Errorf("output\n%s\ndoes not match %s", out.String(), tc.want)
				}
			} else if out.String() != tc.want {
				t.Errorf("output\n%s\nwant\n%s", out.String(), tc.want)
			}
		})
	}
}

func TestCLIExport(t *testing.T) {
	c := cliCatalog(t)
	ctx := testContext(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "sensor.onnx")
	var out bytes.Buffer
	if err := runCatalogCommand(ctx, c, []string{"export", "sensor", "champion", "-o", file}, &out); err != nil {
		t.Fatal(err)
	}
	want, err := c.Artifact(ctx, "sensor", 2)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(file)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("exported bytes differ from version 2 (%v)", err)
	}
	rawSpec, err := os.ReadFile(filepath.Join(dir, "sensor.spec.json"))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := model.ParseSpec(rawSpec)
	if err != nil {
		t.Fatal(err)
	}
	wantSpec, _ := json.Marshal(testkit.SensorVersion("sensor").Spec)
	gotSpec, _ := json.Marshal(spec)
	if !bytes.Equal(gotSpec, wantSpec) {
		t.Errorf("exported spec %s, want %s", gotSpec, wantSpec)
	}
	if !strings.Contains(out.String(), "sensor version 2 -> "+file) {
		t.Errorf("output %q", out.String())
	}
}

func TestCLIImportModelMadeElsewhere(t *testing.T) {
	c := emptyCatalog(t)
	ctx := testContext(t)
	var out bytes.Buffer
	args := []string{"import", "linear", "testdata/linear.onnx", "-spec", "testdata/linear.spec.json", "-alias", "champion"}
	if err := runCatalogCommand(ctx, c, args, &out); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^linear version 1 imported \(\d+ bytes, sha256 [0-9a-f]{64}\)\n` + regexp.QuoteMeta(noProfile) + `\nlinear champion: none -> 1\n$`).MatchString(out.String()) {
		t.Errorf("output %q", out.String())
	}
	v, err := c.Resolve("linear", "champion")
	if err != nil {
		t.Fatal(err)
	}
	if v.Family != "imported" || v.Spec.Outputs.Scores != "probabilities" {
		t.Errorf("imported version %+v", v)
	}
	// What the catalog hands a scorer scores as the script's coefficients say.
	data, err := c.Artifact(ctx, "linear", v.Version)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(data, model.Options{Spec: &v.Spec})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	batch := m.NewBatch()
	defer batch.Close()
	rows := [][3]float64{{1, 0, 0}, {0, 1, 0}, {2, 0, 4}}
	for _, r := range rows {
		if err := batch.Add(map[string]any{"a": r[0], "b": r[1], "c": r[2]}); err != nil {
			t.Fatal(err)
		}
	}
	results, err := m.Run(batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		logit := r[0] - 2*r[1] + 0.5*r[2] - 0.25
		want := 1 / (1 + math.Exp(-logit))
		if math.Abs(results[i].Value-want) > 1e-5 {
			t.Errorf("row %v: alert score %.6f, want %.6f", r, results[i].Value, want)
		}
	}
}

func TestCLIImportRefuses(t *testing.T) {
	c := emptyCatalog(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goodSpec := "testdata/linear.spec.json"
	notONNX := write("notes.onnx", "this is not a model")
	twoFields := write("two.json", `{"name":"linear","task":"classification","labels":["ok","alert"],
		"inputs":[{"name":"input","fields":[{"field":"a"},{"field":"b"}]}],"outputs":{"scores":"probabilities"}}`)
	wrongInput := write("wrong.json", `{"name":"linear","task":"classification","labels":["ok","alert"],
		"inputs":[{"name":"features","fields":[{"field":"a"},{"field":"b"},{"field":"c"}]}],"outputs":{"scores":"probabilities"}}`)
	threeLabels := write("labels.json", `{"name":"linear","task":"classification","labels":["a","b","c"],
		"inputs":[{"name":"input","fields":[{"field":"a"},{"field":"b"},{"field":"c"}]}],"outputs":{"scores":"probabilities"}}`)
	typo := write("typo.json", `{"name":"linear","task":"classification","labels":["ok","alert"],"input":[]}`)
	for _, tc := range []struct {
		name, file, spec string
		want             error
	}{
		{"not an ONNX file", notONNX, goodSpec, model.ErrBadModel},
		{"spec maps too few columns", "testdata/linear.onnx", twoFields, model.ErrBadModel},
		{"spec names a missing input", "testdata/linear.onnx", wrongInput, model.ErrBadModel},
		{"spec has too many labels", "testdata/linear.onnx", threeLabels, model.ErrBadModel},
		{"spec with an unknown field", "testdata/linear.onnx", typo, model.ErrBadSpec},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := runCatalogCommand(testContext(t), c, []string{"import", "linear", tc.file, "-spec", tc.spec}, &bytes.Buffer{})
			if !errors.Is(err, errImport) || !errors.Is(err, tc.want) {
				t.Fatalf("import: %v, want ErrImport and %v", err, tc.want)
			}
		})
	}
	if vs := c.Versions("linear"); len(vs) != 0 {
		t.Errorf("refused imports published %d versions", len(vs))
	}
}

// TestCLIImportDefaultAliases imports without -alias as the trainer
// publishes: the first import becomes the challenger and, the model having
// no champion, the champion (so a scorer serves it); the next one the
// challenger only, the champion staying where it is, which the output says;
// -alias moves that alias alone, recorded as forced.
func TestCLIImportDefaultAliases(t *testing.T) {
	c := emptyCatalog(t)
	ctx := testContext(t)
	imp := func(extra ...string) string {
		t.Helper()
		var out bytes.Buffer
		args := append([]string{"import", "linear", "testdata/linear.onnx", "-spec", "testdata/linear.spec.json"}, extra...)
		if err := runCatalogCommand(ctx, c, args, &out); err != nil {
			t.Fatalf("runCatalogCommand(%q): %v", args, err)
		}
		return out.String()
	}
	for _, step := range []struct {
		name    string
		extra   []string
		output  string // a regexp
		aliases map[string]int
	}{
		{"first import", nil,
			`\nlinear challenger: none -> 1\nlinear champion: none -> 1\n$`,
			map[string]int{"champion": 1, "challenger": 1}},
		{"second import", nil,
			`\nlinear challenger: 1 -> 2\nlinear champion stays 1 \(trainer models promote linear 2 to serve the import\)\n$`,
			map[string]int{"champion": 1, "challenger": 2}},
		{"import with -alias", []string{"-alias", "shadow"},
			`\nlinear shadow: none -> 3\n$`,
			map[string]int{"champion": 1, "challenger": 2, "shadow": 3}},
	} {
		out := imp(step.extra...)
		if !regexp.MustCompile(step.output).MatchString(out) {
			t.Errorf("%s: output %q does not match %s", step.name, out, step.output)
		}
		if got := c.Aliases("linear"); !maps.Equal(got, step.aliases) {
			t.Errorf("%s: aliases %v, want %v", step.name, got, step.aliases)
		}
	}
	// Only the alias a person chose is recorded as forced.
	var forced []string
	for _, ch := range c.History("linear") {
		if ch.Forced {
			forced = append(forced, ch.Alias)
		}
	}
	if !slices.Equal(forced, []string{"shadow"}) {
		t.Errorf("forced changes: %q, want only shadow's", forced)
	}
}

// TestCLILoadsRuntimeOnlyToImport runs every command with a loadRuntime
// that fails, as where ONNX Runtime is missing: the commands that read or
// move aliases work and never call it; import calls it and fails with its
// error, publishing nothing.
func TestCLILoadsRuntimeOnlyToImport(t *testing.T) {
	c := cliCatalog(t)
	missing := errors.New("no ONNX Runtime here")
	calls := 0
	cli := catalogCLI{catalog: c, loadRuntime: func() error {
		calls++
		return missing
	}}
	ctx := testContext(t)
	file := filepath.Join(t.TempDir(), "sensor.onnx")
	for _, args := range [][]string{
		{"list"}, {"versions", "sensor"}, {"show", "sensor", "champion"}, {"history", "sensor"},
		{"export", "sensor", "champion", "-o", file}, {"promote", "sensor", "1"}, {"rollback", "sensor"},
	} {
		var out bytes.Buffer
		if err := cli.run(ctx, args, &out); err != nil {
			t.Errorf("%q: %v", args, err)
		}
		if out.Len() == 0 {
			t.Errorf("%q printed nothing", args)
		}
	}
	if calls != 0 {
		t.Errorf("loadRuntime called %d times by commands that load no model", calls)
	}
	err := cli.run(ctx, []string{"import", "linear", "testdata/linear.onnx", "-spec", "testdata/linear.spec.json"}, &bytes.Buffer{})
	if !errors.Is(err, missing) || calls != 1 {
		t.Errorf("import: %v after %d loadRuntime calls, want its error after one", err, calls)
	}
	if vs := c.Versions("linear"); len(vs) != 0 {
		t.Errorf("import without ONNX Runtime published %d versions", len(vs))
	}
}

// TestCLIUsageListsEveryCommand holds the usage text to one line per
// command, with what it does, and isCatalogCommand to the same commands.
func TestCLIUsageListsEveryCommand(t *testing.T) {
	usage := catalogUsage()
	for _, cmd := range []string{"list", "versions", "show", "history", "export", "promote", "rollback", "import"} {
		if !regexp.MustCompile(`(?m)^  ` + cmd + `( [A-Z\[-][^ ]*)* {2,}[a-z]\S* \S`).MatchString(usage) {
			t.Errorf("no line for %s, with a description, in\n%s", cmd, usage)
		}
		if !isCatalogCommand(cmd) {
			t.Errorf("isCatalogCommand(%q) is false", cmd)
		}
	}
	for _, notCmd := range []string{"", "delete", "LIST", "-h"} {
		if isCatalogCommand(notCmd) {
			t.Errorf("isCatalogCommand(%q) is true", notCmd)
		}
	}
}
