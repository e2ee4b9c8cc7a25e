package hostile_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/testkit"
)

// bins are the scorer, trainer and stack binaries, built once from the
// working tree; ortLibrary is ONNX Runtime, which child processes started
// from a temporary directory cannot find by themselves.
var (
	bins       map[string]string
	ortLibrary string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "streamscore-hostile-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if bins, err = testkit.Build(dir, "scorer", "trainer", "stack"); err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		return 1
	}
	ortLibrary = model.LibraryPath("")
	if _, err := os.Stat(ortLibrary); err != nil {
		fmt.Fprintf(os.Stderr, "hostile: ONNX Runtime not found (%v); run make setup\n", err)
		return 1
	}
	return m.Run()
}
