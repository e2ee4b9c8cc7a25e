package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/model"
)

// TestSensorHoldout checks that fit.Split, given sensorHoldout's
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
			train, hold := fit.Split(rows, holdout)
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
		{"categorical within", "damage", both(0.74, 0.24), both(0.745, 0.245), ""},
		{"categorical F1 over", "damage", both(0.74, 0.24), both(0.74, 0.26), "damage F1 -0.0200"},
		{"categorical multiclass AUC over", "time-of-day", both(0.70, 0.35), both(0.68, 0.35), "time-of-day AUC +0.0200"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			r := result{set: dataSets[tc.set], ours: tc.ours, theirs: tc.theirs}
			if r.set.numericOnly != nil {
				// A numeric-only twin well below the set on both sides.
				r.numericOnly = &result{set: *r.set.numericOnly, ours: both(0.51, 0), theirs: both(0.51, 0)}
			}
			err := report(&out, []result{r}, 0.01)
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

// TestReportCategoriesMatter checks the numeric-only twin of a categorical
// set: its own differences count, and the set fails where the categories
// add no more than the tolerance to either side's AUC.
func TestReportCategoriesMatter(t *testing.T) {
	both := func(auc, f1 float64) side { return side{auc: auc, f1: f1, hasAUC: true, duration: time.Second} }
	for _, tc := range []struct {
		name         string
		ours, theirs side // the numeric-only twin's
		fails        string
	}{
		{"categories add", both(0.51, 0), both(0.512, 0), ""},
		{"numeric only differs", both(0.51, 0), both(0.53, 0), "damage numeric only AUC -0.0200"},
		{"numeric only F1 differs", both(0.51, 0.1), both(0.51, 0.12), "damage numeric only F1 -0.0200"},
		{"nothing added to ours", both(0.735, 0), both(0.60, 0), "damage: the categories add +0.0050 AUC to ours"},
		{"nothing added to sklearn", both(0.60, 0), both(0.745, 0), "damage: the categories add -0.0050 AUC to sklearn"},
		{"no AUC numeric only", side{}, side{}, "damage: the categories add"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := dataSets["damage"]
			r := result{set: set, ours: both(0.74, 0.24), theirs: both(0.74, 0.24),
				numericOnly: &result{set: *set.numericOnly, ours: tc.ours, theirs: tc.theirs}}
			var out bytes.Buffer
			err := report(&out, []result{r}, 0.01)
			if !strings.Contains(out.String(), "  numeric only") {
				t.Errorf("no numeric-only row in\n%s", out.String())
			}
			if tc.fails == "" {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				if !strings.Contains(out.String(), "ours 0.7400 against 0.5100 (+0.2300)") {
					t.Errorf("no gain line in\n%s", out.String())
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
	all := setNames()
	if len(all) != len(dataSets) {
		t.Fatalf("setNames lists %d sets, dataSets holds %d", len(all), len(dataSets))
	}
	// Sets that share a topic are produced once (env.history): they must
	// agree on what is in it.
	byTopic := map[string]dataSet{}
	for _, name := range all {
		set := dataSets[name]
		if other, ok := byTopic[set.topic]; ok && (other.schema != set.schema || other.dir != set.dir) {
			t.Errorf("%s and %s share topic %s but not its schema and data", other.name, name, set.topic)
		}
		byTopic[set.topic] = set
	}
	for _, name := range all {
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
		if len(set.categorical) > 0 {
			checkCategorical(t, set, opts)
		}
	}
	// Each categorical set reads the strike reports' categorical columns,
	// but the label's source.
	for name, source := range map[string]string{"damage": "damage", "night": "time_of_day", "time-of-day": "time_of_day"} {
		set := dataSets[name]
		if len(set.categorical) == 0 || slices.Contains(set.features, source) {
			t.Errorf("%s: categorical features %q, features %q: want some, and no %s", name, set.categorical, set.features, source)
		}
		if want := len(strikeCategories) - len(set.categorical); want > 1 {
			t.Errorf("%s leaves %d categorical columns out", name, want)
		}
	}
}

// checkCategorical checks a categorical set: the trainer is given its
// features and nothing that makes them categorical (the schema does), its
// categorical features are among them, the label is not, and its
// numeric-only twin reads the same topic and label with no categorical
// feature.
func checkCategorical(t *testing.T, set dataSet, opts fit.Options) {
	t.Helper()
	if !slices.Equal(opts.Features, set.features) {
		t.Errorf("%s: trainer features %q, set features %q", set.name, opts.Features, set.features)
	}
	for _, c := range set.categorical {
		if !slices.Contains(set.features, c) || c == opts.Label {
			t.Errorf("%s: categorical %q not a feature, or the label", set.name, c)
		}
	}
	n := set.numericOnly
	if n == nil {
		t.Fatalf("%s: no numeric-only twin", set.name)
	}
	nopts, err := n.options(nil)
	if err != nil {
		t.Fatalf("%s: %v", n.name, err)
	}
	if len(n.categorical) > 0 || n.numericOnly != nil || n.topic != set.topic || nopts.Label != opts.Label {
		t.Errorf("%s: twin %+v", set.name, n)
	}
	for _, f := range nopts.Features {
		if slices.Contains(set.categorical, f) {
			t.Errorf("%s: numeric only reads %q", set.name, f)
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

// TestMixedRow checks the rows of a categorical set handed to scikit-learn:
// numbers as the trainer reads them, a category as its raw value (a string,
// an enum symbol, a union's branch), a null as nil.
func TestMixedRow(t *testing.T) {
	set := dataSets["damage"]
	row := map[string]any{
		"speed_knots": nil, "phase_of_flight": "Climb", "wildlife_size": "Large", "time_of_day": "Night",
		"origin_state": map[string]any{"string": "Texas"}, "airport": "DFW", "operator": nil,
		"aircraft": "MD-80", "wildlife_species": "Rock pigeon", "damaged": true,
	}
	got, err := set.python(row)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{float32(-1), "Climb", "Large", "Night", "Texas", "DFW", nil, "MD-80", "Rock pigeon"}
	if x := got["x"].([]any); !slices.Equal(x, want) || got["y"] != 1 {
		t.Fatalf("row %v, want x %v and y 1", got, want)
	}
	twin, err := set.numericOnly.python(row)
	if err != nil {
		t.Fatal(err)
	}
	if x := twin["x"].([]float32); len(x) != 1 || x[0] != -1 {
		t.Fatalf("numeric-only row %v", twin)
	}
	for _, bad := range []any{1.5, []any{"a"}} {
		row["airport"] = bad
		if _, err := set.python(row); err == nil || !strings.Contains(err.Error(), "airport") {
			t.Errorf("airport %v: error %v, want one naming airport", bad, err)
		}
	}
	for v, want := range map[any]string{int32(7): "7", int64(-3): "-3", true: "true", "x": "x"} {
		if got, present, err := category(v); err != nil || !present || got != want {
			t.Errorf("category(%v) = %q, %v, %v; want %q", v, got, present, err, want)
		}
	}
	row["airport"] = "DFW"
	row["night"] = true
	got, err = dataSets["night"].python(row)
	if err != nil || got["y"] != 1 || len(got["x"].([]any)) != 8 || slices.Contains(got["x"].([]any), any("Night")) {
		t.Fatalf("night row %v, %v: want y 1 and no time of day", got, err)
	}
	row["time_of_day"] = "Dusk"
	got, err = dataSets["time-of-day"].python(row)
	if err != nil || got["y"] != "Dusk" || len(got["x"].([]any)) != 8 {
		t.Fatalf("time-of-day row %v, %v", got, err)
	}
}

// TestEncodeCategories runs reference.py's encoding: tables from the
// training rows only, most frequent first, ties by value, capped; codes
// len(table) for other (cut by the cap, or new in the holdout) and
// len(table)+1 for null, as the trainer's.
func TestEncodeCategories(t *testing.T) {
	script := `
import json, sys
sys.path.insert(0, ".")
from reference import encode_categories
train = [[1.0, "b", "x"], [2.0, "a", "x"], [3.0, "c", None], [4.0, "b", "y"], [5.0, "a", "y"], [6.0, "c", "y"], [7.0, "d", "x"]]
hold = [[8.0, "a", "z"], [9.0, "d", None], [10.0, None, "x"]]
tables = encode_categories(train, hold, [1, 2], [3, 3])
json.dump({"tables": tables, "train": train, "hold": hold}, sys.stdout)
`
	out, err := exec.Command("/usr/bin/python3", "-c", script).Output()
	if err != nil {
		t.Fatalf("python3 (python3-sklearn, make setup): %v", err)
	}
	var got struct {
		Tables      [][]string
		Train, Hold [][]float64
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	// Column 1: a, b, c twice each (ties by value), d once and cut by the
	// cap of 3. Column 2: y thrice, x thrice, by value; a null.
	wantTables := [][]string{{"a", "b", "c"}, {"x", "y"}}
	if len(got.Tables) != 2 || !slices.Equal(got.Tables[0], wantTables[0]) || !slices.Equal(got.Tables[1], wantTables[1]) {
		t.Fatalf("tables %q, want %q", got.Tables, wantTables)
	}
	wantTrain := [][]float64{{1, 1, 0}, {2, 0, 0}, {3, 2, 3}, {4, 1, 1}, {5, 0, 1}, {6, 2, 1}, {7, 3, 0}}
	wantHold := [][]float64{{8, 0, 2}, {9, 3, 3}, {10, 4, 0}}
	for i := range wantTrain {
		if !slices.Equal(got.Train[i], wantTrain[i]) {
			t.Errorf("train row %d %v, want %v", i, got.Train[i], wantTrain[i])
		}
	}
	for i := range wantHold {
		if !slices.Equal(got.Hold[i], wantHold[i]) {
			t.Errorf("holdout row %d %v, want %v", i, got.Hold[i], wantHold[i])
		}
	}
}

// TestReferenceCategorical runs reference.py end to end on rows whose
// label a category decides and a number does not: it must print the
// tables it learnt and score the holdout all but perfectly.
func TestReferenceCategorical(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rows.jsonl")
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	cats := []string{"red", "green", "blue", "grey"}
	for i := range 400 {
		split := "train"
		if i >= 300 {
			split = "holdout"
		}
		c := cats[i%len(cats)]
		var v any = c
		if i%13 == 0 {
			v = nil
		}
		y := 0
		if c == "green" || c == "grey" { // not a run of codes: a category set
			y = 1
		}
		if err := enc.Encode(map[string]any{"split": split, "x": []any{float64(i % 7), v}, "y": y}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", "reference.py", "--model", "gbdt", "--task", "binary", "--data", path,
		"--categorical", "1", "--max-categories", "253")
	cmd.Env = append(os.Environ(), "OMP_WAIT_POLICY=PASSIVE")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reference.py: %v", err)
	}
	var got struct {
		AUC        float64
		Categories [][]string
		Params     map[string]any
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if len(got.Categories) != 1 || len(got.Categories[0]) != 4 {
		t.Fatalf("categories %q, want one table of 4", got.Categories)
	}
	if fmt.Sprint(got.Params["categorical_features"]) != "[1]" {
		t.Errorf("params %v, want categorical_features [1]", got.Params)
	}
	if got.AUC < 0.99 {
		t.Errorf("AUC %v: the category decides the label", got.AUC)
	}
}

// TestCategoryCaps resolves each categorical set's options against its
// schema file, as the run does against the registry's copy: the schema's
// strings and enums, and only they, become categorical, each capped at the
// trainer's default.
func TestCategoryCaps(t *testing.T) {
	for _, name := range []string{"damage", "night", "time-of-day", "birdstrikes"} {
		t.Run(name, func(t *testing.T) {
			set := dataSets[name]
			text, err := os.ReadFile(filepath.Join("..", "..", "schemas", set.schema))
			if err != nil {
				t.Fatal(err)
			}
			schema, err := avropath.ParseSchema(string(text))
			if err != nil {
				t.Fatal(err)
			}
			opts, err := set.options(nil)
			if err != nil {
				t.Fatal(err)
			}
			if opts, err = opts.Resolve(schema, set.schema); err != nil {
				t.Fatal(err)
			}
			caps, err := categoryCaps(set, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(caps) != len(set.categorical) {
				t.Fatalf("caps %v for categorical %q", caps, set.categorical)
			}
			for _, c := range caps {
				if c != fit.DefaultMaxCategories {
					t.Errorf("cap %d, want the default %d", c, fit.DefaultMaxCategories)
				}
			}
			// Features read as numbers are not categorical to the set.
			set.categorical = append(slices.Clone(set.categorical), "speed_knots")
			if _, err := categoryCaps(set, opts); err == nil {
				t.Error("a set naming a numeric feature categorical: no error")
			}
		})
	}
}

// TestSameCategories checks the comparison of the trainer's category
// tables (in its model's spec) with scikit-learn's: equal tables in column
// order pass; another order, another category or another categorical
// feature fail.
func TestSameCategories(t *testing.T) {
	set := dataSet{name: "s", categorical: []string{"a", "b"}}
	spec := model.Spec{Inputs: []model.Input{{Name: "features", Fields: []model.Feature{
		{Field: "x"}, {Field: "a", Categories: []string{"p", "q"}}, {Field: "b", Categories: []string{"r"}},
	}}}}
	tables, err := sameCategories(set, spec, [][]string{{"p", "q"}, {"r"}})
	if err != nil || len(tables) != 2 || tables[0].feature != "a" || len(tables[1].categories) != 1 {
		t.Fatalf("tables %v, %v", tables, err)
	}
	for _, tc := range []struct {
		name   string
		theirs [][]string
		set    []string
		fails  string
	}{
		{"order", [][]string{{"q", "p"}, {"r"}}, nil, `a: the trainer's categories ["p" "q"], scikit-learn's ["q" "p"]`},
		{"category", [][]string{{"p", "q"}, {"s"}}, nil, "b: the trainer's"},
		{"tables", [][]string{{"p", "q"}}, nil, "reference.py learnt 1 category tables, the trainer 2"},
		{"features", [][]string{{"p", "q"}, {"r"}}, []string{"a"}, `the trainer read ["a" "b"] as categories, want ["a"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := set
			if tc.set != nil {
				s.categorical = tc.set
			}
			if _, err := sameCategories(s, spec, tc.theirs); err == nil || !strings.Contains(err.Error(), tc.fails) {
				t.Fatalf("error %v, want one naming %q", err, tc.fails)
			}
		})
	}
}
