package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/drift"
	"github.com/streamscore/streamscore/internal/model"
)

// DefaultTopic is the catalog's topic unless configured otherwise.
const DefaultTopic = "_streamscore_models"

// DefaultChunkSize is the most artifact bytes one record carries.
const DefaultChunkSize = 512 << 10

// recordOverhead is what a record holds besides its chunk: key, headers and
// batch framing. Metadata records must fit in chunk size plus this.
const recordOverhead = 64 << 10

// Errors callers act on; every error the catalog returns for these classes
// wraps one of them.
var (
	// ErrNotFound: no such model, version or alias.
	ErrNotFound = errors.New("not found")
	// ErrCorrupt: an artifact whose chunks are missing, or whose size or
	// SHA-256 does not match its metadata.
	ErrCorrupt = errors.New("corrupt artifact")
	// ErrConflict: another process published the same version number first.
	ErrConflict = errors.New("version already taken")
	// ErrInvalid: bad metadata, name or alias.
	ErrInvalid = errors.New("invalid")
	// ErrClosed: the Catalog was closed.
	ErrClosed = errors.New("catalog closed")
)

// Version is one published model version: its metadata, and the size and
// digest of its ONNX artifact.
type Version struct {
	Name      string             `json:"name"`
	Version   int                `json:"version"` // 1, 2, ... per name, assigned by Publish
	Family    string             `json:"family"`  // "gbdt", "linear", "text", "imported"
	Spec      model.Spec         `json:"spec"`    // feature mapping and label names
	Metrics   map[string]float64 `json:"metrics,omitempty"`
	Source    Source             `json:"source"`
	Parent    int                `json:"parent,omitempty"` // the champion it was trained to replace
	CreatedAt time.Time          `json:"created_at"`
	Params    json.RawMessage    `json:"params,omitempty"` // trainer parameters
	Fit       *FitStats          `json:"fit,omitempty"`    // how boosting went; nil for other families
	// Profile is the version's drift reference: what its training rows
	// and its predictions on them looked like (at most
	// drift.MaxProfileBytes of JSON); nil when the trainer had no rows to
	// take it from, and drift is then not measured against it.
	Profile *drift.Profile `json:"profile,omitempty"`
	SHA256  string         `json:"sha256"` // of the ONNX artifact, hex
	Size    int            `json:"size"`
	Chunks  int            `json:"chunks"`
}

// FitProfile is v without its drift profile when its metadata would not
// fit a record with it (MaxMetadataBytes: a spec of very many categories
// can leave no room), dropped saying so: the version is better published
// without a reference than not at all. A profile is at most
// drift.MaxProfileBytes, so a spec of ordinary size always leaves room.
func (v Version) FitProfile() (out Version, dropped bool) {
	if v.Profile == nil {
		return v, false
	}
	// Publish adds the number, digest, size, chunks and time: well under
	// this slack.
	const slack = 512
	meta, err := json.Marshal(v)
	if err == nil && len(meta)+slack <= MaxMetadataBytes {
		return v, false
	}
	v.Profile = nil
	return v, true
}

// FitStats tells how a boosted model's fit went: with early stopping on,
// Iterations can be fewer than the max_iter in Params.
type FitStats struct {
	Iterations   int  `json:"iterations"` // rounds grown, scikit-learn's n_iter_
	EarlyStopped bool `json:"early_stopped,omitempty"`
}

// Source says which records of a topic a training reads (a job's source
// and test_source, in YAML: the first four fields), and, stored with a
// version, what the version was trained on.
type Source struct {
	Topic string `json:"topic,omitempty" yaml:"topic"`
	// Ranges restrict reading to these offsets; partitions not listed are
	// not read. Empty means every partition, start to end.
	Ranges []OffsetRange `json:"ranges,omitempty" yaml:"ranges"`
	// From and To bound the records' timestamps: From inclusive, To
	// exclusive; a zero time leaves that side open. A window and ranges
	// combine.
	From        time.Time `json:"from,omitzero" yaml:"from"`
	To          time.Time `json:"to,omitzero" yaml:"to"`
	Description string    `json:"description,omitempty" yaml:"-"`
	// Holdout says which rows the metrics were computed on ("the newest
	// 20%", "from <time>", "test source", "none").
	Holdout string `json:"holdout,omitempty" yaml:"-"`
	// Test is the test source the metrics were computed on, when the
	// training was given one apart from its source.
	Test *Source `json:"test,omitempty" yaml:"-"`
}

// OffsetRange is a span of one partition's offsets; End is exclusive.
type OffsetRange struct {
	Partition int32 `json:"partition" yaml:"partition"`
	Start     int64 `json:"start" yaml:"start"`
	End       int64 `json:"end" yaml:"end"`
}

