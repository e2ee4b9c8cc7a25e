// Command scorer consumes Confluent-framed Avro records from Kafka, scores
// them with an ONNX model and produces enriched records, dead-lettering
// whatever cannot be scored. See the README for its configuration.
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
	"github.com/streamscore/streamscore/internal/scorer"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

// run returns the exit code: 0 on a clean stop, 1 on a failure, 2 on bad
// configuration. Usage text, errors and logs go to stderr.
func run(args []string, getenv func(string) string, stderr io.Writer) int {
	cfg, err := scorer.ParseConfigUsage(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "scorer:", err)
		return 2
	}
	logger, err := flagconf.NewLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		fmt.Fprintln(stderr, "scorer:", err)
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	svc, err := scorer.New(cfg, logger)
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}
	// The signal handler is installed and the HTTP address bound: process
	// tests (internal/chaos) wait for this line, and read the address from
	// it, before they query or signal the scorer.
	logger.Info("scorer started", "topics", cfg.Stream.Topics, "http", svc.Addr())
	if err := svc.Run(ctx); err != nil {
		logger.Error("scorer stopped", "err", err)
		return 1
	}
	logger.Info("scorer stopped cleanly")
	return 0
}
