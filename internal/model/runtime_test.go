package model_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/testkit/ortkit"
)

func TestInitAgain(t *testing.T) {
	if err := model.Init(ortkit.Library()); err != nil {
		t.Errorf("Init with the same path: %v", err)
	}
	other := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	err := model.Init(other)
	if err == nil {
		t.Fatal("Init with another path succeeded")
	}
	for _, want := range []string{"already initialised", ortkit.Library(), other} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// The environment is untouched: the first library still serves.
	spec := identitySpec("x", "y")
	load(t, encode(t, identityGraph(2), &spec), model.Options{})
}

// freshInitEnv, when set, makes the test binary run freshInitChild
// instead of its tests: Init's first-call behaviour can only be seen in a
// process where nothing has initialised ONNX Runtime yet.
const freshInitEnv = "STREAMSCORE_MODEL_TEST_FRESH_INIT"

func TestInitInFreshProcess(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), freshInitEnv+"=1", model.LibraryEnv+"="+ortkit.Library())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child process: %v\n%s", err, out)
	}
}

// freshInitChild checks, in a process of its own, that Init refuses a
// missing library and a file that is not one with ErrRuntimeMissing naming
// `make setup`, and still initialises from the real library afterwards. It
// returns the exit code.
func freshInitChild() int {
	var failures []string
	fail := func(format string, args ...any) { failures = append(failures, fmt.Sprintf(format, args...)) }

	dir, err := os.MkdirTemp("", "model-init")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	notALibrary := filepath.Join(dir, "libonnxruntime.so.1")
	if err := os.WriteFile(notALibrary, []byte("not a shared library"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, path := range []string{filepath.Join(dir, "missing.so"), notALibrary} {
		err := model.Init(path)
		switch {
		case !errors.Is(err, model.ErrRuntimeMissing):
			fail("Init(%s) = %v; want ErrRuntimeMissing", path, err)
		case !strings.Contains(err.Error(), "make setup") || !strings.Contains(err.Error(), path):
			fail("Init(%s) error %q should name the path and `make setup`", path, err)
		}
	}
	lib := os.Getenv(model.LibraryEnv)
	if err := model.Init(lib); err != nil {
		fail("Init(%s) after failed attempts: %v", lib, err)
	} else if err := model.Init(lib); err != nil {
		fail("second Init(%s): %v", lib, err)
	}
	if len(failures) > 0 {
		fmt.Fprintln(os.Stderr, strings.Join(failures, "\n"))
		return 1
	}
	return 0
}

func TestLibraryPath(t *testing.T) {
	tests := []struct {
		name     string
		explicit string
		env      string
		want     string
	}{
		{"explicit beats env", "/opt/ort/lib.so", "/env/lib.so", "/opt/ort/lib.so"},
		{"env beats the default", "", "/env/lib.so", "/env/lib.so"},
		{"the setup copy under the working directory", "", "", ".cache/onnxruntime/libonnxruntime.so.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(model.LibraryEnv, tt.env)
			if got := model.LibraryPath(tt.explicit); got != tt.want {
				t.Errorf("LibraryPath(%q) = %q; want %q", tt.explicit, got, tt.want)
			}
		})
	}
}
