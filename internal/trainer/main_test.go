package trainer_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/streamscore/streamscore/internal/model"
)

func TestMain(m *testing.M) {
	if err := model.Init(model.LibraryPath("")); err != nil {
		fmt.Fprintln(os.Stderr, "ONNX Runtime unavailable (run `make setup`):", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
