package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeSample writes rows as JSON Lines to a file of the test's.
func writeSample(t *testing.T, rows ...map[string]any) string {
	t.Helper()
	var b bytes.Buffer
	for _, r := range rows {
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(line, '\n'))
	}
	file := filepath.Join(t.TempDir(), "sample.jsonl")
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestCLIImportTakesAProfileFromASample: with -profile-sample, the
// imported version carries the drift reference of the sample's records
// the model scores, those it cannot skipped and counted; without it, the
// version has none and the output says drift is not measured.
func TestCLIImportTakesAProfileFromASample(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rows := make([]map[string]any, 0, 502)
	for range 500 {
		rows = append(rows, map[string]any{"a": rng.NormFloat64(), "b": rng.IntN(5), "c": rng.Float64()})
	}
	rows = append(rows, map[string]any{"a": 1, "b": 2}, map[string]any{"a": "x", "b": 2, "c": 3})
	sample := writeSample(t, rows...)

	c := emptyCatalog(t)
	ctx := testContext(t)
	var out bytes.Buffer
	args := []string{"import", "linear", "testdata/linear.onnx", "-spec", "testdata/linear.spec.json", "-profile-sample", sample}
	if err := runCatalogCommand(ctx, c, args, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\nreference profile of 500 rows (2 records of the sample skipped") {
		t.Errorf("output %q", out.String())
	}
	v, err := c.Get("linear", 1)
	if err != nil {
		t.Fatal(err)
	}
	p := v.Profile
	if p == nil || p.Rows != 500 {
		t.Fatalf("profile %+v", p)
	}
	if err := p.Check(v.Spec); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range p.Features {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, []string{"a", "b", "c"}) || !slices.Equal(p.Features[1].Edges, []float64{0, 1, 2, 3, 4}) {
		t.Errorf("features %v, b's edges %v", names, p.Features[1].Edges)
	}
	if len(p.Prediction.Edges) == 0 || p.Prediction.ClassShares["ok"]+p.Prediction.ClassShares["alert"] < 0.9999 {
		t.Errorf("prediction %+v", p.Prediction)
	}

	out.Reset()
	if err := runCatalogCommand(ctx, c, args[:5], &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\n"+noProfile+"\n") {
		t.Errorf("output without a sample %q", out.String())
	}
	if v, err := c.Get("linear", 2); err != nil || v.Profile != nil {
		t.Errorf("version 2 without a sample: %+v, %v", v.Profile, err)
	}
}

// TestCLIImportRefusesAnUnusableSample: a sample none of whose records
// the model scores, or that is not JSON, refuses the import.
func TestCLIImportRefusesAnUnusableSample(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, []byte(`{"a": 1}`+"\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, file := range map[string]string{
		"no scorable record": writeSample(t, map[string]any{"a": 1}, map[string]any{"b": "x"}),
		"not JSON":           bad,
		"missing":            filepath.Join(t.TempDir(), "nope.jsonl"),
	} {
		t.Run(name, func(t *testing.T) {
			c := emptyCatalog(t)
			args := []string{"import", "linear", "testdata/linear.onnx", "-spec", "testdata/linear.spec.json", "-profile-sample", file}
			err := runCatalogCommand(testContext(t), c, args, &bytes.Buffer{})
			if !errors.Is(err, errImport) {
				t.Fatalf("import: %v, want it refused", err)
			}
			if vs := c.Versions("linear"); len(vs) != 0 {
				t.Errorf("a refused import published %d versions", len(vs))
			}
		})
	}
}
