package catalog_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/catalog"
)

// onlineEvidence is evidence as the trainer's online promotion writes it:
// challenger 2 beat champion 1.
func onlineEvidence() catalog.Evidence {
	return catalog.Evidence{
		Metric: "roc_auc", Test: "delong", Paired: 4210, ChampionValue: 0.874, ChallengerValue: 0.912,
		Z: 3.1, PValue: 0.001, WindowEnd: time.Date(2026, 12, 1, 10, 15, 0, 0, time.UTC),
		ChampionVersion: 1, ChallengerVersion: 2,
	}
}

// TestEvidenceKeptWithTheChangeAndReadBack moves an alias with evidence:
// the change returned, the writer's history and a fresh reader's history
// carry the same evidence, and changes made without any carry none.
func TestEvidenceKeptWithTheChangeAndReadBack(t *testing.T) {
	b := newBroker(t)
	c := b.catalog(t)
	ctx := testContext(t)
	publish(t, c, "sensor", 100)
	publish(t, c, "sensor", 100)
	if _, err := c.SetAlias(ctx, "sensor", "champion", 1, "first version", false); err != nil {
		t.Fatal(err)
	}
	ev := onlineEvidence()
	ch, err := c.SetAliasWithEvidence(ctx, "sensor", "champion", 2, "online: roc_auc 0.912 vs 0.874", ev)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Evidence == nil || *ch.Evidence != ev || ch.Forced || ch.Previous != 1 {
		t.Fatalf("change %+v, want evidence %+v, not forced, previous 1", ch, ev)
	}

	reader := b.catalog(t)
	if err := reader.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	for name, cat := range map[string]*catalog.Catalog{"writer": c, "reader": reader} {
		history := cat.History("sensor")
		if len(history) != 2 {
			t.Fatalf("%s: history %+v, want 2 changes", name, history)
		}
		if history[0].Evidence != nil {
			t.Errorf("%s: a change made without evidence has %+v", name, history[0].Evidence)
		}
		if got := history[1].Evidence; got == nil || !reflect.DeepEqual(*got, ev) {
			t.Errorf("%s: evidence %+v, want %+v", name, got, ev)
		}
		if v, err := cat.Resolve("sensor", "champion"); err != nil || v.Version != 2 {
			t.Errorf("%s: champion %d (%v), want 2", name, v.Version, err)
		}
	}
	if skipped := reader.Skipped(); len(skipped) != 0 {
		t.Errorf("the reader skipped %v", skipped)
	}
}

// TestEvidenceOutOfBounds holds evidence to its limits on both sides: the
// writer refuses it (ErrInvalid, nothing written), and a reader skips an
// alias change that carries it, as written by another writer, counting it
// as bad_evidence and leaving the alias where it was.
func TestEvidenceOutOfBounds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*catalog.Evidence)
		says   string
	}{
		{"metric name too long", func(e *catalog.Evidence) { e.Metric = strings.Repeat("m", catalog.MaxEvidenceNameBytes+1) }, "metric: want 1 to 64 bytes, got 65"},
		{"no test name", func(e *catalog.Evidence) { e.Test = "" }, "test: want 1 to 64 bytes, got 0"},
		{"negative paired", func(e *catalog.Evidence) { e.Paired = -1 }, "paired -1 is negative"},
		{"p-value above 1", func(e *catalog.Evidence) { e.PValue = 1.5 }, "p_value 1.5 is not within 0..1"},
		{"champion version 0", func(e *catalog.Evidence) { e.ChampionVersion = 0 }, "champion_version 0 is out of range"},
		{"challenger version past the maximum", func(e *catalog.Evidence) { e.ChallengerVersion = catalog.MaxVersion + 1 }, "challenger_version 2147483648 is out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBroker(t)
			writer := b.catalog(t)
			ctx := testContext(t)
			publish(t, writer, "sens", 100)
			publish(t, writer, "sens", 100)
			if _, err := writer.SetAlias(ctx, "sens", "champion", 1, "", false); err != nil {
				t.Fatal(err)
			}
			ev := onlineEvidence()
			tc.mutate(&ev)
			if _, err := writer.SetAliasWithEvidence(ctx, "sens", "champion", 2, "", ev); !errors.Is(err, catalog.ErrInvalid) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("SetAliasWithEvidence: %v, want ErrInvalid saying %q", err, tc.says)
			}
			if got := len(writer.History("sens")); got != 1 {
				t.Errorf("%d changes after a refused one, want 1", got)
			}

			b.produce(t, aliasRecord(t, "sens/alias/champion/"+forgedID,
				catalog.AliasChange{Name: "sens", Alias: "champion", Version: 2, Previous: 1, Evidence: &ev}))
			reader := b.catalog(t)
			if err := reader.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if got, want := reader.Skipped(), map[string]int64{catalog.SkipBadEvidence: 1}; !reflect.DeepEqual(got, want) {
				t.Errorf("skipped %v, want %v", got, want)
			}
			if v, err := reader.Resolve("sens", "champion"); err != nil || v.Version != 1 {
				t.Errorf("champion %d (%v), want 1", v.Version, err)
			}
		})
	}
}
