package jobs_test

import (
	"context"
	"fmt"
	"maps"
	"math"
	"testing"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/model"
)

// TestChampionJudgedOnTheCandidatesRows retrains models whose champion
// reads fields the candidate does not (and battery_volts with another
// default: 0 where the candidate reads 3.3), with a fraction holdout and
// with a test source. The champion must be evaluated on exactly the
// candidate's holdout rows, as it reads them: the same as evaluating the
// champion's model directly on those records, and not the same as on the
// candidate's mapped values. Promotion follows the comparison.
func TestChampionJudgedOnTheCandidatesRows(t *testing.T) {
	s := newStack(t)
	history, later := sensorRows(1, 2000), sensorRows(2, 600)
	s.produce("history", history)
	s.produce("later", later)
	cat := s.catalog()
	runner := s.runner(cat)
	ctx := context.Background()
	options := func(features []string, battery float64, trees int) fit.Options {
		t.Helper()
		opts, err := fit.ParseOptions(fmt.Appendf(nil, `{"family": "gbdt", "features": %s, "defaults": {"battery_volts": %g}, "label": "anomaly", "params": {"num_trees": %d}}`,
			mustJSON(t, append(features, "battery_volts")), battery, trees))
		if err != nil {
			t.Fatal(err)
		}
		return opts
	}
	strong := []string{"temperature", "humidity", "vibration", "rssi", "sound"}
	weak := []string{"pressure", "light"} // noise, bar the battery

	tests := []struct {
		name                string
		champion, candidate fit.Options
		test                *catalog.Source
		promoted            bool
	}{
		{"fraction holdout, the champion wins", options(strong, 0, 20), options(weak, 3.3, 3), nil, false},
		{"test source, the candidate wins", options(weak[:1], 0, 1), options(strong[:3], 3.3, 20), &catalog.Source{Topic: "later"}, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("judged-%d", i)
			first, err := runner.Run(ctx, jobs.Job{Name: name, Source: catalog.Source{Topic: "history"}, Options: tt.champion}, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			job := jobs.Job{Name: name, Source: catalog.Source{Topic: "history"}, TestSource: tt.test, Options: tt.candidate}
			if err := job.Validate(); err != nil {
				t.Fatal(err)
			}
			out, err := runner.Run(ctx, job, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			if out.Champion == nil {
				t.Fatalf("the champion was not evaluated: %s", out.Reason)
			}

			// The holdout's records: the newest 20% of the source's (every
			// row is usable by the candidate), or the test source's.
			var holdout []map[string]any
			if tt.test != nil {
				holdout = later
			} else {
				holdout = history[len(history)-int(math.Ceil(0.2*float64(len(history)))):]
			}
			want := evaluateVersion(t, cat, name, first.Version.Version, holdout)
			got := *out.Champion
			if got.Rows != len(holdout) || got.Rows != out.Result.Evaluation.Rows || !maps.Equal(got.Metrics, want.Metrics) {
				t.Errorf("champion evaluated on %d rows: %v; directly on the %d holdout records: %v (candidate: %d rows)",
					got.Rows, got.Metrics, len(holdout), want.Metrics, out.Result.Evaluation.Rows)
			}
			// The same rows with the candidate's battery default in place of
			// the absent values score otherwise: the champion's default
			// mattered, and was applied.
			mapped := make([]map[string]any, len(holdout))
			for i, r := range holdout {
				mapped[i] = maps.Clone(r)
				if r["battery_volts"] == nil {
					mapped[i]["battery_volts"] = 3.3
				}
			}
			if other := evaluateVersion(t, cat, name, first.Version.Version, mapped); maps.Equal(other.Metrics, want.Metrics) {
				t.Fatalf("the champion scores the same with battery_volts 3.3 (%v): the test cannot tell the rows apart", other.Metrics)
			}

			metric := tt.candidate.WithDefaults().Metric
			beats, err := fit.Beats(metric, out.Result.Evaluation.Metrics, want.Metrics)
			if err != nil {
				t.Fatal(err)
			}
			if out.Promoted != beats || beats != tt.promoted {
				t.Errorf("promoted %v (%s); the candidate's %s %v against the champion's %v: want promoted %v",
					out.Promoted, out.Reason, metric, out.Result.Evaluation.Metrics[metric], want.Metrics[metric], tt.promoted)
			}
			champion, err := cat.Resolve(name, jobs.AliasChampion)
			if err != nil {
				t.Fatal(err)
			}
			if wantVersion := map[bool]int{true: out.Version.Version, false: first.Version.Version}[beats]; champion.Version != wantVersion {
				t.Errorf("champion is v%d, want v%d", champion.Version, wantVersion)
			}
		})
	}
}

// evaluateVersion evaluates a published version directly on records.
func evaluateVersion(t *testing.T, cat jobs.Catalog, name string, version int, records []map[string]any) fit.Evaluation {
	t.Helper()
	artifact, err := cat.Artifact(context.Background(), name, version)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(artifact, model.Options{Version: fmt.Sprint(version)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ev, err := fit.EvaluateRows(m, fit.Records(records), "anomaly")
	if err != nil {
		t.Fatal(err)
	}
	return ev
}
