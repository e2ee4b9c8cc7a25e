package catalog

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSummarizeCategories shows a long category table as its count and
// first entries, a short one whole, and leaves strings that only look like
// a table alone.
func TestSummarizeCategories(t *testing.T) {
	long := make([]string, 253)
	for i := range long {
		long[i] = "site-" + strings.Repeat("x", i%3) + string(rune('a'+i%26))
	}
	long[1] = `quo"te],[`
	spec := map[string]any{
		"fields": []map[string]any{
			{"field": "site", "categories": long},
			{"field": "status", "categories": []string{"OK", "WARN"}},
		},
		"description": `"categories":["not","a","table"]`,
	}
	compact, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Fields []struct {
			Categories struct {
				Count int      `json:"count"`
				First []string `json:"first"`
			} `json:"categories"`
		} `json:"fields"`
		Description string `json:"description"`
	}
	if err := json.Unmarshal(summarizeCategories(compact), &got); err != nil {
		t.Fatalf("%v in %s", err, summarizeCategories(compact))
	}
	if c := got.Fields[0].Categories; c.Count != 253 || len(c.First) != shownCategories || c.First[1] != long[1] {
		t.Errorf("long table shown as %+v", c)
	}
	if c := got.Fields[1].Categories; c.Count != 2 || strings.Join(c.First, ",") != "OK,WARN" {
		t.Errorf("short table shown as %+v", c)
	}
	if got.Description != spec["description"] {
		t.Errorf("a string was changed: %q", got.Description)
	}
}
