package fit

import (
	"cmp"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/model"
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
		{"old and new name", "gbdt", "classification", `{"num_trees": 7, "max_iter": 8}`, "invalid model options: params.num_trees: renamed max_iter; give only max_iter"},
		{"old and new l2", "gbdt", "classification", `{"l2": 1, "l2_regularization": 2}`, "params.l2: renamed l2_regularization"},
		{"one leaf", "gbdt", "classification", `{"max_leaf_nodes": 1}`, "params.max_leaf_nodes: 1 is not at least 2 (null: no limit)"},
		{"learning rate above one", "gbdt", "classification", `{"learning_rate": 5}`, "params.learning_rate: 5 is not in (0, 1]"},
		{"too deep", "gbdt", "classification", `{"max_depth": 99}`, "params.max_depth: 99 is not in [1, 64] (null: no limit)"},
		{"negative l2 under its old name", "gbdt", "classification", `{"l2": -1}`, "params.l2: -1 is not at least 0"},
		{"early stopping of a wrong value", "gbdt", "classification", `{"early_stopping": "yes"}`, `params.early_stopping: "yes" is not one of "auto", true, false`},
		{"per-class weights", "gbdt", "classification", `{"class_weight": {"a": 2}}`, "params.class_weight: {\"a\": 2} is not \"balanced\" or null (per-class weights are not supported)"},
		{"max_leaf_nodes of a wrong type", "gbdt", "classification", `{"max_leaf_nodes": "many"}`, "params.max_leaf_nodes: is a JSON string, want int"},
		{"null max_iter", "gbdt", "classification", `{"max_iter": null}`, "params.max_iter: null is not one of its values; leave it out for the default"},
		{"null early_stopping", "gbdt", "classification", `{"early_stopping": null}`, "params.early_stopping: null is not one of its values"},
		{"params not an object", "gbdt", "classification", `[1]`, "params: want an object of parameters"},
		{"C given twice", "linear", "classification", `{"C": 1, "c": 2}`, "params.C: given twice, as C and c"},
		{"linear old and new name", "linear", "classification", `{"max_iterations": 5, "max_iter": 6}`, "params.max_iterations: renamed max_iter"},
		{"text old and new n-grams", "text", "classification", `{"min_ngram": 1, "ngram_range": [1, 3]}`, "params.min_ngram: renamed ngram_range; give only ngram_range"},
		{"text n-gram range of three", "text", "classification", `{"ngram_range": [1, 2, 3]}`, "params.ngram_range: want [min_n, max_n], not 3 numbers"},
		{"text n-gram range crossed", "text", "classification", `{"ngram_range": [3, 1]}`, "params.ngram_range: the smallest n-gram length, 3, is above the largest, 1"},
		{"text n-grams too long", "text", "classification", `{"ngram_range": [1, 6]}`, "params.ngram_range[1]: 6 is not in [1, 5]"},
		{"text old min above the default max", "text", "classification", `{"min_ngram": 2}`, "params.min_ngram: the smallest n-gram length, 2, is above the largest, 1"},
		{"text max_features 0", "text", "classification", `{"max_features": 0}`, "params.max_features: 0 is not in [1, 2000000] (null: every n-gram)"},
		{"text max_features beyond the bound", "text", "classification", `{"max_features": 2000001}`, "params.max_features: 2000001 is not in [1, 2000000]"},
		{"text unknown analyzer", "text", "classification", `{"analyzer": "chars"}`, `params.analyzer: "chars" is not one of word, char, word+char`},
		{"text char n-grams crossed", "text", "classification", `{"analyzer": "char", "char_min_ngram": 5}`, "params.char_min_ngram: the smallest n-gram length, 5, is above the largest, 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseParams(t, tt.family, tt.task, tt.params)
			if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), tt.errContains) {
				t.Errorf("error %v, want ErrInvalidOptions containing %q", err, tt.errContains)
			}
		})
	}
}

