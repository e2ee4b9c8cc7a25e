package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/streamscore/streamscore/internal/flagconf"
	"github.com/streamscore/streamscore/internal/trainer"
)

// train runs one job: train [-force] JOB.
func train(ctx context.Context, svc *trainer.Service, args []string, stdout io.Writer) error {
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
