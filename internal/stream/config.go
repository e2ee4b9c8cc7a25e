package stream

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/streamscore/streamscore/internal/connect"
)

// Config tunes the scoring loop. Kafka connection settings live with the
// caller, which builds the kgo options; this is what the loop itself needs.
type Config struct {
	// Topics are the input topics, consumed as one group.
	Topics []string `yaml:"topics"`
	// Group is the consumer group id; scorers sharing it share the work.
	Group string `yaml:"group"`
	// OutputTopic names each input's output topic; "{topic}" stands for the
	// input topic. Default "{topic}.scored".
	OutputTopic string `yaml:"output_topic"`
	// DeadLetterTopic receives every record that cannot be scored.
	DeadLetterTopic string `yaml:"dlq_topic"`
	// ShadowTopic names each input's shadow topic, where a shadow model's
	// results go; "{topic}" stands for the input topic. Empty, the
	// default, turns shadow scoring off.
	ShadowTopic string `yaml:"shadow_topic"`

	// MaxBatch is the most records one model run takes.
	MaxBatch int `yaml:"batch_max_rows"`
	// MaxWait is how long a partial batch waits for more records before it
	// is scored anyway. Zero, the default, scores whatever one poll returns:
	// under load polls return full batches anyway, and at low rates waiting
	// only adds latency; a wait helps models whose per-run cost dominates.
	MaxWait time.Duration `yaml:"batch_max_wait"`
	// MaxRecordBytes bounds an input value; larger ones are dead-lettered
	// as oversize before any decoding.
	MaxRecordBytes int `yaml:"max_record_bytes"`
	// FetchMaxPartitionBytes is how many bytes, compressed, one fetch
	// asks of a partition (Kafka's max.partition.fetch.bytes; the broker
	// still sends a larger batch whole). What a fetch brings, decompressed,
	// waits in memory until it is polled, so this bounds the scorer's
	// buffers per assigned partition; see DefaultFetchMaxPartitionBytes.
	FetchMaxPartitionBytes int `yaml:"fetch_max_partition_bytes"`
	// MaxDecompressedBatchBytes bounds what one fetched record batch may
	// decompress to. A batch past it (a compression bomb: a few kilobytes
	// that inflate to gigabytes) is skipped, without decompressing it,
	// and one dead letter names its offsets (class oversize_batch).
	MaxDecompressedBatchBytes int `yaml:"max_decompressed_batch_bytes"`

	// DrainTimeout bounds how long shutdown and rebalances wait for
	// in-flight records to be acknowledged before committing.
	DrainTimeout time.Duration `yaml:"drain_timeout"`
	// RegistryBackoff is the first and MaxRegistryBackoff the longest wait
	// between retries while the schema registry is unreachable.
	RegistryBackoff    time.Duration `yaml:"registry_backoff"`
	MaxRegistryBackoff time.Duration `yaml:"max_registry_backoff"`

	// ExactlyOnce consumes, scores and produces inside Kafka transactions:
	// a poll's outputs, dead letters and input offsets commit together or
	// not at all, so read_committed consumers see each input's result once.
	ExactlyOnce bool `yaml:"exactly_once"`
	// TransactionalID names this scorer's transactions. It must differ
	// between scorers of a group and stay the same across a scorer's
	// restarts, so a restarted scorer aborts its predecessor's open
	// transaction at once instead of waiting for it to time out. Default:
	// the group and the host name.
	TransactionalID string `yaml:"transactional_id"`
	// CommitInterval is, exactly once, how long a transaction gathers
	// polls before it commits: longer means fewer commits (faster), shorter
	// means outputs visible to read_committed consumers sooner. At least
	// once, it is how often the acknowledged offsets are committed: what a
	// crash makes the scorer repeat. Zero means 100 ms exactly once, 1 s at
	// least once.
	CommitInterval time.Duration `yaml:"commit_interval"`

	// InstanceID makes the scorer a static member of its group (KIP-345)
	// under this name, which must be unique in the group and stay the same
	// across the scorer's restarts: a scorer restarted after a crash then
	// takes its dead predecessor's place, and partitions, at once, where a
	// dynamic member waits for the group to expire the dead one (a session
	// timeout). Empty: a dynamic member, except exactly once, where the
	// transactional id, already unique and stable, serves (see instanceID).
	InstanceID string `yaml:"instance_id"`
	// SessionTimeout is how long the group waits without a heartbeat
	// before it declares a member dead and gives its partitions to the
	// others; see DefaultSessionTimeout.
	SessionTimeout time.Duration `yaml:"session_timeout"`
}

