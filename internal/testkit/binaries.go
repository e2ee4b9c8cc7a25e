package testkit

import (
	"fmt"
	"os"
	"testing"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/testkit/ortkit"
)

// Binaries are the project's commands, built once from the working tree
// for a package's process tests, and the ONNX Runtime library their
// children need: started from a temporary directory, they cannot find the
// repository's copy by walking up from their working directory.
type Binaries struct {
	paths      map[string]string
	ORTLibrary string
}

// Path is where command's binary is.
func (b *Binaries) Path(command string) string { return b.paths[command] }

// RunWithBinaries is the body of a TestMain: it builds commands into a
// temporary directory, finds ONNX Runtime, runs the tests and removes the
// binaries, and returns the exit code. name prefixes what it prints.
func RunWithBinaries(m *testing.M, name string, b *Binaries, commands ...string) int {
	dir, err := os.MkdirTemp("", "streamscore-"+name+"-")
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if b.paths, err = Build(dir, commands...); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		return 1
	}
	b.ORTLibrary = ortkit.Library()
	if _, err := os.Stat(b.ORTLibrary); err != nil {
		fmt.Fprintf(os.Stderr, "%s: ONNX Runtime not found (%v); run make setup\n", name, err)
		return 1
	}
	// The tests' own calls (the catalog's import) find it as the children do.
	if err := os.Setenv(model.LibraryEnv, b.ORTLibrary); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		return 1
	}
	return m.Run()
}
