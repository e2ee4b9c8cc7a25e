package drift_test

import (
	"os"
	"testing"

	"github.com/streamscore/streamscore/internal/testkit/ortkit"
)

func TestMain(m *testing.M) { os.Exit(ortkit.Main(m)) }
