package hostile_test

import (
	"os"
	"testing"

	"github.com/streamscore/streamscore/internal/testkit"
)

// bins are the scorer, the trainer and the stack, built once from the
// working tree.
var bins testkit.Binaries

func TestMain(m *testing.M) {
	os.Exit(testkit.RunWithBinaries(m, "hostile", &bins, "scorer", "trainer", "stack"))
}
