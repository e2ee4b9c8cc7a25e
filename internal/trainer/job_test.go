package trainer_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/trainer"
)

func TestRunnerPublishesAndPromotesOnlyWhatBeatsTheChampion(t *testing.T) {
	s := newStack(t)
	s.produce("history", sensorRows(1, 3000))
	cat := s.catalog()
	runner := s.runner(cat)
	ctx := context.Background()
	job := func(params string) trainer.Job {
		return trainer.Job{Name: "sensors", Source: trainer.Source{Topic: "history"}, Options: gbdtOptions(t, params)}
	}

	// The first version is the champion: there is nothing to beat.
	first, err := runner.Run(ctx, job(`{"num_trees": 40, "max_depth": 4}`), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Promoted || first.Version.Version != 1 || first.Reason != "first version" {
		t.Fatalf("first run: version %d promoted %v (%s), want version 1 promoted as the first", first.Version.Version, first.Promoted, first.Reason)
	}

	// A stump cannot beat it on the same holdout: published as the
	// challenger only.
	weak, err := runner.Run(ctx, job(`{"num_trees": 1, "max_depth": 1}`), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if weak.Promoted || weak.Champion == nil {
		t.Fatalf("a weaker model was promoted (%s)", weak.Reason)
	}
	if !strings.Contains(weak.Reason, "does not beat champion v1") {
		t.Errorf("reason %q does not say why", weak.Reason)
	}
	if weak.Champion.Metrics["auc"] != first.Result.Evaluation.Metrics["auc"] {
		t.Errorf("champion re-evaluated at AUC %v, its own evaluation said %v: not the same holdout", weak.Champion.Metrics["auc"], first.Result.Evaluation.Metrics["auc"])
	}
	assertAliases(t, cat.Aliases("sensors"), map[string]int{"champion": 1, "challenger": 2})

	// Forced, it is promoted all the same, and the history says so.
	forced, err := runner.Run(ctx, job(`{"num_trees": 1, "max_depth": 1}`), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !forced.Promoted {
		t.Fatal("a forced training was not promoted")
	}
	assertAliases(t, cat.Aliases("sensors"), map[string]int{"champion": 3, "challenger": 3})
	var forcedChanges int
	for _, c := range cat.History("sensors") {
		if c.Alias == "champion" && c.Forced {
			forcedChanges++
		}
	}
	if forcedChanges != 1 {
		t.Errorf("history holds %d forced champion changes, want 1: %+v", forcedChanges, cat.History("sensors"))
	}

	// What is stored with the version says where it came from.
	v, err := cat.Get("sensors", 2)
	if err != nil {
		t.Fatal(err)
	}
	if v.Parent != 1 || v.Family != "gbdt" || v.Source.Topic != "history" || len(v.Source.Ranges) != 3 {
		t.Errorf("version 2: parent %d, family %q, source %+v", v.Parent, v.Family, v.Source)
	}
	var params trainer.GBDTParams
	if err := json.Unmarshal(v.Params, &params); err != nil || params.MaxIter != 1 || params.LearningRate != 0.1 {
		t.Errorf("stored params %s (%v): want the effective ones, defaults included", v.Params, err)
	}
	if v.Fit == nil || v.Fit.Iterations != 1 || v.Fit.EarlyStopped {
		t.Errorf("stored fit %+v: want the one round grown, not stopped early", v.Fit)
	}
	for _, m := range []string{"auc", "f1", "precision", "recall", "accuracy"} {
		if _, ok := v.Metrics[m]; !ok {
			t.Errorf("stored metrics %v lack %s", v.Metrics, m)
		}
	}
}

func assertAliases(t *testing.T, got, want map[string]int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("aliases %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("aliases %v, want %v", got, want)
		}
	}
}
