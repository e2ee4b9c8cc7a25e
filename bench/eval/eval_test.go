package main

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/trainer"
)

// TestSensorHoldout checks that trainer.Split, given sensorHoldout's
// fraction, starts the holdout exactly at the median anomalous row.
func TestSensorHoldout(t *testing.T) {
	for _, tc := range []struct {
		name      string
		n         int
		anomalous []int
		from      int
	}{
		{"two", 10, []int{3, 4}, 4},
		{"odd count", 18914, []int{9000, 9001, 9002, 9003, 9004}, 9002},
		{"first half", 7, []int{0, 1, 2, 3}, 2},
		{"last row", 5, []int{3, 4}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := make([]map[string]any, tc.n)
			for i := range rows {
				rows[i] = map[string]any{"anomaly": false}
			}
			for _, i := range tc.anomalous {
				rows[i]["anomaly"] = true
			}
			holdout, err := sensorHoldout(rows)
			if err != nil {
				t.Fatal(err)
			}
			train, hold := trainer.Split(rows, holdout)
			if len(train) != tc.from || len(hold) != tc.n-tc.from {
				t.Fatalf("split %d/%d, want the holdout from row %d", len(train), len(hold), tc.from)
			}
		})
	}
	if _, err := sensorHoldout([]map[string]any{{"anomaly": true}, {"anomaly": false}}); err == nil {
		t.Fatal("one anomaly split without an error")
	}
}

func TestReportTolerance(t *testing.T) {
	both := func(auc, f1 float64) side { return side{auc: auc, f1: f1, hasAUC: true, duration: time.Second} }
	r2 := func(r2 float64) side { return side{r2: r2, rmse: 1, duration: time.Second} }
	stopped := func(s side, n int) side { s.iterations, s.stopped = n, true; return s }
	ran := func(s side, n int) side { s.iterations = n; return s }
	for _, tc := range []struct {
		name         string
		set          string
		ours, theirs side
		fails        string
	}{
		{"within", "sensors", both(0.95, 0.80), both(0.945, 0.809), ""},
		{"AUC over", "sensors", both(0.95, 0.80), both(0.939, 0.80), "AUC +0.0110"},
		{"F1 over", "sensors", both(0.95, 0.80), both(0.95, 0.789), "F1 +0.0110"},
		{"AUC on one side only", "sensors", side{f1: 0.5}, both(0.9, 0.5), "AUC defined on one side only"},
		{"AUC on neither side", "sensors", side{f1: 0.5}, side{f1: 0.5}, ""},
		{"multiclass F1 over", "digits", both(0.99, 0.90), both(0.99, 0.92), "digits F1 -0.0200"},
		{"R² within", "weather", r2(0.881), r2(0.89), ""},
		{"R² over", "weather", r2(0.87), r2(0.89), "weather R² -0.0200"},
		{"R² not a number", "weather", r2(math.NaN()), r2(0.89), "weather R² +NaN"},
		{"both stop early", "syllables", stopped(r2(0.78), 60), stopped(r2(0.78), 70), ""},
		{"sklearn ran to the end", "syllables", stopped(r2(0.78), 60), ran(r2(0.78), 100), "syllables: sklearn did not stop early (n_iter 100)"},
		{"ours ran to the end", "syllables", ran(r2(0.78), 100), stopped(r2(0.78), 70), "syllables: ours did not stop early (n_iter 100)"},
		{"classifier stops early", "miscounts", stopped(both(0.75, 0.49), 55), stopped(both(0.75, 0.49), 60), ""},
		{"classifier ran to the end", "miscounts", ran(both(0.75, 0.49), 100), stopped(both(0.75, 0.49), 60), "miscounts: ours did not stop early (n_iter 100)"},
		{"classifier not early-stopping", "sensors", ran(both(0.95, 0.80), 100), ran(both(0.95, 0.80), 100), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := report(&out, []result{{set: dataSets[tc.set], ours: tc.ours, theirs: tc.theirs}}, 0.01)
			if tc.fails == "" {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				return
			}
			if !errors.Is(err, errTolerance) || !strings.Contains(err.Error(), tc.fails) {
				t.Fatalf("error %v, want errTolerance naming %q", err, tc.fails)
			}
		})
	}
}

// TestDataSets checks that every set's trainer options parse and that its
// task and the trainer's agree.
func TestDataSets(t *testing.T) {
	if len(setNames()) != len(dataSets) {
		t.Fatalf("setNames lists %d sets, dataSets holds %d", len(setNames()), len(dataSets))
	}
	// Sets that share a topic are produced once (env.history): they must
	// agree on what is in it.
	byTopic := map[string]dataSet{}
	for _, name := range setNames() {
		set := dataSets[name]
		if other, ok := byTopic[set.topic]; ok && (other.schema != set.schema || other.dir != set.dir) {
			t.Errorf("%s and %s share topic %s but not its schema and data", other.name, name, set.topic)
		}
		byTopic[set.topic] = set
	}
	for _, name := range setNames() {
		set, ok := dataSets[name]
		if !ok || set.name != name {
			t.Fatalf("set %q missing or misnamed", name)
		}
		if name == "sensors" {
			continue // its options need rows
		}
		opts, err := set.options(nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if (opts.Task == "regression") != (set.task == regressionTask) {
			t.Errorf("%s: trainer task %q, eval task %q", name, opts.Task, set.task)
		}
	}
}

// TestNumericRow checks the rows handed to scikit-learn read features as
// the trainer does, a null through its default.
func TestNumericRow(t *testing.T) {
	row := map[string]any{
		"speed_knots": nil, "phase_code": int32(3), "wildlife_size_code": int32(1), "time_of_day_code": int32(2),
		"state_code": int32(4), "airport_code": int32(5), "operator_code": int32(6), "aircraft_code": int32(7),
		"species_code": int32(8), "substantial_damage": true,
	}
	got, err := dataSets["birdstrikes"].python(row)
	if err != nil {
		t.Fatal(err)
	}
	if x := got["x"].([]float32); x[0] != -1 || x[1] != 3 || got["y"] != 1 {
		t.Fatalf("row %v", got)
	}
	row["speed_knots"] = map[string]any{"int": int32(140)}
	if got, err = dataSets["birdstrikes"].python(row); err != nil || got["x"].([]float32)[0] != 140 {
		t.Fatalf("row %v, %v", got, err)
	}
	delete(row, "phase_code")
	if _, err := dataSets["birdstrikes"].python(row); err == nil {
		t.Fatal("a missing feature without a default: no error")
	}
}