// Defaults for a zero Config.
const (
	DefaultOutputTopic = "{topic}.scored"
	DefaultShadowTopic = "{topic}.shadow"
	DefaultMaxBatch    = 128
	// MaxProduceBytes is the largest record batch the scorer produces:
	// franz-go's default, which fits Kafka's default message.max.bytes.
	MaxProduceBytes = 1_000_012
	// DefaultMaxRecordBytes leaves room under MaxProduceBytes for the
	// prediction and headers the scorer adds, so a record that passes the
	// check always fits its output.
	DefaultMaxRecordBytes = MaxProduceBytes - 16<<10
	// DefaultFetchMaxPartitionBytes is Kafka's default. The fetched
	// batches, decompressed, are most of the scorer's live heap while it
	// drains a backlog; at 256 KiB a compressed hostile stream over six
	// partitions peaked at 125 MB of RSS instead of 260-290 MB (with
	// -gc-percent 400 and no memory limit; internal/hostile), but
	// throughput fell by 15% (make bench), so the default stays, and a
	// memory limit (-memory-limit-mb) is the way to bound the heap.
	DefaultFetchMaxPartitionBytes = 1 << 20
	// DefaultMaxDecompressedBatchBytes is the bound the trainer's
	// consumers share (see connect).
	DefaultMaxDecompressedBatchBytes = connect.DefaultMaxDecompressedBatchBytes
	// DefaultSessionTimeout weighs what a dead member costs against what a
	// false alarm costs. A scorer that dies and does not come back under
	// its instance id (a lost node, a dynamic member's restart, a crash
	// loop) leaves its partitions unscored for this long. A live scorer
	// declared dead, because no heartbeat got through for this long (a
	// network or broker stall; franz-go heartbeats from its own goroutine,
	// so GC pauses and slow batches do not delay them), costs one
	// rebalance: at least once about a second of work repeated, exactly
	// once one aborted transaction. Kafka's own default was 10 s until 3.0
	// raised it to 45 s (KIP-735) for consumers whose rebalances are
	// costly; the scorer's are cheap, so 10 s: three heartbeats per
	// session, and above the 6 s brokers accept by default.
	DefaultSessionTimeout = 10 * time.Second
)

// The session timeouts a broker accepts by default
// (group.min.session.timeout.ms, group.max.session.timeout.ms); one outside
// them would have every join refused.
const (
	minSessionTimeout = 6 * time.Second
	maxSessionTimeout = 30 * time.Minute
)

// maxCommitInterval bounds a transaction's length in exactly-once mode.
const maxCommitInterval = 10 * time.Second

// ErrBadConfig marks a configuration the loop cannot run with.
var ErrBadConfig = errors.New("invalid scorer configuration")

