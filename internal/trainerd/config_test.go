package trainerd_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/trainerd"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestParseConfigReadsTheExampleFile(t *testing.T) {
	cfg, rest, err := trainerd.ParseConfig("trainer", []string{"-config", "testdata/trainer.yaml", "-http-addr", ":9000", "list"},
		env(map[string]string{"STREAMSCORE_TRAINER_BROKERS": "a:1,b:2"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Jobs) != 2 || cfg.Jobs[0].Schedule != 24*time.Hour || cfg.Jobs[0].EveryRecords != 500000 {
		t.Errorf("jobs %+v", cfg.Jobs)
	}
	if string(cfg.Jobs[0].Options.Params) != `{"learning_rate":0.1,"max_depth":6,"num_trees":100}` {
		t.Errorf("params %s", cfg.Jobs[0].Options.Params)
	}
	// Flags over the environment over the file.
	if cfg.HTTPAddr != ":9000" || strings.Join(cfg.Kafka.Brokers, ",") != "a:1,b:2" {
		t.Errorf("http %q brokers %v", cfg.HTTPAddr, cfg.Kafka.Brokers)
	}
	if len(rest) != 1 || rest[0] != "list" {
		t.Errorf("arguments left %q, want [list]", rest)
	}
}

func TestParseConfigRefusesBadSettings(t *testing.T) {
	dir := t.TempDir()
	badJob := filepath.Join(dir, "bad-job.yaml")
	if err := os.WriteFile(badJob, []byte("jobs:\n  - name: x\n    source: {topic: t}\n    options: {family: gbdt, label: y}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unknown := filepath.Join(dir, "unknown.yaml")
	if err := os.WriteFile(unknown, []byte("http_adr: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown flag", []string{"-nope"}, nil, "flag provided but not defined"},
		{"bad duration", []string{"-poll-interval", "soon"}, nil, "poll-interval"},
		{"non-positive poll interval", []string{"-poll-interval", "0s"}, nil, "poll-interval"},
		{"bad log format", []string{"-log-format", "xml"}, nil, "log-format"},
		{"bad environment value", nil, map[string]string{"STREAMSCORE_TRAINER_MAX_BODY_BYTES": "lots"}, "STREAMSCORE_TRAINER_MAX_BODY_BYTES"},
		{"missing file", []string{"-config", filepath.Join(dir, "none.yaml")}, nil, "config file"},
		{"unknown key in the file", []string{"-config", unknown}, nil, "http_adr"},
		{"a job without features", []string{"-config", badJob}, nil, "features: at least one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := trainerd.ParseConfig("trainer", tt.args, env(tt.env))
			if !errors.Is(err, trainerd.ErrBadConfig) {
				t.Fatalf("error %v, want ErrBadConfig", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %q", err, tt.want)
			}
		})
	}
}
