package fit_test

import (
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/model"
)

// docExample returns the code block that follows `<!-- example: name -->`
// in docs/trainer.md, so that the doc's example is the one tested.
func docExample(t *testing.T, name string) string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/trainer.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- example: " + regexp.QuoteMeta(name) + " -->\n```[a-z]*\n(.*?)```")
	m := re.FindSubmatch(doc)
	if m == nil {
		t.Fatalf("docs/trainer.md has no example %q", name)
	}
	return string(m[1])
}

// TestTrainerDocFleetExample holds docs/trainer.md's "Features from real
// schemas" to the code: its job resolves against its schema, with the
// features it says are categorical, the columns it says, and its refusal
// is the one Resolve gives word for word.
func TestTrainerDocFleetExample(t *testing.T) {
	schema, err := avropath.ParseSchema(docExample(t, "fleet schema"))
	if err != nil {
		t.Fatalf("the doc's schema: %v", err)
	}
	var job struct {
		Name    string         `yaml:"name"`
		Source  catalog.Source `yaml:"source"`
		Options fit.Options    `yaml:"options"`
	}
	if err := yaml.Unmarshal([]byte(docExample(t, "fleet job")), &job); err != nil {
		t.Fatalf("the doc's job: %v", err)
	}
	job.Options = job.Options.WithDefaults()
	if err := job.Options.Validate(); err != nil {
		t.Fatalf("the doc's options: %v", err)
	}
	resolved, err := job.Options.Resolve(schema, "fleet.history-value version 1")
	if err != nil {
		t.Fatalf("the doc's job does not resolve against its schema: %v", err)
	}
	var categorical []string
	columns := 0
	for _, f := range resolved.FeatureReads() {
		if f.Kind == fit.CategoryFeature {
			categorical = append(categorical, f.Path.String())
		}
		columns += f.Width()
	}
	// The doc: "Strings and enums always (here status, device.model, site,
	// attributes.firmware)".
	if want := []string{"status", "device.model", "site", "attributes.firmware"}; !slices.Equal(categorical, want) {
		t.Errorf("categorical features %q, the doc says %q", categorical, want)
	}
	// Ten features: the window is 4 columns and ts 2, so 14.
	if columns != 14 {
		t.Errorf("%d columns, want 14 (the window's 4, the time parts' 2)", columns)
	}

	bad := job.Options
	bad.Features = []string{"location", "location.alt", "site.code", "window"}
	bad.Defaults, bad.Categorical, bad.Arrays, bad.TimeParts = nil, nil, nil, nil
	_, err = bad.Resolve(schema, "fleet.history-value version 1")
	if !errors.Is(err, model.ErrSchemaMismatch) {
		t.Fatalf("bad paths: %v, want a schema mismatch", err)
	}
	shown := strings.TrimSpace(docExample(t, "fleet refusal"))
	if !strings.HasSuffix(shown, err.Error()) {
		t.Errorf("the doc shows\n%s\nResolve says\n%s", shown, err)
	}
}