// WithDefaults fills the zero fields.
func (c Config) WithDefaults() Config {
	if c.OutputTopic == "" {
		c.OutputTopic = DefaultOutputTopic
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.MaxRecordBytes == 0 {
		c.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if c.FetchMaxPartitionBytes == 0 {
		c.FetchMaxPartitionBytes = DefaultFetchMaxPartitionBytes
	}
	if c.MaxDecompressedBatchBytes == 0 {
		c.MaxDecompressedBatchBytes = DefaultMaxDecompressedBatchBytes
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = 30 * time.Second
	}
	if c.RegistryBackoff == 0 {
		c.RegistryBackoff = 100 * time.Millisecond
	}
	if c.MaxRegistryBackoff == 0 {
		c.MaxRegistryBackoff = 5 * time.Second
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	return c
}

// transactionalID is TransactionalID or its default, the group and the
// host name. Without a host name there is no default: one shared by every
// scorer of the group would have them fence each other.
func (c Config) transactionalID() string {
	if c.TransactionalID != "" {
		return c.TransactionalID
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		return ""
	}
	return c.Group + "-" + host
}

// instanceID is InstanceID or, exactly once, the transactional id, if it
// is a valid instance id: the transactional id must already be unique in
// the group and stable across restarts, which is all static membership
// asks, and exactly once needs a broker (Kafka 2.5+) that knows static
// members, so the default adds no requirement. At least once there is no
// such identity to borrow: a host name default would have two scorers on
// one host fence each other, so the default is a dynamic member ("").
func (c Config) instanceID() string {
	if c.InstanceID != "" || !c.ExactlyOnce {
		return c.InstanceID
	}
	if id := c.transactionalID(); validInstanceID(id) == nil {
		return id
	}
	return ""
}

// validInstanceID applies the rule Kafka's own clients apply to
// group.instance.id (that of topic names): at most 249 ASCII letters,
// digits, '.', '_' and '-', and not "." or "..".
func validInstanceID(id string) error {
	switch {
	case id == "" || id == "." || id == "..":
		return fmt.Errorf("%q is not a name", id)
	case len(id) > 249:
		return fmt.Errorf("%d characters, over 249", len(id))
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("%q has %q: only ASCII letters, digits, '.', '_' and '-'", id, r)
		}
	}
	return nil
}

// commitInterval is CommitInterval or its default for the mode.
func (c Config) commitInterval() time.Duration {
	switch {
	case c.CommitInterval > 0:
		return c.CommitInterval
	case c.ExactlyOnce:
		return 100 * time.Millisecond
	default:
		return time.Second
	}
}

// Validate reports every problem at once, each naming its setting.
func (c Config) Validate() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if len(c.Topics) == 0 {
		add("topics: at least one input topic is required")
	}
	for _, t := range c.Topics {
		if t == "" {
			add("topics: empty topic name")
		}
		switch out := c.OutputFor(t); {
		case out == t:
			add("output-topic: %q would write back into its own input", out)
		case slices.Contains(c.Topics, out):
			add("output-topic: %q, the output of %q, is also an input topic", out, t)
		case out == c.DeadLetterTopic:
			add("output-topic: %q, the output of %q, is also the dead-letter topic", out, t)
		}
		if t == c.DeadLetterTopic {
			add("dlq-topic: %q is also an input topic", t)
		}
		if c.ShadowTopic == "" {
			continue
		}
		switch sh := c.ShadowFor(t); {
		case slices.Contains(c.Topics, sh):
			add("shadow-topic: %q, the shadow of %q, is also an input topic", sh, t)
		case sh == c.DeadLetterTopic:
			add("shadow-topic: %q, the shadow of %q, is also the dead-letter topic", sh, t)
		case slices.ContainsFunc(c.Topics, func(in string) bool { return c.OutputFor(in) == sh }):
			add("shadow-topic: %q, the shadow of %q, is also an output topic", sh, t)
		}
	}
	if c.Group == "" {
		add("group: a consumer group id is required")
	}
	if c.DeadLetterTopic == "" {
		add("dlq-topic: a dead-letter topic is required")
	}
	if c.MaxBatch < 1 || c.MaxBatch > 65536 {
		add("batch-max-rows: %d is outside 1..65536", c.MaxBatch)
	}
	if c.MaxWait < 0 {
		add("batch-max-wait: %v is negative", c.MaxWait)
	}
	if c.MaxRecordBytes < 5 || c.MaxRecordBytes > DefaultMaxRecordBytes {
		add("max-record-bytes: %d is outside 5..%d (outputs must fit a %d-byte produce)", c.MaxRecordBytes, DefaultMaxRecordBytes, MaxProduceBytes)
	}
	if c.FetchMaxPartitionBytes < 1<<10 || c.FetchMaxPartitionBytes > 64<<20 {
		add("fetch-max-partition-bytes: %d is outside 1 KiB..64 MiB", c.FetchMaxPartitionBytes)
	}
	if c.MaxDecompressedBatchBytes < MaxProduceBytes || c.MaxDecompressedBatchBytes > 1<<30 {
		add("max-decompressed-batch-bytes: %d is outside %d..1 GiB (a batch of the largest record must fit)", c.MaxDecompressedBatchBytes, MaxProduceBytes)
	}
	if c.DrainTimeout <= 0 || c.RegistryBackoff <= 0 || c.MaxRegistryBackoff < c.RegistryBackoff {
		add("timeouts: drain and registry backoff must be positive, the longest backoff at least the first")
	}
	if c.CommitInterval < 0 {
		add("commit-interval: %v is negative", c.CommitInterval)
	}
	if c.InstanceID != "" {
		if err := validInstanceID(c.InstanceID); err != nil {
			add("instance-id: %v", err)
		}
	}
	if c.SessionTimeout < minSessionTimeout || c.SessionTimeout > maxSessionTimeout {
		add("session-timeout: %v is outside %v..%v, what brokers accept by default", c.SessionTimeout, minSessionTimeout, maxSessionTimeout)
	}
	if c.ExactlyOnce {
		if c.transactionalID() == "" {
			add("transactional-id: required in exactly-once mode (the host name is unknown)")
		}
		// A transaction must end well inside franz-go's 40 s transaction
		// timeout, or the coordinator aborts every one.
		if c.CommitInterval > maxCommitInterval {
			add("commit-interval: %v is over %v, too close to the 40 s transaction timeout", c.CommitInterval, maxCommitInterval)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrBadConfig, strings.Join(problems, "; "))
	}
	return nil
}

// ShadowFor returns the shadow topic of an input topic ("" when shadow
// scoring is off).
func (c Config) ShadowFor(input string) string {
	return strings.ReplaceAll(c.ShadowTopic, "{topic}", input)
}

// OutputFor returns the output topic of an input topic.
func (c Config) OutputFor(input string) string {
	return strings.ReplaceAll(c.OutputTopic, "{topic}", input)
}
