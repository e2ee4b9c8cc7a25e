package online

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestJoinReportsSklearnMetrics runs records through a join, champion and
// shadow, and checks each version's window report and the comparison
// against scikit-learn and the reference tests on the same pairs.
func TestJoinReportsSklearnMetrics(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	const records = 400
	t.Run("binary", func(t *testing.T) {
		cfg := binaryConfig()
		j := mustJoin(t, cfg)
		pairs := map[string]*binaryPairs{"v1": {}, "v2": {}}
		for i := range records {
			key, truth := fmt.Sprintf("r%d", i), r.IntN(2)
			for _, v := range []struct{ version, role string }{{"v1", RoleChampion}, {"v2", RoleShadow}} {
				s := float64(int(10*min(1, max(0, 0.5+0.3*(float64(truth)-0.5)+0.3*r.NormFloat64())))) / 10 // ties
				pairs[v.version].add(s, truth)
				predicted := cfg.Labels[pairs[v.version].predicted[i]]
				j.AddPrediction(Prediction{Key: key, Version: v.version, Role: v.role, Label: predicted, Score: s, At: at(float64(i) / 10)})
			}
			j.AddLabel(Label{Key: key, Class: cfg.Labels[truth], At: at(float64(i)/10 + 5)})
		}
		reports := j.Flush(at(60))
		if len(reports) != 2 {
			t.Fatalf("got %d reports, want the champion's and the shadow's", len(reports))
		}
		var in []map[string]any
		for _, v := range []string{"v1", "v2"} {
			in = append(in, map[string]any{"kind": "binary", "score": pairs[v].score, "predicted": pairs[v].predicted, "truth": pairs[v].truth})
		}
		in = append(in, map[string]any{"kind": "delong", "champion": pairs["v1"].score, "challenger": pairs["v2"].score, "truth": pairs["v1"].truth})
		want := reference[sklearnMetrics](t, in[:2])
		wantTest := reference[referenceTest](t, in[2:])[0]
		for i, rep := range reports {
			if rep.Labelled != records {
				t.Errorf("%s labelled %d, want %d", rep.Version, rep.Labelled, records)
			}
			checkClose(t, rep.Version+" ROC AUC", rep.ROCAUC, want[i].ROCAUC, sklearnTolerance)
			checkClose(t, rep.Version+" F1", rep.F1, want[i].F1, sklearnTolerance)
			checkClose(t, rep.Version+" log loss", rep.LogLoss, want[i].LogLoss, sklearnTolerance)
		}
		checkComparison(t, reports[0].Comparison, "v1", "v2", MetricROCAUC, TestDeLong, records, wantTest)
	})
	t.Run("multiclass", func(t *testing.T) {
		cases := multiclassCases()[0]
		cfg := Config{Task: TaskClassification, Labels: []string{"a", "b", "c", "d"}, Window: time.Minute, LabelWait: time.Minute}
		j := mustJoin(t, cfg)
		for i := range cases.truth {
			key := fmt.Sprintf("r%d", i)
			sec := float64(i) / 100
			j.AddLabel(Label{Key: key, Class: cfg.Labels[cases.truth[i]], At: at(sec)}) // labels first, this time
			j.AddPrediction(Prediction{Key: key, Version: "v1", Role: RoleChampion, Label: cfg.Labels[cases.predicted[i]], Scores: cases.scores[i], At: at(sec)})
		}
		reports := j.Flush(at(60))
		want := reference[sklearnMetrics](t, []map[string]any{{"kind": "multiclass", "classes": 4, "predicted": cases.predicted, "truth": cases.truth, "scores": cases.scores}})
		if len(reports) != 1 || reports[0].Labelled != int64(len(cases.truth)) {
			t.Fatalf("got %d reports (%+v), want 1 of %d records", len(reports), reports, len(cases.truth))
		}
		checkClose(t, "F1", reports[0].F1, want[0].F1, sklearnTolerance)
		checkClose(t, "log loss", reports[0].LogLoss, want[0].LogLoss, sklearnTolerance)
		if reports[0].ROCAUC != nil {
			t.Errorf("multiclass ROC AUC = %v, want nil", *reports[0].ROCAUC)
		}
	})
	t.Run("regression", func(t *testing.T) {
		j := mustJoin(t, Config{Task: TaskRegression, Window: time.Minute})
		var truths []float64
		values := map[string][]float64{}
		errs := map[string][]float64{}
		for i := range records {
			key, truth := fmt.Sprintf("r%d", i), 10*r.NormFloat64()
			truths = append(truths, truth)
			for _, v := range []struct {
				version, role string
				noise         float64
			}{{"v1", RoleChampion, 2}, {"v2", RoleShadow, 1.8}} {
				value := truth + v.noise*r.NormFloat64()
				values[v.version] = append(values[v.version], value)
				errs[v.version] = append(errs[v.version], max(value-truth, truth-value))
				j.AddPrediction(Prediction{Key: key, Version: v.version, Role: v.role, Score: value, At: at(float64(i) / 10)})
			}
			j.AddLabel(Label{Key: key, Value: truth, At: at(float64(i)/10 + 1)})
		}
		reports := j.Flush(at(60))
		want := reference[sklearnMetrics](t, []map[string]any{
			{"kind": "regression", "predicted": values["v1"], "truth": truths},
			{"kind": "regression", "predicted": values["v2"], "truth": truths},
		})
		wantTest := reference[referenceTest](t, []map[string]any{{"kind": "ttest", "champion": errs["v1"], "challenger": errs["v2"]}})[0]
		if len(reports) != 2 {
			t.Fatalf("got %d reports, want 2", len(reports))
		}
		for i, rep := range reports {
			checkClose(t, rep.Version+" RMSE", rep.RMSE, want[i].RMSE, sklearnTolerance)
			checkClose(t, rep.Version+" MAE", rep.MAE, want[i].MAE, sklearnTolerance)
		}
		checkComparison(t, reports[0].Comparison, "v1", "v2", MetricMAE, TestPairedT, records, wantTest)
	})
}

func checkComparison(t *testing.T, c *Comparison, champion, challenger, metric, test string, paired int64, want referenceTest) {
	t.Helper()
	if c == nil {
		t.Fatal("no comparison on the champion's report")
	}
	if c.ChampionVersion != champion || c.ChallengerVersion != challenger || c.Metric != metric || c.Test != test || c.Paired != paired {
		t.Errorf("comparison %+v, want %s against %s by %s on %s, %d paired", *c, challenger, champion, test, metric, paired)
	}
	checkTest(t, TestResult{Champion: c.Champion, Challenger: c.Challenger, Z: c.Z, PValue: c.PValue}, want)
}
