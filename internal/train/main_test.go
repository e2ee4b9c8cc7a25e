package train

import (
	"fmt"
	"os"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/streamscore/streamscore/internal/model"
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

// initORT starts ONNX Runtime the way the scorer does, from the library
// the flag, the environment or `make setup` names.
func initORT() error {
	return model.Init(model.LibraryPath(""))
}

func requireORT(t testing.TB) {
	t.Helper()
	if ortInitErr != nil {
		t.Fatalf("ONNX Runtime unavailable (run `make setup` or scripts/setup.sh): %v", ortInitErr)
	}
}
