package train

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
)

// ortInitErr records why ONNX Runtime could not start; tests that need it
// fail with this error, the others still run.
var ortInitErr error

func TestMain(m *testing.M) {
	ortInitErr = initORT()
	code := m.Run()
	if ortInitErr == nil {
		if err := ort.DestroyEnvironment(); err != nil {
			fmt.Fprintln(os.Stderr, "destroy ONNX Runtime environment:", err)
		}
	}
	os.Exit(code)
}

func initORT() error {
	path := os.Getenv("ONNXRUNTIME_SHARED_LIBRARY_PATH")
	if path == "" {
		path = filepath.Join("..", "..", ".cache", "onnxruntime", "libonnxruntime.so.1")
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("ONNX Runtime library: %w", err)
	}
	ort.SetSharedLibraryPath(path)
	return ort.InitializeEnvironment()
}

func requireORT(t testing.TB) {
	t.Helper()
	if ortInitErr != nil {
		t.Fatalf("ONNX Runtime unavailable (run `make setup` or scripts/setup.sh): %v", ortInitErr)
	}
}
