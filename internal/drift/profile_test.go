package drift_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/streamscore/streamscore/internal/drift"
	"github.com/streamscore/streamscore/internal/model"
)

// TestProfileSurvivesJSON: a profile read back from JSON, as a scorer
// reads it from the catalog, gives the very report the profile did.
func TestProfileSurvivesJSON(t *testing.T) {
	spec := binarySpec(model.Feature{Field: "x", Default: ptr(0)}, model.Feature{Field: "c", Categories: []string{"a", "b"}})
	m := load(t, sigmoidSumGraph(2, 1), spec)
	rng := rand.New(rand.NewPCG(11, 12))
	rows := func(n int, shift float64) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = map[string]any{"x": rng.NormFloat64() + shift, "c": []string{"a", "b", "z"}[rng.IntN(3)]}
			if i%7 == 0 {
				out[i]["x"] = nil
			}
		}
		return out
	}
	ref := reference(t, m, rows(3000, 0), nil)
	raw, err := json.Marshal(ref)
	if err != nil {
		t.Fatal(err)
	}
	var back drift.Profile
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	live := rows(1000, 0.5)
	want, got := window(t, m, ref, live), window(t, m, &back, live)
	wantJSON, _ := json.Marshal(want)
	gotJSON, _ := json.Marshal(got)
	if string(wantJSON) != string(gotJSON) || !got.Reference {
		t.Fatalf("report from JSON %s, from the profile %s", gotJSON, wantJSON)
	}
}

// TestProfileCheck refuses a profile that does not describe the spec or
// breaks its bounds, and a window given one compares with nothing.
func TestProfileCheck(t *testing.T) {
	spec := binarySpec(model.Feature{Field: "x"}, model.Feature{Field: "c", Categories: []string{"a"}})
	good := func() *drift.Profile {
		return &drift.Profile{Rows: 10, Features: []drift.FeatureProfile{
			{Name: "x", Kind: drift.KindNumeric, Edges: []float64{0, 1}, Shares: []float64{0.3, 0.4, 0.3}, Min: -1, Max: 2},
			{Name: "c", Kind: drift.KindCategorical, Column: 1, Shares: []float64{0.8, 0.1, 0.1}},
		}, Prediction: drift.ScoreProfile{Edges: []float64{0.5}, Shares: []float64{0.5, 0.5}}}
	}
	if err := good().Check(spec); err != nil {
		t.Fatalf("a good profile: %v", err)
	}
	for name, spoil := range map[string]func(p *drift.Profile){
		"negative rows":           func(p *drift.Profile) { p.Rows = -1 },
		"no such column":          func(p *drift.Profile) { p.Features[0].Column = 5 },
		"no such input":           func(p *drift.Profile) { p.Features[0].Input = 1 },
		"another name":            func(p *drift.Profile) { p.Features[0].Name = "y" },
		"another kind":            func(p *drift.Profile) { p.Features[0].Kind = drift.KindText },
		"edges out of order":      func(p *drift.Profile) { p.Features[0].Edges = []float64{1, 0} },
		"an infinite edge":        func(p *drift.Profile) { p.Features[0].Edges = []float64{0, math.Inf(1)} },
		"too many edges":          func(p *drift.Profile) { p.Features[0].Edges = make([]float64, 20) },
		"shares short":            func(p *drift.Profile) { p.Features[0].Shares = []float64{1} },
		"a share over 1":          func(p *drift.Profile) { p.Features[0].Shares[0] = 2 },
		"a NaN share":             func(p *drift.Profile) { p.Features[0].Shares[0] = math.NaN() },
		"a null rate over 1":      func(p *drift.Profile) { p.Features[0].NullRate = 1.5 },
		"min over max":            func(p *drift.Profile) { p.Features[0].Min = 3 },
		"codes short":             func(p *drift.Profile) { p.Features[1].Shares = []float64{1} },
		"categorical edges":       func(p *drift.Profile) { p.Features[1].Edges = []float64{0} },
		"a numeric vocabulary":    func(p *drift.Profile) { p.Features[0].Vocabulary = "v1:unicode:2:1:" },
		"prediction shares short": func(p *drift.Profile) { p.Prediction.Shares = []float64{1} },
		"a class share under 0":   func(p *drift.Profile) { p.Prediction.ClassShares = map[string]float64{"yes": -1} },
	} {
		t.Run(name, func(t *testing.T) {
			p := good()
			spoil(p)
			if err := p.Check(spec); !errors.Is(err, drift.ErrBadProfile) {
				t.Fatalf("Check: %v, want ErrBadProfile", err)
			}
			if drift.NewWindow(spec, p).Report().Reference {
				t.Fatal("a window compares with a profile its check refuses")
			}
		})
	}
}

// TestProfileStaysSmall: a model of more columns than a profile holds
// has a prefix of them profiled, within MaxProfileBytes of JSON, and says
// so.
func TestProfileStaysSmall(t *testing.T) {
	cats := make([]string, 1000)
	for i := range cats {
		cats[i] = fmt.Sprintf("category-%d", i)
	}
	var features []model.Feature
	for i := range 400 {
		features = append(features, model.Feature{Field: fmt.Sprintf("c%d", i), Categories: cats})
	}
	features = append(features, model.Feature{Field: "window", Length: 4096, Default: ptr(0)})
	spec := binarySpec(features...)
	ref := drift.NewReference(spec, nil)
	row := drift.Row{Numbers: [][]float32{make([]float32, spec.Inputs[0].Width())}}
	rng := rand.New(rand.NewPCG(1, 1))
	for range 50 {
		for i := range row.Numbers[0] {
			row.Numbers[0][i] = float32(rng.IntN(1000))
		}
		ref.Add(row)
	}
	p := ref.Profile()
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) > drift.MaxProfileBytes || !p.Truncated || len(p.Features) == 0 || p.Features[0].Name != "c0" {
		t.Fatalf("%d bytes (limit %d), truncated %v, %d features", len(raw), drift.MaxProfileBytes, p.Truncated, len(p.Features))
	}
	if err := p.Check(spec); err != nil {
		t.Fatal(err)
	}
}
