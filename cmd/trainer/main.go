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

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/flagconf"
	"github.com/streamscore/streamscore/internal/trainer"
	"github.com/streamscore/streamscore/internal/trainerd"
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
	cfg, rest, err := trainerd.ParseConfigUsage("trainer "+command, args, getenv, stderr)
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
	svc, err := trainerd.New(ctx, cfg, logger)
	if err != nil {
		logger.Error("cannot start", "err", err)
		return exitCode(err)
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
		return exitCode(err)
	}
	return 0
}

// train runs one job: train [-force] JOB.
func train(ctx context.Context, svc *trainerd.Service, args []string, stdout io.Writer) error {
	defer svc.Close()
	fs := flag.NewFlagSet("trainer train", flag.ContinueOnError)
	force := fs.Bool("force", false, "promote the new version to champion whatever its metrics")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", flagconf.ErrBadConfig, err)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: train takes one job name, got %q", flagconf.ErrBadConfig, fs.Args())
	}
	out, err := svc.TrainOnce(ctx, fs.Arg(0), *force)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s v%d: %v\npromoted: %v (%s)\n", out.Version.Name, out.Version.Version, out.Result.Evaluation.Metrics, out.Promoted, out.Reason)
	return nil
}

func exitCode(err error) int {
	if errors.Is(err, flagconf.ErrBadConfig) || errors.Is(err, catalog.ErrUsage) || errors.Is(err, trainer.ErrUnknownJob) || errors.Is(err, trainer.ErrInvalidOptions) {
		return 2
	}
	return 1
}
