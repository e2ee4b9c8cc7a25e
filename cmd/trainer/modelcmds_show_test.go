package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/model"
)

// TestSummarizeCategories shows a long category table as its count and
// first entries, a short one whole, a feature without a table without
// one, and leaves every other part of the version as it encodes, strings
// that only look like a table among them.
func TestSummarizeCategories(t *testing.T) {
	long := make([]string, 253)
	for i := range long {
		long[i] = "site-" + strings.Repeat("x", i%3) + string(rune('a'+i%26))
	}
	long[1] = `quo"te],[`
	lookalike := `"categories":["not","a","table"]`
	v := catalog.Version{Name: "sensor", Version: 3, Family: "gbdt", Source: catalog.Source{Topic: lookalike}, Spec: model.Spec{
		Name: lookalike, Task: model.Classification, Labels: []string{"a", "b"},
		Inputs: []model.Input{{Name: "features", Fields: []model.Feature{
			{Field: "site", Categories: long},
			{Field: "status", Categories: []string{"OK", "WARN"}, Unknown: model.UnknownDeadLetter},
			{Field: "x"},
		}}},
	}}
	shown, err := json.Marshal(summarizeCategories(v))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Name   string         `json:"name"`
		Source catalog.Source `json:"source"`
		Spec   struct {
			Name   string   `json:"name"`
			Labels []string `json:"labels"`
			Inputs []struct {
				Name   string `json:"name"`
				Fields []struct {
					Field      string `json:"field"`
					Unknown    string `json:"unknown"`
					Categories *struct {
						Count int      `json:"count"`
						First []string `json:"first"`
					} `json:"categories"`
				} `json:"fields"`
			} `json:"inputs"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(shown, &got); err != nil {
		t.Fatalf("%v in %s", err, shown)
	}
	fields := got.Spec.Inputs[0].Fields
	if c := fields[0].Categories; c == nil || c.Count != 253 || len(c.First) != shownCategories || c.First[1] != long[1] {
		t.Errorf("long table shown as %+v", c)
	}
	if c := fields[1].Categories; c == nil || c.Count != 2 || strings.Join(c.First, ",") != "OK,WARN" || fields[1].Unknown != model.UnknownDeadLetter {
		t.Errorf("short table shown as %+v, unknown %q", c, fields[1].Unknown)
	}
	if fields[2].Categories != nil || fields[2].Field != "x" {
		t.Errorf("a numeric feature shown as %+v", fields[2])
	}
	if got.Name != "sensor" || got.Spec.Name != lookalike || got.Source.Topic != lookalike || strings.Join(got.Spec.Labels, ",") != "a,b" || got.Spec.Inputs[0].Name != "features" {
		t.Errorf("the rest of the version changed: %s", shown)
	}
	if strings.Join(v.Spec.Inputs[0].Fields[0].Categories, ",") != strings.Join(long, ",") {
		t.Error("the version's own table was changed")
	}
}
