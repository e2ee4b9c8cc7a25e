package catalog_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/streamscore/streamscore/internal/catalog"
)

// step is one alias operation and what it should leave.
type step struct {
	op       string // "set" or "rollback"
	version  int    // set
	forced   bool   // set
	want     int    // the alias afterwards
	previous int    // the change's Previous
	err      error
}

func TestAliasesPromoteRollback(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"promote then roll back", []step{
			{op: "set", version: 1, want: 1},
			{op: "set", version: 2, want: 2, previous: 1},
			{op: "rollback", want: 1, previous: 2},
		}},
		{"rollbacks walk back in time", []step{
			{op: "set", version: 1, want: 1},
			{op: "set", version: 2, want: 2, previous: 1},
			{op: "set", version: 3, forced: true, want: 3, previous: 2},
			{op: "rollback", want: 2, previous: 3},
			{op: "rollback", want: 1, previous: 2},
			{op: "rollback", err: catalog.ErrInvalid, want: 1},
		}},
		{"a promotion after a rollback is undone first", []step{
			{op: "set", version: 1, want: 1},
			{op: "set", version: 2, want: 2, previous: 1},
			{op: "rollback", want: 1, previous: 2},
			{op: "set", version: 3, want: 3, previous: 1},
			{op: "rollback", want: 1, previous: 3},
		}},
		{"nothing to roll back", []step{
			{op: "rollback", err: catalog.ErrNotFound},
		}},
		{"unknown version", []step{
			{op: "set", version: 1, want: 1},
			{op: "set", version: 9, err: catalog.ErrNotFound, want: 1},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBroker(t)
			c := b.catalog(t)
			ctx := testContext(t)
			for range 3 {
				publish(t, c, "sensor", 100)
			}
			for i, s := range tc.steps {
				var ch catalog.AliasChange
				var err error
				if s.op == "set" {
					ch, err = c.SetAlias(ctx, "sensor", "champion", s.version, "test", s.forced)
				} else {
					ch, err = c.Rollback(ctx, "sensor", "champion")
				}
				if !errors.Is(err, s.err) {
					t.Fatalf("step %d (%s): %v, want %v", i, s.op, err, s.err)
				}
				if err == nil && (ch.Version != s.want || ch.Previous != s.previous || ch.Rollback != (s.op == "rollback")) {
					t.Errorf("step %d (%s): change %+v, want version %d previous %d", i, s.op, ch, s.want, s.previous)
				}
				if s.want == 0 {
					continue
				}
				v, err := c.Resolve("sensor", "champion")
				if err != nil || v.Version != s.want {
					t.Errorf("step %d: champion resolves to %d (%v), want %d", i, v.Version, err, s.want)
				}
			}
		})
	}
}

func TestAliasArgumentsValidated(t *testing.T) {
	b := newBroker(t)
	c := b.catalog(t)
	ctx := testContext(t)
	publish(t, c, "sensor", 10)
	for _, tc := range []struct {
		name, model, alias string
		want               error
	}{
		{"numeric alias", "sensor", "3", catalog.ErrInvalid},
		{"slash in alias", "sensor", "a/b", catalog.ErrInvalid},
		{"empty alias", "sensor", "", catalog.ErrInvalid},
		{"bad model name", "../x", "champion", catalog.ErrInvalid},
		{"unknown model", "other", "champion", catalog.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.SetAlias(ctx, tc.model, tc.alias, 1, "", false); !errors.Is(err, tc.want) {
				t.Errorf("SetAlias: %v, want %v", err, tc.want)
			}
			if _, err := c.Resolve(tc.model, tc.alias); !errors.Is(err, catalog.ErrNotFound) {
				t.Errorf("Resolve: %v, want ErrNotFound", err)
			}
		})
	}
}

