package fit_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/model"
)

// TestResolve resolves options against a schema: strings and enums become
// categorical, and a default on a feature made categorical so is refused
// naming it, as it is for one listed in categorical, rather than dropped.
func TestResolve(t *testing.T) {
	schema, err := avropath.ParseSchema(`{"type": "record", "name": "R", "fields": [
		{"name": "site", "type": ["null", "string"]},
		{"name": "loc", "type": {"type": "record", "name": "Loc", "fields": [{"name": "zone", "type": {"type": "enum", "name": "Zone", "symbols": ["N", "S"]}}]}},
		{"name": "x", "type": "double"},
		{"name": "y", "type": "boolean"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		features []string
		defaults map[string]float64
		wantErr  []string // substrings; none: resolves
		wantCats []string
	}{
		{"strings and enums categorical", []string{"site", "loc.zone", "x"}, map[string]float64{"x": 1}, nil, []string{"site", "loc.zone"}},
		{"default on an inferred string", []string{"site", "x"}, map[string]float64{"site": 7},
			[]string{`defaults["site"]`, `["null","string"]`, "takes no default"}, nil},
		{"default on an inferred enum, spelt otherwise", []string{`loc["zone"]`, "x"}, map[string]float64{"loc.zone": 0},
			[]string{`defaults["loc.zone"]`, "enum", "takes no default"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := fit.Options{Family: fit.GBDT, Features: tt.features, Defaults: tt.defaults, Label: "y"}.WithDefaults()
			if err := o.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			resolved, err := o.Resolve(schema, "r-value version 1")
			if tt.wantErr != nil {
				if !errors.Is(err, fit.ErrInvalidOptions) || !errors.Is(err, model.ErrSchemaMismatch) {
					t.Fatalf("error %v, want ErrInvalidOptions and ErrSchemaMismatch", err)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var cats []string
			for _, f := range resolved.FeatureReads() {
				if f.Kind == fit.CategoryFeature {
					cats = append(cats, f.Path.String())
				}
			}
			if strings.Join(cats, ",") != strings.Join(tt.wantCats, ",") {
				t.Errorf("categorical %q, want %q", cats, tt.wantCats)
			}
		})
	}
}
