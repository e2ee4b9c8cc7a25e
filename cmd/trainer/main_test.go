package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/model"
)

func TestMain(m *testing.M) {
	if err := model.Init(model.LibraryPath("")); err != nil {
		fmt.Fprintln(os.Stderr, "ONNX Runtime unavailable (run `make setup`):", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func TestExitCodes(t *testing.T) {
	stack, err := embedded.Start(embedded.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stack.Close() })
	brokers := "-brokers=" + stack.Brokers()[0]
	tests := []struct {
		name   string
		args   []string
		code   int
		output string // in stdout or stderr
	}{
		{"help", []string{"-help"}, 0, ""},
		{"unknown flag", []string{"-nope"}, 2, "flag provided but not defined"},
		{"bad setting", []string{brokers, "-log-format", "xml"}, 2, "log-format"},
		{"serve with arguments", []string{brokers, "extra"}, 2, "unexpected arguments"},
		{"train without a job name", []string{"train", brokers}, 2, "one job name"},
		{"train an unknown job", []string{"train", brokers, "nope"}, 2, `"nope"`},
		{"an unknown catalog command", []string{"models", brokers, "frobnicate"}, 2, "frobnicate"},
		{"an empty catalog", []string{"models", brokers, "list"}, 0, ""},
		{"a model the catalog lacks", []string{"models", brokers, "show", "ghost", "champion"}, 1, "ghost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stdout.String()+stderr.String(), tt.output) {
				t.Errorf("output %q %q does not contain %q", stdout.String(), stderr.String(), tt.output)
			}
		})
	}
}
