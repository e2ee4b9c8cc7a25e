package trainer

import (
	"errors"

	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/jobs"
)

// ErrUsage marks a command line that cannot be run: a command or its
// arguments, such as a catalog command's (cmd/trainer's models).
var ErrUsage = errors.New("usage")

// ExitCode is the exit status of a trainer command that ended with err:
// 0 without an error; 2 when the command could not be run as given (bad
// configuration, a command line that cannot be run, an unknown job,
// options that cannot describe a training); 1 for any other failure.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrBadConfig), errors.Is(err, ErrUsage),
		errors.Is(err, jobs.ErrUnknownJob), errors.Is(err, fit.ErrInvalidOptions):
		return 2
	}
	return 1
}
