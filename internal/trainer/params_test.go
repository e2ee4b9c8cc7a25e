package trainer

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/train"
)

// parseParams parses options of family and task with params and returns
// the training configuration, or the error.
func parseParams(t *testing.T, family, task, params string) (any, error) {
	t.Helper()
	inputs := `"features": ["a"]`
	if family == "text" {
		inputs = `"text": "t"`
	}
	body := `{"family": "` + family + `", "task": "` + task + `", ` + inputs + `, "label": "y", "params": ` + params + `}`
	opts, err := ParseOptions([]byte(body))
	if err != nil {
		return nil, err
	}
	return opts.params()
}

func TestGBDTParamsFollowScikitLearn(t *testing.T) {
	tests := []struct {
		name, task, params string
		check              func(c train.Config) bool
	}{
		{"defaults", "classification", `{}`, func(c train.Config) bool {
			return c.MaxIter == 100 && c.MaxLeafNodes == 31 && c.MaxDepth == 0 && c.EarlyStopping == train.EarlyStoppingAuto && c.Tol == 1e-7
		}},
		{"new names", "classification", `{"max_iter": 7, "l2_regularization": 0.5, "random_state": 3, "max_leaf_nodes": 15, "max_depth": 4}`, func(c train.Config) bool {
			return c.MaxIter == 7 && c.L2Regularization == 0.5 && c.Seed == 3 && c.MaxLeafNodes == 15 && c.MaxDepth == 4
		}},
		{"old names as aliases", "classification", `{"num_trees": 7, "l2": 0.5, "seed": 3}`, func(c train.Config) bool {
			return c.MaxIter == 7 && c.L2Regularization == 0.5 && c.Seed == 3
		}},
		{"null leaves and depth: no limit", "classification", `{"max_leaf_nodes": null, "max_depth": null}`, func(c train.Config) bool {
			return c.MaxLeafNodes == 0 && c.MaxDepth == 0
		}},
		{"early stopping on", "regression", `{"early_stopping": true, "validation_fraction": 0.2, "n_iter_no_change": 5, "tol": 0}`, func(c train.Config) bool {
			return c.EarlyStopping == train.EarlyStoppingOn && c.ValidationFraction == 0.2 && c.NIterNoChange == 5 && c.Tol == 0
		}},
		{"early stopping off", "classification", `{"early_stopping": false}`, func(c train.Config) bool { return c.EarlyStopping == train.EarlyStoppingOff }},
		{"early stopping auto", "classification", `{"early_stopping": "auto"}`, func(c train.Config) bool { return c.EarlyStopping == train.EarlyStoppingAuto }},
		{"balanced classes", "classification", `{"class_weight": "balanced"}`, func(c train.Config) bool { return c.ClassWeight.Balanced }},
		{"no class weight", "classification", `{"class_weight": null}`, func(c train.Config) bool { return !c.ClassWeight.Balanced }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseParams(t, "gbdt", tt.task, tt.params)
			if err != nil {
				t.Fatal(err)
			}
			if c := cfg.(train.Config); !tt.check(c) {
				t.Errorf("params %s gave %+v", tt.params, c)
			}
		})
	}
}

