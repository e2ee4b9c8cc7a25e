// Package ortkit starts ONNX Runtime for the project's tests, once per test
// process, from the library `make setup` installs. It is imported by tests
// only; it is apart from testkit so that the packages testkit builds on
// (model, train) can use it in their own tests.
package ortkit

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/streamscore/streamscore/internal/model"
)

// Library is the ONNX Runtime library tests use: the one the environment
// names (model.LibraryEnv), or the copy `make setup` made, found by walking
// up from the working directory, which is a test's package directory.
func Library() string {
	if env := os.Getenv(model.LibraryEnv); env != "" {
		return env
	}
	dir, err := os.Getwd()
	if err != nil {
		return model.SetupLibrary
	}
	for {
		candidate := filepath.Join(dir, model.SetupLibrary)
		if _, err := os.Stat(candidate); err == nil {
			return candidate
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return model.SetupLibrary
		}
		dir = parent
	}
}

// Main is the body of a TestMain whose tests need ONNX Runtime: it starts
// the runtime as the scorer does and runs the tests, and returns the exit
// code. Without the runtime no test runs: the code is 1 and the message
// says how to install it, rather than every test failing alike.
func Main(m *testing.M) int {
	lib := Library()
	// The code under test (a trainer, a scorer) finds the library through
	// the environment too; set, it agrees with what was initialised here,
	// however the tests were started.
	if err := os.Setenv(model.LibraryEnv, lib); err != nil {
		fmt.Fprintf(os.Stderr, "set %s: %v\n", model.LibraryEnv, err)
		return 1
	}
	if err := model.Init(lib); err != nil {
		fmt.Fprintf(os.Stderr, "ONNX Runtime unavailable (run `make setup`): %v\n", err)
		return 1
	}
	return m.Run()
}
