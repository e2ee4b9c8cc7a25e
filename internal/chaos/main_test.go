//go:build chaos

package chaos

import (
	"fmt"
	"os"
	"testing"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/testkit"
)

// Paths shared by every test: the binaries are built once, from the
// working tree, so the tests exercise exactly the code being changed.
var (
	scorerBin  string
	stackBin   string
	ortLibrary string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "streamscore-chaos-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := build(dir); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 1
	}
	// The scorer is a child process started from a temporary directory's
	// binary, so it cannot find the repository's copy of ONNX Runtime by
	// walking up from its own working directory: tell it where it is.
	ortLibrary = model.LibraryPath("")
	if _, err := os.Stat(ortLibrary); err != nil {
		fmt.Fprintf(os.Stderr, "chaos: ONNX Runtime not found (%v); run make setup\n", err)
		return 1
	}
	return m.Run()
}

// build compiles the scorer and the stack into dir.
func build(dir string) error {
	bins, err := testkit.Build(dir, "scorer", "stack")
	if err != nil {
		return err
	}
	scorerBin, stackBin = bins["scorer"], bins["stack"]
	return nil
}
