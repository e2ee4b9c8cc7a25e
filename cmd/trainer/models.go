package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/flagconf"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/trainer"
)

const modelsName = "trainer models"

// models runs `trainer models [flags] COMMAND`. It needs Kafka and the
// catalog topic only: ONNX Runtime is loaded for the commands that load a
// model (import), so that reading the catalog works where it is absent.
func models(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	var flags bytes.Buffer
	cfg, rest, err := trainer.ParseConfigUsage(modelsName, args, getenv, &flags)
	if errors.Is(err, flag.ErrHelp) {
		modelsUsage(stderr, flags.String())
		return 0
	}
	if err != nil {
		stderr.Write(flags.Bytes())
		fmt.Fprintln(stderr, "trainer:", err)
		return 2
	}
	if len(rest) == 0 || !isCatalogCommand(rest[0]) {
		if len(rest) == 0 {
			fmt.Fprintln(stderr, "trainer models: no command")
		} else {
			fmt.Fprintf(stderr, "trainer models: unknown command %q\n", rest[0])
		}
		// The flags' text as -h prints it.
		var help bytes.Buffer
		trainer.ParseConfigUsage(modelsName, []string{"-h"}, getenv, &help)
		modelsUsage(stderr, help.String())
		return 2
	}
	logger, err := flagconf.NewLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		fmt.Fprintln(stderr, "trainer:", err)
		return 2
	}
	c, err := openCatalog(ctx, cfg, logger)
	if err != nil {
		logger.Error("cannot start", "err", err)
		return trainer.ExitCode(err)
	}
	defer c.Close()
	cli := catalogCLI{catalog: c, loadRuntime: func() error {
		return model.Init(model.LibraryPath(cfg.ORTLibrary))
	}}
	if err := cli.run(ctx, rest, stdout); err != nil {
		fmt.Fprintln(stderr, "trainer:", err)
		return trainer.ExitCode(err)
	}
	return 0
}

// modelsUsage prints the commands, then the flags as the flag package
// printed them (flags, without its "Usage of" line).
func modelsUsage(w io.Writer, flags string) {
	if _, after, ok := strings.Cut(flags, "Usage of "+modelsName+":\n"); ok {
		flags = after
	}
	fmt.Fprintf(w, "Usage: %s [flags] COMMAND [arguments]\n\n%s\n\nFlags:\n%s", modelsName, catalogUsage(), flags)
}

// openCatalog reaches Kafka and reads the catalog topic, as the service
// does but without the rest of it (jobs, the API, ONNX Runtime). The topic
// is not created here: a missing one is an empty catalog, and the commands
// that write create it.
func openCatalog(ctx context.Context, cfg trainer.Config, logger *slog.Logger) (*catalog.Catalog, error) {
	kafkaOpts, err := cfg.Kafka.Opts()
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := cfg.Kafka.Ping(pingCtx); err != nil {
		return nil, err
	}
	return catalog.New(kafkaOpts, cfg.ModelsTopic, logger)
}