// AliasChange is one move of an alias, as kept in the history.
type AliasChange struct {
	Name     string    `json:"name"`
	Alias    string    `json:"alias"`
	Version  int       `json:"version"`
	Previous int       `json:"previous,omitempty"` // 0: the alias was new
	At       time.Time `json:"at"`
	Reason   string    `json:"reason,omitempty"`
	Forced   bool      `json:"forced,omitempty"`
	// Rollback marks a change made by Rollback; a later Rollback skips it
	// and the change it undid, so repeated rollbacks walk back in time.
	Rollback bool `json:"rollback,omitempty"`
	// Evidence is the measurement the change rested on, when one decided
	// it (the trainer's online promotion); nil otherwise.
	Evidence *Evidence `json:"evidence,omitempty"`
}

// Evidence is the comparison of two versions on live traffic that moved an
// alias: the scorer's test of the challenger against the champion on the
// labelled records both scored, as of the end of one monitoring window.
type Evidence struct {
	// Metric is what was compared: roc_auc (higher is better) or mae
	// (lower is better).
	Metric string `json:"metric"`
	// Test is the significance test: delong or paired_t.
	Test string `json:"test"`
	// Paired counts the labelled records both versions scored.
	Paired          int64   `json:"paired"`
	ChampionValue   float64 `json:"champion_value"`
	ChallengerValue float64 `json:"challenger_value"`
	// Z is the test statistic, positive when the challenger is better;
	// PValue the one-sided p-value of the challenger being better.
	Z      float64 `json:"z"`
	PValue float64 `json:"p_value"`
	// WindowEnd is the end of the monitoring window whose comparison
	// decided.
	WindowEnd         time.Time `json:"window_end"`
	ChampionVersion   int       `json:"champion_version"`
	ChallengerVersion int       `json:"challenger_version"`
}

// Validate checks evidence against the limits every reader holds it to
// (limits.go): SetAliasWithEvidence writes none outside them, and a reader
// skips an alias change whose evidence is (bad_evidence).
func (e *Evidence) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: evidence: %s", ErrInvalid, fmt.Sprintf(format, args...)))
	}
	names := []struct {
		field, s string
	}{{"metric", e.Metric}, {"test", e.Test}}
	for _, n := range names {
		if n.s == "" || len(n.s) > MaxEvidenceNameBytes {
			bad("%s: want 1 to %d bytes, got %d", n.field, MaxEvidenceNameBytes, len(n.s))
		}
	}
	if e.Paired < 0 {
		bad("paired %d is negative", e.Paired)
	}
	numbers := []struct {
		field string
		x     float64
	}{{"champion_value", e.ChampionValue}, {"challenger_value", e.ChallengerValue}, {"z", e.Z}}
	for _, n := range numbers {
		if math.IsNaN(n.x) || math.IsInf(n.x, 0) {
			bad("%s is not finite", n.field)
		}
	}
	if !(e.PValue >= 0 && e.PValue <= 1) {
		bad("p_value %g is not within 0..1", e.PValue)
	}
	versions := []struct {
		field string
		v     int
	}{{"champion_version", e.ChampionVersion}, {"challenger_version", e.ChallengerVersion}}
	for _, n := range versions {
		if n.v < 1 || n.v > MaxVersion {
			bad("%s %d is out of range 1..%d", n.field, n.v, MaxVersion)
		}
	}
	return errors.Join(errs...)
}

// Option tunes a Catalog.
type Option func(*Catalog)

// WithChunkSize sets the most artifact bytes per record (DefaultChunkSize
// unless set), clamped to MinChunkSize..MaxChunkSize, the range every
// reader accepts; tests use small chunks to exercise chunking.
func WithChunkSize(n int) Option {
	return func(c *Catalog) {
		c.chunkSize = min(max(n, MinChunkSize), MaxChunkSize)
	}
}

// Catalog is a live view of the catalog topic, and the way to write to it.
// It owns a Kafka client that tails the topic from the start for as long as
// the Catalog is open. It is safe for concurrent use.
type Catalog struct {
	topic     string
	chunkSize int
	logger    *slog.Logger
	baseOpts  []kgo.Opt
	client    *kgo.Client
	onSkip    func(reason string) // see WithOnSkip

	stop    context.CancelFunc
	tailing chan struct{} // closed when the tail goroutine ends
	closed  chan struct{} // closed by Close
	once    sync.Once

	ensureMu sync.Mutex  // one EnsureTopic at a time
	ensured  atomic.Bool // EnsureTopic created the topic or found it

	mu    sync.RWMutex
	state *state
}

