//go:build chaos

package chaos

import (
	"os"
	"testing"

	"github.com/streamscore/streamscore/internal/testkit"
)

// bins are the scorer and the stack, built once from the working tree, so
// the tests exercise exactly the code being changed.
var bins testkit.Binaries

func TestMain(m *testing.M) {
	os.Exit(testkit.RunWithBinaries(m, "chaos", &bins, "scorer", "stack"))
}
