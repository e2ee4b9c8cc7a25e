package fit_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/fit"
)

// categoricalRows are rows whose label depends on a site (a string read
// as categories) and a number: sites s00 to s09, the first ones far more
// frequent; the last rows (the holdout) also meet sites training never
// saw (new-0, new-1). Every seventh row has no site.
func categoricalRows(n int) (rows []map[string]any) {
	for i := range n {
		site := fmt.Sprintf("s%02d", (i*i+i/3)%10*(i%4)/3)
		if i >= n*4/5 && i%5 == 0 {
			site = fmt.Sprintf("new-%d", i%2)
		}
		x := float64(i%17) / 17
		hot := site == "s01" || site == "s04" || site == "new-1"
		rec := map[string]any{
			"x":    x,
			"y":    hot != (x > 0.8),
			"ts":   time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 37 * time.Minute).UnixMilli(),
			"meta": map[string]any{"site": site},
		}
		if i%7 == 0 {
			delete(rec["meta"].(map[string]any), "site")
		}
		rows = append(rows, rec)
	}
	return rows
}

// outside counts the rows whose site is not in table (nulls aside): what
// a dead_letter model refuses.
func outside(rows []map[string]any, table []string) int {
	n := 0
	for _, r := range rows {
		if site, ok := r["meta"].(map[string]any)["site"]; ok && !slices.Contains(table, site.(string)) {
			n++
		}
	}
	return n
}

// TestFitRowsCategorical trains on rows with a categorical feature at a
// nested path, its table learnt from the training rows (most frequent
// first, capped by max), and evaluates on a holdout that meets unseen
// values: read as "other" by default, refused and counted
// (unknown_category) with dead_letter, read as the stand-in with
// category. Go and ONNX Runtime agree on every holdout row either way.
func TestFitRowsCategorical(t *testing.T) {
	rows := categoricalRows(2000)
	train := rows[:1600]
	for _, tt := range []struct {
		name, family, setting string
		deadLetter            bool
	}{
		{"gbdt other", "gbdt", `{"max": 6}`, false},
		{"gbdt dead letter", "gbdt", `{"max": 6, "unknown": "dead_letter"}`, true},
		{"gbdt stand-in", "gbdt", `{"max": 6, "unknown": "category", "unknown_category": "s09"}`, false},
		{"linear other", "linear", `{}`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := fit.ParseOptions(fmt.Appendf(nil, `{"family": %q, "features": ["x", "meta.site", "ts"], "label": "y",
				"categorical": {"meta.site": %s}, "time_parts": {"ts": ["hour_of_day", "day_of_week"]}, "params": {"max_iter": 30}}`, tt.family, tt.setting))
			if err != nil {
				t.Fatal(err)
			}
			res, err := fit.FitRows(context.Background(), "sites", opts, fit.Records(rows), nil)
			if err != nil {
				t.Fatal(err)
			}
			site := res.Spec.Inputs[0].Fields[1]
			want := learntTable(t, train, "meta.site", 6)
			if tt.family == "linear" {
				want = learntTable(t, train, "meta.site", fit.DefaultMaxCategories)
			}
			if tt.name == "gbdt stand-in" {
				want = append(want[:5], "s09")
			}
			if !slices.Equal(site.Categories, want) {
				t.Errorf("categories %q, want %q", site.Categories, want)
			}
			// With dead_letter, the holdout's unseen sites and those too
			// rare to be kept are refused, as the scorer would refuse them.
			skipped := 0
			if tt.deadLetter {
				skipped = outside(rows[1600:], site.Categories)
			}
			if got := res.Evaluation.Skipped["unknown_category"]; got != skipped || res.Evaluation.Rows != 400-skipped || (tt.deadLetter && skipped < 80) {
				t.Errorf("holdout: %d rows scored, skipped %v; want %d unknown_category", res.Evaluation.Rows, res.Evaluation.Skipped, skipped)
			}
			// With dead_letter, training rows whose site the table cuts
			// are skipped too: the scorer would refuse them, so the model
			// must not learn the other code from them.
			cut := 0
			if tt.deadLetter {
				cut = outside(train, site.Categories)
			}
			if got := res.Skipped["unknown_category"]; got != cut || res.TrainRows != 1600-cut || (tt.deadLetter && cut == 0) {
				t.Errorf("training: %d rows, skipped %v; want %d unknown_category", res.TrainRows, res.Skipped, cut)
			}
			if res.Divergence > fit.ParityTolerance {
				t.Errorf("Go and ONNX Runtime differ by %g", res.Divergence)
			}
			if auc := res.Evaluation.Metrics["auc"]; auc < 0.8 {
				t.Errorf("holdout AUC %.3f: the site was not learnt from", auc)
			}
			if cols := res.Spec.Inputs[0].Fields; len(cols) != 4 || cols[2].Part != fit.PartHourOfDay || cols[3].Part != fit.PartDayOfWeek {
				t.Errorf("columns %+v", cols)
			}
		})
	}
}