// TestParamsGivenAsZeroAreUsedOrRefused checks that a parameter given as
// 0 (or [0, 0], or under its old name) is never replaced by its default:
// it is used where 0 is a value of it, refused, naming it, where not.
func TestParamsGivenAsZeroAreUsedOrRefused(t *testing.T) {
	tests := []struct {
		name, family, task, params string
		errContains                string         // empty: accepted
		check                      func(any) bool // when accepted
	}{
		{name: "gbdt max_iter", family: "gbdt", params: `{"max_iter": 0}`, errContains: "params.max_iter: 0 is not in [1, 100000]"},
		{name: "gbdt num_trees", family: "gbdt", params: `{"num_trees": 0}`, errContains: "params.num_trees: 0 is not in [1, 100000]"},
		{name: "gbdt learning_rate", family: "gbdt", params: `{"learning_rate": 0}`, errContains: "params.learning_rate: 0 is not in (0, 1]"},
		{name: "gbdt max_leaf_nodes", family: "gbdt", params: `{"max_leaf_nodes": 0}`, errContains: "params.max_leaf_nodes: 0 is not at least 2"},
		{name: "gbdt max_depth", family: "gbdt", params: `{"max_depth": 0}`, errContains: "params.max_depth: 0 is not in [1, 64]"},
		{name: "gbdt min_samples_leaf", family: "gbdt", params: `{"min_samples_leaf": 0}`, errContains: "params.min_samples_leaf: 0 is not at least 1"},
		{name: "gbdt max_bins", family: "gbdt", params: `{"max_bins": 0}`, errContains: "params.max_bins: 0 is not in [2, 255]"},
		{name: "gbdt validation_fraction", family: "gbdt", params: `{"validation_fraction": 0}`, errContains: "params.validation_fraction: 0 is not in (0, 1)"},
		{name: "gbdt n_iter_no_change", family: "gbdt", params: `{"n_iter_no_change": 0}`, errContains: "params.n_iter_no_change: 0 is not at least 1"},
		{name: "gbdt tol", family: "gbdt", params: `{"tol": 0}`, check: func(c any) bool { return c.(train.Config).Tol == 0 }},
		{name: "gbdt l2 of 0 counts as given", family: "gbdt", params: `{"l2": 0, "l2_regularization": 1}`, errContains: "params.l2: renamed l2_regularization"},
		{name: "gbdt seed of 0 counts as given", family: "gbdt", params: `{"seed": 0, "random_state": 3}`, errContains: "params.seed: renamed random_state"},
		{name: "gbdt num_trees of 0 counts as given", family: "gbdt", params: `{"num_trees": 0, "max_iter": 5}`, errContains: "params.num_trees: renamed max_iter"},
		{name: "linear C", family: "linear", params: `{"C": 0}`, errContains: "params.C: 0 is not above 0"},
		{name: "linear c", family: "linear", params: `{"c": 0}`, errContains: "params.C: 0 is not above 0"},
		{name: "linear max_iter", family: "linear", params: `{"max_iter": 0}`, errContains: "params.max_iter: 0 is not in [1, 100000]"},
		{name: "linear max_iterations", family: "linear", params: `{"max_iterations": 0}`, errContains: "params.max_iterations: 0 is not in [1, 100000]"},
		{name: "linear tol", family: "linear", params: `{"tol": 0}`, errContains: "params.tol: 0 is not above 0"},
		{name: "ridge alpha: least squares", family: "linear", task: "regression", params: `{"alpha": 0}`,
			check: func(c any) bool { return c.(train.LinearConfig).Alpha == 0 }},
		{name: "ridge negative alpha", family: "linear", task: "regression", params: `{"alpha": -1}`, errContains: "params.alpha: -1 is not at least 0"},
		{name: "text C", family: "text", params: `{"C": 0}`, errContains: "params.C: 0 is not above 0"},
		{name: "text tol", family: "text", params: `{"tol": 0}`, errContains: "params.tol: 0 is not above 0"},
		{name: "text min_df", family: "text", params: `{"min_df": 0}`, errContains: "params.min_df: 0 is not at least 1"},
		{name: "text max_iter", family: "text", params: `{"max_iter": 0}`, errContains: "params.max_iter: 0 is not in [1, 100000]"},
		{name: "text max_iterations", family: "text", params: `{"max_iterations": 0}`, errContains: "params.max_iterations: 0 is not in [1, 100000]"},
		{name: "text ngram_range", family: "text", params: `{"ngram_range": [0, 0]}`,
			errContains: "params.ngram_range[0]: 0 is not in [1, 5]\n" + ErrInvalidOptions.Error() + ": params.ngram_range[1]: 0 is not in [1, 5]"},
		{name: "text min_ngram", family: "text", params: `{"min_ngram": 0}`, errContains: "params.min_ngram: 0 is not in [1, 5]"},
		{name: "text char_min_ngram", family: "text", params: `{"analyzer": "char", "char_min_ngram": 0}`, errContains: "params.char_min_ngram: 0 is not in [2, 10]"},
		{name: "text sublinear_tf false", family: "text", params: `{"sublinear_tf": false}`, check: func(c any) bool { return !c.(train.TextConfig).SublinearTF }},
		{name: "every problem reported", family: "gbdt", params: `{"max_iter": 0, "learning_rate": 0}`,
			errContains: "params.max_iter: 0 is not in [1, 100000]\n" + ErrInvalidOptions.Error() + ": params.learning_rate: 0 is not in (0, 1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := cmp.Or(tt.task, "classification")
			cfg, err := parseParams(t, tt.family, task, tt.params)
			if tt.errContains == "" {
				if err != nil {
					t.Fatalf("params %s: %v", tt.params, err)
				}
				if !tt.check(cfg) {
					t.Errorf("params %s gave %+v", tt.params, cfg)
				}
				return
			}
			if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), tt.errContains) {
				t.Errorf("params %s: error %v, want ErrInvalidOptions containing %q", tt.params, err, tt.errContains)
			}
		})
	}
}

