package model

import (
	"errors"
	"fmt"
	"os"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// LibraryEnv names the environment variable that points at the ONNX Runtime
// shared library, as onnxruntime_go's own examples do.
const LibraryEnv = "ONNXRUNTIME_SHARED_LIBRARY_PATH"

// ErrRuntimeMissing means the ONNX Runtime shared library could not be found
// or loaded. The message names the command that installs it.
var ErrRuntimeMissing = errors.New("ONNX Runtime library not available (run `make setup`, or set " + LibraryEnv + ")")

// SetupLibrary is where scripts/setup.sh puts the library, relative to the
// repository root.
const SetupLibrary = ".cache/onnxruntime/libonnxruntime.so.1"

// LibraryPath picks the ONNX Runtime library: an explicit path (a flag) wins,
// then the environment, then the setup script's copy under the working
// directory, where `make demo` and `make bench` run.
func LibraryPath(explicit string) string {
	if explicit != "" {
		return explicit
	}
	if env := os.Getenv(LibraryEnv); env != "" {
		return env
	}
	return SetupLibrary
}

// The ONNX Runtime environment is process-wide state inside the C library:
// it can be initialised once and every session shares it. These variables
// mirror that, so a second Init with the same path is free and one with
// another path is an error rather than a silent surprise.
var (
	initMu   sync.Mutex
	initPath string
)

// Init loads the ONNX Runtime shared library at path (see LibraryPath) and
// creates the process-wide environment. It is safe to call more than once.
func Init(path string) error {
	initMu.Lock()
	defer initMu.Unlock()
	if ort.IsInitialized() {
		if initPath != "" && path != initPath {
			return fmt.Errorf("ONNX Runtime already initialised from %s, not %s", initPath, path)
		}
		return nil
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrRuntimeMissing, path, err)
	}
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrRuntimeMissing, path, err)
	}
	initPath = path
	return nil
}
