package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/testkit"
)

// TestHistoryShowsEvidence moves a champion by hand and then online: the
// table prints the online change's evidence on a line of its own below
// it, the columns kept aligned, and -json carries the evidence as stored.
func TestHistoryShowsEvidence(t *testing.T) {
	c := emptyCatalog(t)
	ctx := testContext(t)
	for i := range 2 {
		if _, err := c.Publish(ctx, testkit.SensorVersion("sensor"), testkit.RandomBytes(uint64(i), 100)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.SetAlias(ctx, "sensor", "champion", 1, "first version", false); err != nil {
		t.Fatal(err)
	}
	ev := catalog.Evidence{Metric: "roc_auc", Test: "delong", Paired: 4210, ChampionValue: 0.874, ChallengerValue: 0.912,
		Z: 3.1, PValue: 0.001, WindowEnd: time.Date(2026, 12, 1, 10, 15, 0, 0, time.UTC), ChampionVersion: 1, ChallengerVersion: 2}
	reason := "online: roc_auc 0.912 vs 0.874 over 4,210 labelled records, DeLong z=3.1 p=0.001"
	if _, err := c.SetAliasWithEvidence(ctx, "sensor", "champion", 2, reason, ev); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := runCatalogCommand(ctx, c, []string{"history", "sensor"}, &out); err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`\AAT +ALIAS +VERSION +PREVIOUS +FORCED +REASON\n` +
		`\S+Z {2}champion {2}1 {8}- {9}no {6}first version\n` +
		`\S+Z {2}champion {2}2 {8}1 {9}no {6}online: roc_auc 0\.912 vs 0\.874 over 4,210 labelled records, DeLong z=3\.1 p=0\.001\n` +
		`  evidence: roc_auc challenger v2 0\.912 vs champion v1 0\.874, 4210 paired, delong z=3\.1 p=0\.001, window ending 2026-12-01T10:15:00Z\n\z`)
	if !want.MatchString(out.String()) {
		t.Errorf("history:\n%s\nwant it to match %s", out.String(), want)
	}

	out.Reset()
	if err := runCatalogCommand(ctx, c, []string{"history", "-json", "sensor"}, &out); err != nil {
		t.Fatal(err)
	}
	var changes []catalog.AliasChange
	if err := json.Unmarshal(out.Bytes(), &changes); err != nil {
		t.Fatalf("history -json is not a JSON array of changes: %v\n%s", err, out.String())
	}
	if len(changes) != 2 || changes[0].Evidence != nil || changes[1].Evidence == nil || !reflect.DeepEqual(*changes[1].Evidence, ev) {
		t.Errorf("history -json: %s\nwant the second change alone with evidence %+v", out.String(), ev)
	}
	if !bytes.Contains(out.Bytes(), []byte(`"p_value": 0.001`)) {
		t.Errorf("history -json does not name the evidence's fields as stored:\n%s", out.String())
	}
}
