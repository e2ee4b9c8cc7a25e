package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/testkit/stackkit"
)

// runCatalogCommand runs one catalog command as `trainer models` does,
// readying ONNX Runtime for the commands that load a model.
func runCatalogCommand(ctx context.Context, c *catalog.Catalog, args []string, stdout io.Writer) error {
	cli := catalogCLI{catalog: c, loadRuntime: func() error { return model.Init(model.LibraryPath("")) }}
	return cli.run(ctx, args, stdout)
}

// emptyCatalog is a catalog on an embedded stack of its own, both closed
// at cleanup.
func emptyCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	stack := stackkit.Start(t, embedded.Config{})
	c, err := catalog.New(stack.KafkaOpts(), "models", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// testContext ends with the test, or after a minute.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
