package trainer_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/flagconf"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/trainer"
)

func TestExitCode(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want int
	}{
		{"none", nil, 0},
		{"bad configuration", fmt.Errorf("%w: kafka-brokers: is empty", flagconf.ErrBadConfig), 2},
		{"command line", fmt.Errorf("%w: no command", trainer.ErrUsage), 2},
		{"unknown job", fmt.Errorf("%w: %q", jobs.ErrUnknownJob, "fraud"), 2},
		{"invalid options", fmt.Errorf("train fraud: %w: label: is required", fit.ErrInvalidOptions), 2},
		{"not enough data", fmt.Errorf("train fraud: %w", fit.ErrNotEnoughData), 1},
		{"any other failure", errors.New("broker unreachable"), 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := trainer.ExitCode(tt.err); got != tt.want {
				t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}
