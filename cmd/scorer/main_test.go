package main

import "testing"

// TestRunExitCodes checks the contract operators script against: 2 for a
// configuration the scorer cannot start with, 1 for a failure after that,
// 0 for help.
func TestRunExitCodes(t *testing.T) {
	valid := []string{"-brokers", "127.0.0.1:1", "-registry-url", "http://127.0.0.1:1", "-topics", "in",
		"-http-addr", "127.0.0.1:0"}
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"help", []string{"-h"}, 0},
		{"unknown flag", []string{"-no-such-flag"}, 2},
		{"nothing configured", nil, 2},
		{"bad setting", append(valid, "-model", "m.onnx", "-batch-max-rows", "-1"), 2},
		{"model file and catalog model", append(valid, "-model", "m.onnx", "-model-name", "m"), 2},
		{"shadow without a catalog model", append(valid, "-model", "m.onnx", "-shadow-alias", "challenger"), 2},
		{"model file missing", append(valid, "-model", "/no/such/model.onnx"), 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := run(c.args); got != c.want {
				t.Fatalf("run(%q) = %d, want %d", c.args, got, c.want)
			}
		})
	}
}
