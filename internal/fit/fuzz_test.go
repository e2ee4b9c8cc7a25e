package fit_test

import (
	"errors"
	"testing"

	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/model"
)

// FuzzParseOptions feeds the options decoder what an API client might
// send: it must never panic, refuse with ErrInvalidOptions, and give only
// options that validate and map to a valid spec.
func FuzzParseOptions(f *testing.F) {
	f.Add(`{"family": "gbdt", "features": ["a", "b"], "defaults": {"b": 1}, "label": "y", "params": {"num_trees": 3}}`)
	f.Add(`{"family": "text", "text": "t", "label": "y", "params": {"analyzer": "word+char"}}`)
	f.Add(`{"family": "linear", "task": "regression", "features": ["a"], "label": "y", "holdout": 0.5, "metric": "mae"}`)
	f.Add(`{"family": "gbdt", "features": ["a"], "label": "y", "params": null}`)
	f.Add(`{"family": "gbdt", "features": ["location.lat", "site", "w", "ts", "attributes[\"fw.version\"]"], "label": "y.v",
		"categorical": {"site": {"max": 5, "unknown": "category", "unknown_category": "a"}}, "max_categories": 9,
		"arrays": {"w": {"length": 3, "pad": 0}}, "time_parts": {"ts": ["hour_of_day", "day_of_week"]}}`)
	f.Add(`{"family": "linear", "features": ["a[2]"], "label": "y", "categorical": {"a[2]": {"unknown": "dead_letter"}}, "subject": "s-value"}`)
	f.Add(`{"family": 1}`)
	f.Add(`[]`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, body string) {
		opts, err := fit.ParseOptions([]byte(body))
		if err != nil {
			if !errors.Is(err, fit.ErrInvalidOptions) {
				t.Fatalf("error %v does not wrap ErrInvalidOptions", err)
			}
			return
		}
		if err := opts.Validate(); err != nil {
			t.Fatalf("parsed options do not validate: %v", err)
		}
		var labels []string
		if opts.Task == model.Classification {
			labels = []string{"no", "yes"}
		}
		spec := opts.Spec("m", labels)
		if err := spec.Validate(); err != nil {
			t.Fatalf("options %+v give an invalid spec: %v", opts, err)
		}
		if _, err := spec.Inputs[0].Reader(); err != nil {
			t.Fatalf("options %+v give a spec no reader reads: %v", opts, err)
		}
	})
}
