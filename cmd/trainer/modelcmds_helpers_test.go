package main

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/sample"
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

// sensorVersion is a sensor model version's metadata, trained on two
// partitions of a day of readings.
func sensorVersion(name string) catalog.Version {
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return catalog.Version{
		Name: name, Family: "gbdt", Spec: sample.SensorSpec(name, ""),
		Metrics: map[string]float64{"auc": 0.93, "logloss": 0.21},
		Source: catalog.Source{
			Topic:  "sensors",
			Ranges: []catalog.OffsetRange{{Partition: 0, Start: 0, End: 5000}, {Partition: 1, Start: 10, End: 4990}},
			From:   day, To: day.AddDate(0, 0, 1),
		},
		Params: []byte(`{"num_trees":20,"max_depth":4}`),
	}
}

// artifactBytes is n bytes standing for an artifact, the same for the
// same seed.
func artifactBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}
