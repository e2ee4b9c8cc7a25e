package model_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/streamscore/streamscore/internal/model"
)

// Process-wide ONNX Runtime state, set once by TestMain before any test runs
// and only read afterwards.
var (
	// runtimePath is the library TestMain initialised ONNX Runtime from.
	runtimePath string
	// runtimeErr says why ONNX Runtime could not start; tests that need it
	// fail with it, the others (spec, CheckSchema, LibraryPath) still run.
	runtimeErr error
)

func TestMain(m *testing.M) {
	if os.Getenv(freshInitEnv) != "" {
		// A child process started by TestInitInFreshProcess: it checks
		// Init before anything else initialises ONNX Runtime.
		os.Exit(freshInitChild())
	}
	runtimePath = model.LibraryPath("")
	runtimeErr = model.Init(runtimePath)
	if runtimeErr != nil {
		fmt.Fprintln(os.Stderr, "model tests:", runtimeErr)
	}
	os.Exit(m.Run())
}

// requireRuntime fails t unless ONNX Runtime started. The error wraps
// model.ErrRuntimeMissing, whose message names `make setup`.
func requireRuntime(t testing.TB) {
	t.Helper()
	if runtimeErr != nil {
		t.Fatalf("ONNX Runtime unavailable (run `make setup` or scripts/setup.sh): %v", runtimeErr)
	}
}
