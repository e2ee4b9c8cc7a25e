package stream

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	valid := Config{Topics: []string{"in"}, Group: "g", DeadLetterTopic: "dlq"}.WithDefaults()
	cases := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"valid", func(*Config) {}, ""},
		{"no topics", func(c *Config) { c.Topics = nil }, "topics: at least one"},
		{"empty topic", func(c *Config) { c.Topics = []string{""} }, "topics: empty topic name"},
		{"no group", func(c *Config) { c.Group = "" }, "group: a consumer group id"},
		{"no dead-letter topic", func(c *Config) { c.DeadLetterTopic = "" }, "dlq-topic: a dead-letter topic"},
		{"output into input", func(c *Config) { c.OutputTopic = "in" }, "would write back into its own input"},
		{"output into another input", func(c *Config) { c.Topics = []string{"a", "b"}; c.OutputTopic = "b" }, `"b", the output of "a", is also an input topic`},
		{"output into dead letters", func(c *Config) { c.OutputTopic = "dlq" }, "is also the dead-letter topic"},
		{"shadow on", func(c *Config) { c.ShadowTopic = DefaultShadowTopic }, ""},
		{"shadow into input", func(c *Config) { c.ShadowTopic = "{topic}" }, `shadow-topic: "in", the shadow of "in", is also an input topic`},
		{"shadow into outputs", func(c *Config) { c.ShadowTopic = "{topic}.scored" }, `shadow-topic: "in.scored", the shadow of "in", is also an output topic`},
		{"shadow into dead letters", func(c *Config) { c.ShadowTopic = "dlq" }, `shadow-topic: "dlq", the shadow of "in", is also the dead-letter topic`},
		{"huge batch", func(c *Config) { c.MaxBatch = 1 << 20 }, "batch-max-rows"},
		{"negative wait", func(c *Config) { c.MaxWait = -1 }, "batch-max-wait"},
		{"tiny records", func(c *Config) { c.MaxRecordBytes = 4 }, "max-record-bytes"},
		{"backoff upside down", func(c *Config) { c.MaxRegistryBackoff = c.RegistryBackoff / 2 }, "the longest backoff at least the first"},
		{"no drain timeout", func(c *Config) { c.DrainTimeout = -1 }, "drain"},
		{"long transactions", func(c *Config) { c.ExactlyOnce, c.TransactionalID, c.CommitInterval = true, "t", 20*time.Second }, "too close to the 40 s transaction timeout"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := valid
			c.change(&cfg)
			err := cfg.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// TestDefaultTransactionalID checks that scorers of a group on different
// hosts get different transactional ids, and that a set one is kept.
func TestDefaultTransactionalID(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Group: "g", ExactlyOnce: true}
	if got, want := cfg.transactionalID(), "g-"+host; got != want {
		t.Errorf("default transactional id %q, want %q", got, want)
	}
	cfg.TransactionalID = "scorer-0"
	if got := cfg.transactionalID(); got != "scorer-0" {
		t.Errorf("transactional id %q, want the one set", got)
	}
}
