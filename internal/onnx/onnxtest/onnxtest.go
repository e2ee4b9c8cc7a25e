// Package onnxtest checks ONNX models in tests with the reference checker
// from the python onnx package.
package onnxtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// python is the Debian interpreter that has python3-onnx installed; a
// virtualenv's python3 on PATH would not.
const python = "/usr/bin/python3"

// checkScript runs the full check, which adds strict shape inference to the
// structural checks, so declared shapes must agree with the operators.
const checkScript = `import sys, onnx
onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)`

// CheckFile fails t unless the onnx checker accepts the model file at path.
// It fails, rather than skips, when python3-onnx is missing.
func CheckFile(t testing.TB, path string) {
	t.Helper()
	if out, err := exec.Command(python, "-c", "import onnx").CombinedOutput(); err != nil {
		t.Fatalf("python onnx package unavailable (run `make setup` or scripts/setup.sh): %v\n%s", err, out)
	}
	out, err := exec.Command(python, "-c", checkScript, path).CombinedOutput()
	if err != nil {
		t.Fatalf("onnx checker rejected %s: %v\n%s", path, err, out)
	}
}

// Check writes an encoded model to a temporary file and runs CheckFile on it.
func Check(t testing.TB, model []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(path, model, 0o644); err != nil {
		t.Fatal(err)
	}
	CheckFile(t, path)
}
