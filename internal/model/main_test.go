package model_test

import (
	"os"
	"testing"

	"github.com/streamscore/streamscore/internal/testkit/ortkit"
)

func TestMain(m *testing.M) {
	if os.Getenv(freshInitEnv) != "" {
		// A child process started by TestInitInFreshProcess: it checks
		// Init before anything else initialises ONNX Runtime.
		os.Exit(freshInitChild())
	}
	os.Exit(ortkit.Main(m))
}
