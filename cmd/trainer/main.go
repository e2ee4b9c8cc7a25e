// Command trainer retrains models from Kafka topics, publishes their
// versions to the model catalog, serves the training REST API, and manages
// the catalog from the command line:
//
//	trainer [serve] [flags]          run the jobs, their triggers and the API
//	trainer train [flags] [-force] JOB  train one job once and exit
//	trainer models [flags] COMMAND   list, show, promote, roll back, export, import
//
// See the README for the configuration.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/streamscore/streamscore/internal/flagconf"
	"github.com/streamscore/streamscore/internal/trainer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run returns the exit code: 0 on success, 1 on a failure, 2 on bad
// configuration or usage. Usage text, errors and logs go to stderr. The
// catalog commands are models'.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	command := "serve"
	if len(args) > 0 && (args[0] == "serve" || args[0] == "train" || args[0] == "models") {
		command, args = args[0], args[1:]
	}
	if command == "models" {
		return models(ctx, args, getenv, stdout, stderr)
	}
	cfg, rest, err := trainer.ParseConfigUsage("trainer "+command, args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "trainer:", err)
		return 2
	}
	logger, err := flagconf.NewLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		fmt.Fprintln(stderr, "trainer:", err)
		return 2
	}
	// The Go runtime reads GOGC and GOMEMLIMIT from the process's own
	// environment, so that is where to look for them.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(cfg.GCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" && cfg.MemoryLimitMB > 0 {
		debug.SetMemoryLimit(int64(cfg.MemoryLimitMB) << 20)
	}
	if command == "serve" && len(rest) > 0 {
		fmt.Fprintf(stderr, "trainer: unexpected arguments %q\n", rest)
		return 2
	}
	svc, err := trainer.New(ctx, cfg, logger)
	if err != nil {
		logger.Error("cannot start", "err", err)
		return trainer.ExitCode(err)
	}
	switch command {
	case "train":
		err = train(ctx, svc, rest, stdout)
	default:
		if err = svc.Listen(); err == nil {
			logger.Info("trainer started", "http", svc.Addr(), "jobs", len(cfg.Jobs))
			err = svc.Run(ctx)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "trainer:", err)
		return trainer.ExitCode(err)
	}
	return 0
}