// TestFitRowsArrays reads a whole array as its columns: without a pad a
// short array skips its row (short_array) and a long one too (wrong_type);
// with a pad the short ones train, padded.
func TestFitRowsArrays(t *testing.T) {
	var rows []map[string]any
	short, long := 0, 0
	for i := range 1000 {
		w := []any{float64(i % 7), float64(i % 3), float64(i % 5)}
		switch {
		case i%11 == 0:
			w, short = w[:2], short+1
		case i%13 == 0:
			w, long = append(w, 1.0), long+1
		}
		rows = append(rows, map[string]any{"w": w, "y": i%7 > 3})
	}
	for _, tt := range []struct {
		pad  string
		want map[string]int
	}{
		{"", map[string]int{"short_array": short, "wrong_type": long}},
		{`, "pad": 0`, map[string]int{"wrong_type": long}},
	} {
		opts, err := fit.ParseOptions(fmt.Appendf(nil, `{"family": "gbdt", "features": ["w"], "label": "y", "arrays": {"w": {"length": 3%s}}, "params": {"max_iter": 10}}`, tt.pad))
		if err != nil {
			t.Fatal(err)
		}
		res, err := fit.FitRows(context.Background(), "w", opts, fit.Records(rows), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(nonZeroCounts(res.Skipped), tt.want) {
			t.Errorf("pad %q: skipped %v, want %v", tt.pad, res.Skipped, tt.want)
		}
		if f := res.Spec.Inputs[0].Fields; len(f) != 1 || f[0].Length != 3 || res.Divergence > fit.ParityTolerance {
			t.Errorf("pad %q: spec %+v, divergence %g", tt.pad, f, res.Divergence)
		}
	}
}

// TestFitRowsCategoricalNullEverywhere refuses a categorical feature that
// no training row has: there is nothing to learn.
func TestFitRowsCategoricalNullEverywhere(t *testing.T) {
	rows := categoricalRows(200)
	for _, r := range rows {
		delete(r, "meta")
	}
	opts, err := fit.ParseOptions([]byte(`{"family": "gbdt", "features": ["x", "meta.site"], "label": "y", "categorical": {"meta.site": {}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fit.FitRows(context.Background(), "sites", opts, fit.Records(rows), nil); err == nil {
		t.Fatal("trained on a categorical feature with no value")
	}
}

// TestFitRowsCategoricalSampled keeps a sample of the rows: the tables
// are learnt from the kept training rows, which are all the model reads.
func TestFitRowsCategoricalSampled(t *testing.T) {
	rows := categoricalRows(3000)
	opts, err := fit.ParseOptions([]byte(`{"family": "gbdt", "features": ["x", "meta.site"], "label": "y",
		"categorical": {"meta.site": {}}, "sample": {"max_rows": 800, "seed": 3}, "params": {"max_iter": 20}}`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := fit.FitRows(context.Background(), "sites", opts, fit.Records(rows), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.TrainRows+res.Evaluation.Rows != 800 || res.Divergence > fit.ParityTolerance {
		t.Errorf("%d rows trained, %d evaluated, divergence %g", res.TrainRows, res.Evaluation.Rows, res.Divergence)
	}
	site := res.Spec.Inputs[0].Fields[1]
	if len(site.Categories) == 0 || slices.Contains(site.Categories, "new-0") || slices.Contains(site.Categories, "new-1") {
		t.Errorf("categories %q: want the training rows' sites, none of the holdout's unseen ones", site.Categories)
	}
}
