package catalog_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/testkit"
	"github.com/streamscore/streamscore/internal/testkit/ortkit"
)

func TestMain(m *testing.M) { os.Exit(ortkit.Main(m)) }

// broker is a kfake cluster reached over TCP.
type broker struct {
	cluster *kfake.Cluster
	opts    []kgo.Opt
}

func newBroker(t *testing.T) *broker {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	return &broker{cluster: cluster, opts: []kgo.Opt{kgo.SeedBrokers(cluster.ListenAddrs()...)}}
}

// logBuffer collects a Catalog's logs, safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// catalog opens a Catalog on the broker's test topic, closed at cleanup.
func (b *broker) catalog(t *testing.T, options ...catalog.Option) *catalog.Catalog {
	t.Helper()
	c, _ := b.catalogWithLogs(t, options...)
	return c
}

func (b *broker) catalogWithLogs(t *testing.T, options ...catalog.Option) (*catalog.Catalog, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := catalog.New(b.opts, "models", logger, options...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, logs
}

// produce writes raw records to the catalog topic, as a hostile or broken
// writer would.
func (b *broker) produce(t *testing.T, records ...*kgo.Record) {
	t.Helper()
	// Batches as large as any topic takes: the broker, not this client,
	// says what is too large.
	client, err := kgo.NewClient(append(b.opts, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchMaxBytes(64<<20))...)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	// The topic as EnsureTopic makes it, unless it exists.
	compact := "compact"
	_, err = kadm.NewClient(client).CreateTopic(testContext(t), 1, -1, map[string]*string{"cleanup.policy": &compact}, "models")
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		t.Fatal(err)
	}
	for _, r := range records {
		r.Topic, r.Partition = "models", 0
	}
	if err := client.ProduceSync(testContext(t), records...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// testContext ends with the test, or after a minute.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// publish publishes a version of name with a random artifact of size bytes.
func publish(t *testing.T, c *catalog.Catalog, name string, size int) (catalog.Version, []byte) {
	t.Helper()
	artifact := testkit.RandomBytes(uint64(size), size)
	v, err := c.Publish(testContext(t), testkit.SensorVersion(name), artifact)
	if err != nil {
		t.Fatalf("publish %s: %v", name, err)
	}
	return v, artifact
}

// rawVersion writes a version by hand, as another writer would: chunks
// under id, then metadata from meta (the catalog's rules not applied).
func (b *broker) rawVersion(t *testing.T, meta catalog.Version, id string, chunks ...[]byte) {
	t.Helper()
	var records []*kgo.Record
	for i, c := range chunks {
		records = append(records, &kgo.Record{Key: fmt.Appendf(nil, "%s/v/%d/%s/chunk/%d", meta.Name, meta.Version, id, i), Value: c})
	}
	value, err := json.Marshal(meta)
	if err != nil {
		t.Fatal(err)
	}
	records = append(records, &kgo.Record{Key: fmt.Appendf(nil, "%s/v/%d/%s", meta.Name, meta.Version, id), Value: value})
	b.produce(t, records...)
}

// artifactMeta is metadata for version n of name whose artifact is data,
// split into chunks chunks.
func artifactMeta(name string, n int, data []byte, chunks int) catalog.Version {
	v := testkit.SensorVersion(name)
	sum := sha256.Sum256(data)
	v.Version, v.SHA256, v.Size, v.Chunks = n, hex.EncodeToString(sum[:]), len(data), chunks
	v.CreatedAt = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	return v
}

// keys lists the keys of the catalog topic, in order.
func (b *broker) keys(t *testing.T) []string {
	t.Helper()
	client, err := kgo.NewClient(append(b.opts, kgo.ConsumeTopics("models"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx := testContext(t)
	end, err := kadm.NewClient(client).ListEndOffsets(ctx, "models")
	if err != nil {
		t.Fatal(err)
	}
	o, _ := end.Lookup("models", 0)
	var keys []string
	for next := int64(0); next < o.Offset; {
		fetches := client.PollFetches(ctx)
		if err := fetches.Err(); err != nil {
			t.Fatal(err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			keys = append(keys, string(r.Key))
			next = r.Offset + 1
		})
	}
	return keys
}
