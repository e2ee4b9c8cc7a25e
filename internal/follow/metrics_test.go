package follow

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamscore/streamscore/internal/model"
)

// TestNewLoaderRegistrationError: a registry that already holds the
// loader's metrics makes NewLoader fail with the registry's error, not
// panic.
func TestNewLoaderRegistrationError(t *testing.T) {
	reg := prometheus.NewRegistry()
	deps := Deps{Catalog: noCatalog{}, CheckSchemas: func(model.Spec) error { return nil }, Registerer: reg}
	if _, err := NewLoader(Config{}, deps); err != nil {
		t.Fatalf("first loader: %v", err)
	}
	_, err := NewLoader(Config{}, deps)
	var already prometheus.AlreadyRegisteredError
	if !errors.As(err, &already) {
		t.Fatalf("second loader on the same registry: err = %v, want a prometheus.AlreadyRegisteredError", err)
	}
}

// noCatalog is a Catalog that is never asked.
type noCatalog struct{ Catalog }