// New connects to Kafka with opts (seed brokers, SASL, TLS: see
// connect.Kafka.Opts) and starts reading topic (DefaultTopic if empty) from
// the start in the background. opts should only say how to connect: the
// catalog adds its own consuming and producing options, and a consumer
// group among opts would clash with them. The topic need not exist yet
// (a catalog started before its topic existed sees the first records
// about a second after the topic is created, at once if its own
// EnsureTopic created it). A nil logger discards logs.
// Close releases the client.
func New(opts []kgo.Opt, topic string, logger *slog.Logger, options ...Option) (*Catalog, error) {
	if topic == "" {
		topic = DefaultTopic
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := &Catalog{
		topic:     topic,
		chunkSize: DefaultChunkSize,
		logger:    logger.With("component", "catalog", "topic", topic),
		baseOpts:  append([]kgo.Opt(nil), opts...),
		tailing:   make(chan struct{}),
		closed:    make(chan struct{}),
	}
	for _, o := range options {
		o(c)
	}
	c.state = newState(c.logger, c.onSkip)
	client, err := kgo.NewClient(c.clientOpts(0)...)
	if err != nil {
		return nil, fmt.Errorf("catalog client: %w", err)
	}
	c.client = client
	ctx, stop := context.WithCancel(context.Background())
	c.stop = stop
	go c.tail(ctx)
	return c, nil
}

// clientOpts are the caller's connection options plus what the catalog
// needs: partition 0 of the topic from offset from, records as large as a
// chunk, and produce to partition 0.
func (c *Catalog) clientOpts(from int64) []kgo.Opt {
	maxBytes := c.maxRecordBytes()
	return append(append([]kgo.Opt(nil), c.baseOpts...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{c.topic: {0: kgo.NewOffset().At(from)}}),
		kgo.FetchMaxWait(500*time.Millisecond),
		// One partition: refreshing its metadata is cheap, and a topic
		// created after the client started is found within this long.
		kgo.MetadataMinAge(250*time.Millisecond),
		kgo.FetchMaxPartitionBytes(int32(2*maxBytes)),
		kgo.FetchMaxBytes(int32(4*maxBytes)),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchMaxBytes(int32(maxBytes)),
	)
}

// maxRecordBytes is the topic's max.message.bytes and the producer's batch
// limit: a chunk and room for its key and framing, and at least 1 MiB.
func (c *Catalog) maxRecordBytes() int {
	return max(c.chunkSize+recordOverhead, 1<<20)
}

// Topic is the catalog's topic.
func (c *Catalog) Topic() string { return c.topic }

// Close stops tailing the topic and releases the Kafka client. Follow calls
// return ErrClosed.
func (c *Catalog) Close() {
	c.once.Do(func() {
		close(c.closed)
		c.stop()
		<-c.tailing
		c.client.Close()
	})
}

// Models lists the names with at least one version or alias, sorted.
func (c *Catalog) Models() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.state.modelNames()
}

// Versions lists a model's versions, oldest first; nil if there are none.
func (c *Catalog) Versions(name string) []Version {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.state.versions(name)
}

// Get returns one version's metadata, or ErrNotFound.
func (c *Catalog) Get(name string, version int) (Version, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, err := c.state.entry(name, version)
	return e.v, err
}

// Aliases maps a model's aliases to the versions they point at.
func (c *Catalog) Aliases(name string) map[string]int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.state.aliases(name)
}

// Resolve returns the version an alias points at, or ErrNotFound.
func (c *Catalog) Resolve(name, alias string) (Version, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.state.resolve(name, alias)
}

// History lists a model's alias changes, every alias, oldest first.
func (c *Catalog) History(name string) []AliasChange {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.state.history(name)
}

// Skipped counts the records the catalog has skipped since it was opened,
// by reason (see SkipReasons); reasons never seen are absent.
func (c *Catalog) Skipped() map[string]int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.state.skips()
}

// Lookup reads ref as a version number or an alias of name.
func (c *Catalog) Lookup(name, ref string) (Version, error) {
	if n, err := strconv.Atoi(ref); err == nil {
		return c.Get(name, n)
	}
	return c.Resolve(name, ref)
}

// validName matches model names and aliases: what is safe in a record key,
// a file name and a metric label.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidName reports whether s can name a model: 1 to 128 letters, digits,
// '.', '_' or '-', starting with a letter or digit (so never a '/').
func ValidName(s string) error {
	if !validName.MatchString(s) {
		return fmt.Errorf("%w: name %q: want 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit", ErrInvalid, s)
	}
	return nil
}

// ValidAlias reports whether s can name an alias: as ValidName, and not all
// digits, so that "3" always means version 3.
func ValidAlias(s string) error {
	if !validName.MatchString(s) {
		return fmt.Errorf("%w: alias %q: want 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit", ErrInvalid, s)
	}
	if _, err := strconv.Atoi(s); err == nil {
		return fmt.Errorf("%w: alias %q is a number, which would read as a version", ErrInvalid, s)
	}
	return nil
}