// TestParamsThatDoNotApplyAreRefused checks that a parameter of another
// estimator is refused, null included, rather than ignored; and that the
// early-stopping parameters are taken without early stopping, as
// scikit-learn takes them.
func TestParamsThatDoNotApplyAreRefused(t *testing.T) {
	tests := []struct {
		name, family, task, params, errContains string // errContains empty: accepted
	}{
		{"ridge C", "linear", "regression", `{"C": 2}`, "params.C: applies to a classifier (LogisticRegression)"},
		{"ridge class_weight", "linear", "regression", `{"class_weight": "balanced"}`, "params.class_weight: applies to a classifier"},
		{"ridge class_weight null", "linear", "regression", `{"class_weight": null}`, "params.class_weight: applies to a classifier"},
		{"ridge max_iter", "linear", "regression", `{"max_iter": 50}`, "params.max_iter: applies to a classifier"},
		{"ridge max_iterations", "linear", "regression", `{"max_iterations": 50}`, "params.max_iterations: applies to a classifier"},
		{"ridge tol", "linear", "regression", `{"tol": 0.001}`, "params.tol: applies to a classifier"},
		{"logistic alpha", "linear", "classification", `{"alpha": 2}`, "params.alpha: applies to a ridge regression"},
		{"gbdt regressor class_weight", "gbdt", "regression", `{"class_weight": "balanced"}`, "params.class_weight: applies to a classifier; a regressor (HistGradientBoostingRegressor) takes none"},
		{"gbdt regressor class_weight null", "gbdt", "regression", `{"class_weight": null}`, "params.class_weight: applies to a classifier"},
		{"text char n-grams of words", "text", "classification", `{"char_max_ngram": 5}`, "params.char_max_ngram: applies to the char and word+char analyzers, not word"},
		{"early stopping parameters without early stopping", "gbdt", "classification", `{"early_stopping": false, "validation_fraction": 0.3, "n_iter_no_change": 4, "tol": 0.01}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseParams(t, tt.family, tt.task, tt.params)
			if tt.errContains == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c := cfg.(train.Config); c.ValidationFraction != 0.3 || c.NIterNoChange != 4 || c.Tol != 0.01 {
					t.Errorf("params %s gave %+v", tt.params, c)
				}
				return
			}
			if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), tt.errContains) {
				t.Errorf("params %s: error %v, want ErrInvalidOptions containing %q", tt.params, err, tt.errContains)
			}
		})
	}
}

// TestParamBoundsAreTrains checks, bound by bound, that train takes a
// parameter at the bound the trainer checks, and that train refuses what
// the trainer refuses beyond it, naming the parameter: the two agree.
func TestParamBoundsAreTrains(t *testing.T) {
	tests := []struct {
		family, task, name string
		at, beyond         string // JSON values
	}{
		{"gbdt", "classification", "max_iter", "100000", "100001"},
		{"gbdt", "classification", "max_iter", "1", "0"},
		{"gbdt", "classification", "learning_rate", "1", "1.000001"},
		{"gbdt", "classification", "max_leaf_nodes", "2", "1"},
		{"gbdt", "classification", "max_depth", "64", "65"},
		// max_depth 0 is refused, though train reads it as no limit: the
		// JSON for no limit is null (TestParamsGivenAsZeroAreUsedOrRefused).
		{"gbdt", "classification", "min_samples_leaf", "1", "0"},
		{"gbdt", "classification", "l2_regularization", "0", "-1e-9"},
		{"gbdt", "classification", "max_bins", "255", "256"},
		{"gbdt", "classification", "max_bins", "2", "1"},
		{"gbdt", "classification", "validation_fraction", "0.999", "1"},
		{"gbdt", "classification", "n_iter_no_change", "1", "0"},
		{"gbdt", "classification", "tol", "0", "-1e-9"},
		{"linear", "classification", "C", "1e-9", "0"},
		{"linear", "classification", "max_iter", "100000", "100001"},
		{"linear", "classification", "tol", "1e-12", "0"},
		{"linear", "regression", "alpha", "0", "-1e-9"},
		{"text", "classification", "ngram_range", "[5, 5]", "[5, 6]"},
		{"text", "classification", "ngram_range", "[1, 1]", "[0, 1]"},
		{"text", "classification", "min_df", "1", "0"},
		{"text", "classification", "max_features", "2000000", "2000001"},
		{"text", "classification", "C", "1e-9", "0"},
		{"text", "classification", "max_iter", "100000", "100001"},
		{"text", "classification", "tol", "1e-12", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.family+" "+tt.name+" "+tt.beyond, func(t *testing.T) {
			// At the bound: the trainer's checks and then train's Validate
			// (which params runs last) take it.
			if _, err := parseParams(t, tt.family, tt.task, `{"`+tt.name+`": `+tt.at+`}`); err != nil {
				t.Errorf("%s %s: %v", tt.name, tt.at, err)
			}
			// Beyond it: the trainer refuses it naming the parameter, and
			// train would too.
			cfg, errs := configOf(t, tt.family, tt.task, `{"`+tt.name+`": `+tt.beyond+`}`)
			if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "params."+tt.name) {
				t.Errorf("%s %s: trainer's errors %v, want one naming params.%s", tt.name, tt.beyond, errs, tt.name)
			}
			if err := cfg.Validate(); !errors.Is(err, train.ErrInvalidConfig) {
				t.Errorf("%s %s: train's Validate says %v: the trainer refuses what train takes", tt.name, tt.beyond, err)
			}
		})
	}
}

// configOf decodes params and builds the family's configuration, with the
// trainer's problems, before train's Validate.
func configOf(t *testing.T, family, task, params string) (interface{ Validate() error }, []error) {
	t.Helper()
	var (
		cfg  interface{ Validate() error }
		g    given
		errs []error
	)
	switch family {
	case "gbdt":
		var p GBDTParams
		if g, errs = decodeParams([]byte(params), &p); errs == nil {
			cfg, errs = p.config(model.Task(task), g)
		}
	case "linear":
		var p LinearParams
		if g, errs = decodeParams([]byte(params), &p); errs == nil {
			cfg, errs = p.config(model.Task(task), g)
		}
	case "text":
		var p TextParams
		if g, errs = decodeParams([]byte(params), &p); errs == nil {
			cfg, errs = p.config(g)
		}
	}
	if cfg == nil {
		t.Fatalf("%s params %s do not decode: %v", family, params, errs)
	}
	return cfg, errs
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
		{"linear", "regression", `{"alpha": 0}`},
		{"gbdt", "classification", `{"tol": 0, "max_depth": null, "max_leaf_nodes": null}`},
		{"text", "classification", `{"min_ngram": 1, "max_ngram": 3}`},
		{"text", "classification", `{"max_features": 500, "min_df": 2, "sublinear_tf": true}`},
		{"text", "classification", `{"analyzer": "word+char", "char_min_ngram": 3, "char_max_ngram": 5}`},
	} {
		cfg, err := parseParams(t, tt.family, tt.task, tt.params)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := json.Marshal(effectiveParams(cfg))
		if err != nil {
			t.Fatal(err)
		}
		for _, old := range []string{"num_trees", `"l2"`, `"seed"`, `"min_ngram"`, "max_iterations"} {
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
