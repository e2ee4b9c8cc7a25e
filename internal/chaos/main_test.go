//go:build chaos

package chaos

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/model"
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

// build compiles the scorer and the stack into dir/bin.
func build(dir string) error {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	bin := filepath.Join(dir, "bin")
	cmd := exec.Command("go", "build", "-o", bin+string(filepath.Separator), "./cmd/scorer", "./cmd/stack")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/scorer ./cmd/stack: %w\n%s", err, out)
	}
	scorerBin = filepath.Join(bin, "scorer")
	stackBin = filepath.Join(bin, "stack")
	return nil
}