func TestParamsRefusedNameTheProblem(t *testing.T) {
	tests := []struct {
		name, family, task, params, errContains string
	}{
		{"old and new name", "gbdt", "classification", `{"num_trees": 7, "max_iter": 8}`, "params: num_trees: renamed max_iter; give only max_iter"},
		{"old and new l2", "gbdt", "classification", `{"l2": 1, "l2_regularization": 2}`, "l2: renamed l2_regularization"},
		{"zero leaves", "gbdt", "classification", `{"max_leaf_nodes": 0}`, "0 must be at least 1, or null for no limit"},
		{"one leaf", "gbdt", "classification", `{"max_leaf_nodes": 1}`, "MaxLeafNodes 1 must be at least 2"},
		{"early stopping of a wrong value", "gbdt", "classification", `{"early_stopping": "yes"}`, `early_stopping: "yes" is not one of "auto", true, false`},
		{"per-class weights", "gbdt", "classification", `{"class_weight": {"a": 2}}`, "per-class weights are not supported"},
		{"class weights of a regressor", "gbdt", "regression", `{"class_weight": "balanced"}`, "class_weight: a regressor takes none"},
		{"linear old and new name", "linear", "classification", `{"max_iterations": 5, "max_iter": 6}`, "max_iterations: renamed max_iter"},
		{"ridge with class weights", "linear", "regression", `{"class_weight": "balanced"}`, "ClassWeight is for classifiers"},
		{"text old and new n-grams", "text", "classification", `{"min_ngram": 1, "ngram_range": [1, 3]}`, "renamed ngram_range"},
		{"text n-gram range of three", "text", "classification", `{"ngram_range": [1, 2, 3]}`, "ngram_range: want [min_n, max_n]"},
		{"text max_features 0", "text", "classification", `{"max_features": 0}`, "0 must be at least 1, or null for no limit"},
		{"text max_features beyond the bound", "text", "classification", `{"max_features": 2000001}`, "MaxFeatures 2000001 not in [0 (no cap), 2000000]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseParams(t, tt.family, tt.task, tt.params)
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Errorf("error %v, want one containing %q", err, tt.errContains)
			}
		})
	}
}

func TestLinearAndTextParamsFollowScikitLearn(t *testing.T) {
	cfg, err := parseParams(t, "linear", "classification", `{"c": 0.5, "max_iterations": 50, "tol": 1e-6, "class_weight": "balanced"}`)
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.(train.LinearConfig); c.C != 0.5 || c.MaxIterations != 50 || c.Tolerance != 1e-6 || !c.ClassWeight.Balanced {
		t.Errorf("linear params with old names gave %+v", c)
	}
	cfg, err = parseParams(t, "text", "classification", `{"ngram_range": [1, 3], "C": 2, "max_iter": 30, "sublinear_tf": false, "class_weight": "balanced"}`)
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.(train.TextConfig); c.MinNGram != 1 || c.MaxNGram != 3 || c.C != 2 || c.MaxIterations != 30 || c.SublinearTF || !c.ClassWeight.Balanced {
		t.Errorf("text params gave %+v", c)
	}
	for params, want := range map[string]int{`{}`: 0, `{"max_features": null}`: 0, `{"max_features": 500}`: 500} {
		cfg, err = parseParams(t, "text", "classification", params)
		if err != nil {
			t.Fatal(err)
		}
		if c := cfg.(train.TextConfig); c.MaxFeatures != want {
			t.Errorf("text params %s gave MaxFeatures %d, want %d", params, c.MaxFeatures, want)
		}
	}
	cfg, err = parseParams(t, "text", "classification", `{"min_ngram": 2, "max_ngram": 2, "max_iterations": 30}`)
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.(train.TextConfig); c.MinNGram != 2 || c.MaxNGram != 2 || c.MaxIterations != 30 {
		t.Errorf("text params with old names gave %+v", c)
	}
}

