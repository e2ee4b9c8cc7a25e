package online

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// python is the interpreter that sees scikit-learn, numpy and scipy.
const python = "/usr/bin/python3"

// reference runs testdata/reference.py on cases and returns its results,
// one per case.
func reference[R any](t *testing.T, cases []map[string]any) []R {
	t.Helper()
	in := filepath.Join(t.TempDir(), "cases.json")
	data, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, filepath.Join("testdata", "reference.py"), in).Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			t.Fatalf("reference.py: %v\n%s", err, exitErr.Stderr)
		}
		t.Fatalf("reference.py (needs %s with scikit-learn, numpy and scipy): %v", python, err)
	}
	var results []R
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("reference.py printed %q: %v", out, err)
	}
	if len(results) != len(cases) {
		t.Fatalf("reference.py returned %d results for %d cases", len(results), len(cases))
	}
	return results
}

// closeTo reports whether got is within rel of want, relatively.
func closeTo(got, want, rel float64) bool {
	return got == want || math.Abs(got-want) <= rel*math.Abs(want)
}

// checkClose fails when got (nil for "none") differs from want.
func checkClose(t *testing.T, name string, got, want *float64, rel float64) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s = %v, want %v", name, show(got), show(want))
	case !closeTo(*got, *want, rel):
		t.Errorf("%s = %.17g, want %.17g (relative difference %.3g)", name, *got, *want, math.Abs(*got-*want)/math.Abs(*want))
	}
}

func show(p *float64) any {
	if p == nil {
		return "nil"
	}
	return *p
}
