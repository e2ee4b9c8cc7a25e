package flagconf

import (
	"fmt"
	"io"
	"log/slog"
)

// NewLogger builds a service logger from the configured level and format
// ("text" or "json").
func NewLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	lvl, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("%w: log-format: %q is neither text nor json", ErrBadConfig, format)
}

// ParseLevel reads a log level flag.
func ParseLevel(s string) (slog.Level, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%w: log-level: %q is not debug, info, warn or error", ErrBadConfig, s)
	}
	return lvl, nil
}