// TestEffectiveParamsReadBack checks that the parameters stored with a
// version, under the new names, parse back into the same configuration.
func TestEffectiveParamsReadBack(t *testing.T) {
	for _, tt := range []struct{ family, task, params string }{
		{"gbdt", "classification", `{"num_trees": 7, "max_leaf_nodes": null, "max_depth": 3, "early_stopping": false, "class_weight": "balanced"}`},
		{"gbdt", "regression", `{}`},
		{"linear", "classification", `{"class_weight": "balanced"}`},
		{"linear", "regression", `{"alpha": 3}`},
		{"text", "classification", `{"min_ngram": 1, "max_ngram": 3}`},
		{"text", "classification", `{"max_features": 500, "min_df": 2, "sublinear_tf": true}`},
	} {
		cfg, err := parseParams(t, tt.family, tt.task, tt.params)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := json.Marshal(effectiveParams(cfg))
		if err != nil {
			t.Fatal(err)
		}
		for _, old := range []string{"num_trees", `"l2"`, `"seed"`, "min_ngram", "max_iterations"} {
			if strings.Contains(string(stored), old) {
				t.Errorf("%s params stored as %s, with the old name %s", tt.family, stored, old)
			}
		}
		again, err := parseParams(t, tt.family, tt.task, string(stored))
		if err != nil {
			t.Fatalf("stored params %s: %v", stored, err)
		}
		if a, b := mustJSON(t, effectiveParams(again)), string(stored); a != b {
			t.Errorf("%s: stored %s, read back as %s", tt.family, b, a)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// textFixed are the TfidfVectorizer and LogisticRegression parameters a
// text model has no option for, and the values it always follows: its
// tokenizer is scikit-learn's token_pattern (TestTextWordsAreScikitLearns
// in internal/train), its idf the smooth one (TestFitTextVocabularyAndWeights),
// and it never drops frequent terms (max_df).
var textFixed = map[string]any{
	"analyzer": "word", "lowercase": true, "token_pattern": `(?u)\b\w\w+\b`, "strip_accents": nil,
	"stop_words": nil, "vocabulary": nil, "max_df": 1.0, "binary": false,
	"norm": "l2", "use_idf": true, "smooth_idf": true,
	"penalty": "l2", "fit_intercept": true, "solver": "lbfgs",
}

// TestDefaultParamsAreScikitLearns compares the stored parameters of a
// model trained at the defaults with scikit-learn's get_params() of the
// estimators each family follows, name by name: for the text family,
// TfidfVectorizer's and LogisticRegression's, the parameters it has no
// option for included (textFixed).
func TestDefaultParamsAreScikitLearns(t *testing.T) {
	script := `
import json
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
print(json.dumps({k: m().get_params() for k, m in [("gbdt/classification", HistGradientBoostingClassifier),
    ("gbdt/regression", HistGradientBoostingRegressor), ("linear/classification", LogisticRegression),
    ("linear/regression", Ridge)]} | {"text/classification": {**TfidfVectorizer().get_params(),
    **LogisticRegression().get_params()}}, default=str))`
	out, err := exec.Command("/usr/bin/python3", "-c", script).Output()
	if err != nil {
		t.Fatalf("scikit-learn's get_params (python3-sklearn is needed): %v", err)
	}
	var sklearn map[string]map[string]any
	if err := json.Unmarshal(out, &sklearn); err != nil {
		t.Fatal(err)
	}
	oursAlone := map[string]bool{"ascii_lowercase": true, "char_min_ngram": true, "char_max_ngram": true}
	for key, theirs := range sklearn {
		family, task, _ := strings.Cut(key, "/")
		cfg, err := parseParams(t, family, task, `{}`)
		if err != nil {
			t.Fatal(err)
		}
		var ours map[string]any
		if err := json.Unmarshal([]byte(mustJSON(t, effectiveParams(cfg))), &ours); err != nil {
			t.Fatal(err)
		}
		if family == "text" {
			for name, v := range textFixed {
				if _, ok := ours[name]; ok {
					t.Errorf("%s %s: a parameter of ours, and in textFixed", key, name)
				}
				ours[name] = v
			}
		}
		for name, v := range ours {
			want, ok := theirs[name]
			if !ok {
				if !oursAlone[name] {
					t.Errorf("%s %s: scikit-learn has no such parameter", key, name)
				}
				continue
			}
			if name == "random_state" { // scikit-learn's None draws a seed; ours is fixed, 0
				continue
			}
			if mustJSON(t, v) != mustJSON(t, want) {
				t.Errorf("%s %s: default %s, scikit-learn's %s", key, name, mustJSON(t, v), mustJSON(t, want))
			}
		}
		t.Logf("%s: %s", key, mustJSON(t, ours))
	}
}
