package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/model"
)

// torchExpected is torch_mlp.expected.json: rows and the probabilities
// PyTorch itself gave them, written by testdata/make_torch.py.
type torchExpected struct {
	TorchVersion string `json:"torch_version"`
	Exporter     string `json:"exporter"`
	Opset        int    `json:"opset"`
	Rows         []struct {
		Record        map[string]any `json:"record"`
		Probabilities []float32      `json:"probabilities"`
	} `json:"rows"`
}

// A PyTorch MLP exported to ONNX goes through the catalog and back out
// scoring exactly as PyTorch did.
func TestCLIImportTorchModel(t *testing.T) {
	c := emptyCatalog(t)
	ctx := testContext(t)
	run := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := runCatalogCommand(ctx, c, args, &out); err != nil {
			t.Fatalf("runCatalogCommand(%q): %v", args, err)
		}
		return out.String()
	}

	out := run("import", "torch_mlp", "testdata/torch_mlp.onnx", "-spec", "testdata/torch_mlp.spec.json", "-alias", "champion")
	if !regexp.MustCompile(`^torch_mlp version 1 imported \(\d+ bytes, sha256 [0-9a-f]{64}\)\n` + regexp.QuoteMeta(noProfile) + `\ntorch_mlp champion: none -> 1\n$`).MatchString(out) {
		t.Errorf("import output %q", out)
	}

	var shown catalog.Version
	if err := json.Unmarshal([]byte(run("show", "torch_mlp", "champion")), &shown); err != nil {
		t.Fatalf("show: %v", err)
	}
	rawSpec, err := os.ReadFile("testdata/torch_mlp.spec.json")
	if err != nil {
		t.Fatal(err)
	}
	wantSpec, err := model.ParseSpec(rawSpec)
	if err != nil {
		t.Fatal(err)
	}
	if shown.Family != "imported" || shown.Version != 1 || !sameJSON(t, shown.Spec, wantSpec) {
		t.Errorf("show: family %q version %d spec %+v; want imported, 1, %+v", shown.Family, shown.Version, shown.Spec, wantSpec)
	}

	file := filepath.Join(t.TempDir(), "torch_mlp.onnx")
	run("export", "torch_mlp", "champion", "-o", file)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	original, err := os.ReadFile("testdata/torch_mlp.onnx")
	if err != nil || !bytes.Equal(data, original) {
		t.Fatalf("exported model differs from the imported file (%v)", err)
	}
	rawSpec, err = os.ReadFile(filepath.Join(filepath.Dir(file), "torch_mlp.spec.json"))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := model.ParseSpec(rawSpec)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, spec, wantSpec) {
		t.Errorf("exported spec %+v, want %+v", spec, wantSpec)
	}

	m, err := model.Load(data, model.Options{Spec: &spec})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	raw, err := os.ReadFile("testdata/torch_mlp.expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var want torchExpected
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if len(want.Rows) < 24 {
		t.Fatalf("%d expected rows, want a few dozen", len(want.Rows))
	}
	batch := m.NewBatch()
	defer batch.Close()
	for _, r := range want.Rows {
		if err := batch.Add(r.Record); err != nil {
			t.Fatalf("row %v: %v", r.Record, err)
		}
	}
	results, err := m.Run(batch)
	if err != nil {
		t.Fatal(err)
	}
	maxDiff := 0.0
	for i, r := range want.Rows {
		got := results[i].Scores
		if len(got) != len(r.Probabilities) {
			t.Fatalf("row %d: %d scores, want %d", i, len(got), len(r.Probabilities))
		}
		for k, p := range r.Probabilities {
			d := math.Abs(float64(got[k]) - float64(p))
			maxDiff = max(maxDiff, d)
			if d > 1e-5 {
				t.Errorf("row %d %v: %s score %.7f, PyTorch %.7f", i, r.Record, spec.Labels[k], got[k], p)
			}
		}
	}
	t.Logf("%d rows, torch %s, %s, opset %d: max difference from PyTorch %.3g",
		len(want.Rows), want.TorchVersion, want.Exporter, want.Opset, maxDiff)
}

// sameJSON reports whether a and b encode to the same JSON.
func sameJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ja, jb)
}
