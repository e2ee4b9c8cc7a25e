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
		{"static member", func(c *Config) { c.InstanceID = "scorer-0" }, ""},
		{"instance id with a space", func(c *Config) { c.InstanceID = "scorer 0" }, `instance-id: "scorer 0" has ' '`},
		{"instance id too long", func(c *Config) { c.InstanceID = strings.Repeat("s", 250) }, "instance-id: 250 characters, over 249"},
		{"instance id dot", func(c *Config) { c.InstanceID = ".." }, `instance-id: ".." is not a name`},
		{"session at the brokers' minimum", func(c *Config) { c.SessionTimeout = 6 * time.Second }, ""},
		{"session below the brokers' minimum", func(c *Config) { c.SessionTimeout = 5 * time.Second }, "session-timeout: 5s is outside 6s..30m0s"},
		{"session above the brokers' maximum", func(c *Config) { c.SessionTimeout = 31 * time.Minute }, "session-timeout: 31m0s is outside"},
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

// TestInstanceID checks who is a static member, and under which name:
// the instance id when set, else, exactly once only, the transactional id
// when Kafka would take it as an instance id.
func TestInstanceID(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	hostDefault := "g-" + host
	if validInstanceID(hostDefault) != nil {
		hostDefault = ""
	}
	cases := []struct {
		name                   string
		exactlyOnce            bool
		instanceID, txID, want string
	}{
		{"at least once: dynamic by default", false, "", "", ""},
		{"at least once: the instance id set", false, "scorer-0", "", "scorer-0"},
		{"at least once: a transactional id is no identity", false, "", "t-0", ""},
		{"exactly once: the default transactional id", true, "", "", hostDefault},
		{"exactly once: the transactional id set", true, "", "g-scorer-0", "g-scorer-0"},
		{"exactly once: the instance id set wins", true, "scorer-0", "g-scorer-0", "scorer-0"},
		{"exactly once: a transactional id Kafka refuses as instance id", true, "", "g/scorer 0", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{Group: "g", ExactlyOnce: c.exactlyOnce, InstanceID: c.instanceID, TransactionalID: c.txID}
			if got := cfg.instanceID(); got != c.want {
				t.Errorf("instanceID() = %q, want %q", got, c.want)
			}
		})
	}
}

func TestHeartbeatInterval(t *testing.T) {
	for _, c := range []struct{ session, want time.Duration }{
		{DefaultSessionTimeout, 3 * time.Second},
		{45 * time.Second, 3 * time.Second},
		{6 * time.Second, 2 * time.Second},
	} {
		if got := heartbeatInterval(c.session); got != c.want {
			t.Errorf("heartbeatInterval(%v) = %v, want %v", c.session, got, c.want)
		}
	}
}