func TestHistorySurvivesCompactionAndRestart(t *testing.T) {
	b := newBroker(t)
	c := b.catalog(t)
	ctx := testContext(t)
	var artifacts [][]byte
	for range 3 {
		_, a := publish(t, c, "sensor", 2000)
		artifacts = append(artifacts, a)
	}
	publish(t, c, "spam", 10)
	var want []catalog.AliasChange
	record := func(ch catalog.AliasChange, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, ch)
	}
	record(c.SetAlias(ctx, "sensor", "champion", 1, "first", true))
	record(c.SetAlias(ctx, "sensor", "champion", 2, "beats 1 on holdout", false))
	record(c.SetAlias(ctx, "sensor", "shadow", 3, "try it", true))
	record(c.SetAlias(ctx, "sensor", "champion", 3, "beats 2 on holdout", false))
	record(c.Rollback(ctx, "sensor", "champion"))
	if _, err := c.SetAlias(ctx, "spam", "champion", 1, "", true); err != nil {
		t.Fatal(err)
	}

	b.cluster.Compact()
	fresh := b.catalog(t)
	if err := fresh.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got := fresh.History("sensor")
	if len(got) != len(want) {
		t.Fatalf("history has %d changes, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !got[i].At.Equal(want[i].At) {
			t.Errorf("change %d at %v, want %v", i, got[i].At, want[i].At)
		}
		got[i].At = want[i].At
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("history\n%+v\nwant\n%+v", got, want)
	}
	if a := fresh.Aliases("sensor"); !reflect.DeepEqual(a, map[string]int{"champion": 2, "shadow": 3}) {
		t.Errorf("aliases %v", a)
	}
	for i, a := range artifacts {
		data, err := fresh.Artifact(ctx, "sensor", i+1)
		if err != nil || string(data) != string(a) {
			t.Errorf("artifact %d after compaction: %v", i+1, err)
		}
	}
	// Rollback goes on from where the history left off.
	ch, err := fresh.Rollback(ctx, "sensor", "champion")
	if err != nil || ch.Version != 1 {
		t.Errorf("rollback after restart: %+v, %v; want version 1", ch, err)
	}
}

func TestFollowSeesCurrentAliasThenChanges(t *testing.T) {
	b := newBroker(t)
	writer := b.catalog(t)
	ctx := testContext(t)
	for range 3 {
		publish(t, writer, "sensor", 100)
	}
	if _, err := writer.SetAlias(ctx, "sensor", "champion", 1, "", true); err != nil {
		t.Fatal(err)
	}

	follower := b.catalog(t)
	seen := make(chan int)
	followCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- follower.Follow(followCtx, "sensor", "champion", func(v catalog.Version) {
			select {
			case seen <- v.Version:
			case <-followCtx.Done():
			}
		})
	}()
	expect := func(want int) {
		t.Helper()
		select {
		case got := <-seen:
			if got != want {
				t.Fatalf("Follow saw version %d, want %d", got, want)
			}
		case <-ctx.Done():
			t.Fatalf("Follow never saw version %d", want)
		}
	}
	expect(1)
	// Another alias moving, and a new version, are not changes of champion;
	// the next call Follow makes must be for version 3.
	if _, err := writer.SetAlias(ctx, "sensor", "shadow", 2, "", true); err != nil {
		t.Fatal(err)
	}
	publish(t, writer, "sensor", 100)
	if _, err := writer.SetAlias(ctx, "sensor", "champion", 3, "", false); err != nil {
		t.Fatal(err)
	}
	expect(3)
	if _, err := writer.Rollback(ctx, "sensor", "champion"); err != nil {
		t.Fatal(err)
	}
	expect(1)
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Follow returned %v, want context.Canceled", err)
	}
}

func TestFollowWaitsForAliasToAppear(t *testing.T) {
	b := newBroker(t) // the topic does not even exist yet
	follower := b.catalog(t)
	ctx := testContext(t)
	seen := make(chan int, 1)
	followCtx, stop := context.WithCancel(ctx)
	defer stop()
	go follower.Follow(followCtx, "fresh", "champion", func(v catalog.Version) { seen <- v.Version })

	writer := b.catalog(t)
	publish(t, writer, "fresh", 10)
	if _, err := writer.SetAlias(ctx, "fresh", "champion", 1, "", true); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-seen:
		if got != 1 {
			t.Fatalf("Follow saw version %d, want 1", got)
		}
	case <-ctx.Done():
		t.Fatal("Follow never saw the new alias")
	}
}

func TestFollowRejectsBadArguments(t *testing.T) {
	c := newBroker(t).catalog(t)
	for _, tc := range []struct{ name, model, alias string }{
		{"bad name", "a/b", "champion"},
		{"numeric alias", "sensor", "12"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Follow(testContext(t), tc.model, tc.alias, func(catalog.Version) { t.Error("fn called") })
			if !errors.Is(err, catalog.ErrInvalid) {
				t.Errorf("Follow: %v, want ErrInvalid", err)
			}
		})
	}
}
