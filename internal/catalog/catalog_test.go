package catalog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/testkit"
)

func TestPublishSyncRoundTripSeenBySecondCatalog(t *testing.T) {
	b := newBroker(t)
	writer := b.catalog(t)
	ctx := testContext(t)
	v1, art1 := publish(t, writer, "sensor", 3000)
	v2, art2 := publish(t, writer, "sensor", 5000)
	if v1.Version != 1 || v2.Version != 2 {
		t.Fatalf("versions %d, %d; want 1, 2", v1.Version, v2.Version)
	}

	reader := b.catalog(t)
	if err := reader.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := reader.Models(); !reflect.DeepEqual(got, []string{"sensor"}) {
		t.Fatalf("models %v", got)
	}
	got := reader.Versions("sensor")
	if len(got) != 2 {
		t.Fatalf("%d versions, want 2", len(got))
	}
	for i, want := range []catalog.Version{v1, v2} {
		wantJSON, _ := json.Marshal(want)
		gotJSON, _ := json.Marshal(got[i])
		if !bytes.Equal(wantJSON, gotJSON) {
			t.Errorf("version %d read back as\n%s\nwant\n%s", i+1, gotJSON, wantJSON)
		}
	}
	if v2.SHA256 == "" || v2.Size != 5000 || v2.Chunks != 1 || v2.CreatedAt.IsZero() {
		t.Errorf("publish did not fill in the artifact fields: %+v", v2)
	}
	for _, tc := range []struct {
		version int
		want    []byte
	}{{1, art1}, {2, art2}} {
		data, err := reader.Artifact(ctx, "sensor", tc.version)
		if err != nil {
			t.Fatalf("artifact %d: %v", tc.version, err)
		}
		if !bytes.Equal(data, tc.want) {
			t.Errorf("artifact %d differs from what was published", tc.version)
		}
	}
	if _, err := reader.Get("sensor", 3); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Get of version 3: %v, want ErrNotFound", err)
	}
	if _, err := reader.Artifact(ctx, "nope", 1); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Artifact of an unknown model: %v, want ErrNotFound", err)
	}
}

func TestArtifactChunking(t *testing.T) {
	b := newBroker(t)
	const chunk = 1000
	c := b.catalog(t, catalog.WithChunkSize(chunk))
	reader := b.catalog(t, catalog.WithChunkSize(chunk))
	ctx := testContext(t)
	for _, tc := range []struct {
		name   string
		size   int
		chunks int
	}{
		{"one-byte", 1, 1},
		{"exactly-one-chunk", chunk, 1},
		{"one-over", chunk + 1, 2},
		{"several", 5*chunk + 17, 6},
		{"exact-multiple", 4 * chunk, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, artifact := publish(t, c, tc.name, tc.size)
			if v.Chunks != tc.chunks || v.Size != tc.size {
				t.Fatalf("chunks %d size %d; want %d, %d", v.Chunks, v.Size, tc.chunks, tc.size)
			}
			if err := reader.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			got, err := reader.Artifact(ctx, tc.name, v.Version)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, artifact) {
				t.Fatal("reassembled artifact differs")
			}
		})
	}
	// Every chunk is its own record, before its metadata.
	var chunkKeys, metaAt int
	for i, k := range b.keys(t) {
		switch {
		case strings.HasPrefix(k, "several/") && strings.Contains(k, "/chunk/"):
			chunkKeys++
			if metaAt != 0 {
				t.Errorf("chunk %s after the metadata", k)
			}
		case strings.HasPrefix(k, "several/v/1/"):
			metaAt = i
		}
	}
	if chunkKeys != 6 || metaAt == 0 {
		t.Errorf("%d chunk records (want 6), metadata at %d", chunkKeys, metaAt)
	}
}

func TestArtifactCorrupt(t *testing.T) {
	b := newBroker(t)
	c := b.catalog(t, catalog.WithChunkSize(100))
	ctx := testContext(t)
	data := testkit.RandomBytes(7, 250)
	const id = "0123456789abcdef"

	// A real publish whose middle chunk is then rewritten with other bytes.
	published, _ := publish(t, c, "altered", 250)
	var chunk1 string
	for _, k := range b.keys(t) {
		if strings.HasPrefix(k, "altered/v/1/") && strings.HasSuffix(k, "/chunk/1") {
			chunk1 = k
		}
	}
	if chunk1 == "" {
		t.Fatal("no chunk 1 in the topic")
	}
	b.produce(t, &kgo.Record{Key: []byte(chunk1), Value: testkit.RandomBytes(99, 100)})

	shortMeta := artifactMeta("short", 1, data, 3)
	b.rawVersion(t, artifactMeta("sha", 1, testkit.RandomBytes(8, 250), 3), id, data[:100], data[100:200], data[200:])
	b.rawVersion(t, artifactMeta("missing", 1, data, 3), id, data[:100], data[200:])
	b.rawVersion(t, shortMeta, id, data[:100], data[100:200], data[200:240])
	sized := artifactMeta("size", 1, data, 3)
	sized.Size = 260
	b.rawVersion(t, sized, id, data[:100], data[100:200], data[200:])
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if published.Chunks != 3 {
		t.Fatalf("published %d chunks, want 3", published.Chunks)
	}
	for _, name := range []string{"altered", "sha", "missing", "short", "size"} {
		t.Run(name, func(t *testing.T) {
			if _, err := c.Get(name, 1); err != nil {
				t.Fatalf("a corrupt version still lists: %v", err)
			}
			_, err := c.Artifact(ctx, name, 1)
			if !errors.Is(err, catalog.ErrCorrupt) {
				t.Fatalf("Artifact: %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestConcurrentPublishConflict(t *testing.T) {
	b := newBroker(t)
	rival := testkit.RandomBytes(3, 200)
	var once sync.Once
	// The hook plays a second publisher that writes version 1 of "race"
	// while this one is about to write its metadata for the same number.
	hook := produceHook(func(r *kgo.Record) {
		if strings.HasPrefix(string(r.Key), "race/v/1/") && strings.Count(string(r.Key), "/") == 3 {
			once.Do(func() { b.rawVersion(t, artifactMeta("race", 1, rival, 1), "fedcba9876543210", rival) })
		}
	})
	loser, err := catalog.New(append(b.opts, kgo.WithHooks(hook)), "models", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(loser.Close)
	ctx := testContext(t)
	if _, err := loser.Publish(ctx, testkit.SensorVersion("race"), testkit.RandomBytes(4, 300)); !errors.Is(err, catalog.ErrConflict) {
		t.Fatalf("Publish: %v, want ErrConflict", err)
	}
	reader := b.catalog(t)
	if err := reader.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := reader.Artifact(ctx, "race", 1)
	if err != nil || !bytes.Equal(got, rival) {
		t.Fatalf("version 1 should be the rival's: %v", err)
	}
	// Publishing again takes the next number.
	v, err := loser.Publish(ctx, testkit.SensorVersion("race"), testkit.RandomBytes(4, 300))
	if err != nil || v.Version != 2 {
		t.Fatalf("second Publish: version %d, %v; want 2", v.Version, err)
	}
}

// produceHook calls its function for every record a client produces.
type produceHook func(*kgo.Record)

func (h produceHook) OnProduceRecordBuffered(r *kgo.Record) { h(r) }

func TestPublishRefusesBadMetadata(t *testing.T) {
	b := newBroker(t)
	c := b.catalog(t)
	ctx := testContext(t)
	publish(t, c, "sensor", 10)
	for _, tc := range []struct {
		name   string
		mutate func(*catalog.Version)
		data   []byte
		want   error
	}{
		{"empty name", func(v *catalog.Version) { v.Name = "" }, []byte("x"), catalog.ErrInvalid},
		{"slash in name", func(v *catalog.Version) { v.Name = "a/b" }, []byte("x"), catalog.ErrInvalid},
		{"no family", func(v *catalog.Version) { v.Family = "" }, []byte("x"), catalog.ErrInvalid},
		{"bad spec", func(v *catalog.Version) { v.Spec.Inputs = nil }, []byte("x"), catalog.ErrInvalid},
		{"params not JSON", func(v *catalog.Version) { v.Params = []byte("{") }, []byte("x"), catalog.ErrInvalid},
		{"unknown parent", func(v *catalog.Version) { v.Parent = 9 }, []byte("x"), catalog.ErrInvalid},
		{"backwards range", func(v *catalog.Version) { v.Source.Ranges[0].End = -1 }, []byte("x"), catalog.ErrInvalid},
		{"empty artifact", func(*catalog.Version) {}, nil, catalog.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := testkit.SensorVersion("sensor")
			tc.mutate(&v)
			if _, err := c.Publish(ctx, v, tc.data); !errors.Is(err, tc.want) {
				t.Fatalf("Publish: %v, want %v", err, tc.want)
			}
		})
	}
	if n := len(c.Versions("sensor")); n != 1 {
		t.Errorf("%d versions after refused publishes, want 1", n)
	}
}

func TestEnsureTopicCompactedSinglePartition(t *testing.T) {
	b := newBroker(t)
	c := b.catalog(t)
	ctx := testContext(t)
	for range 2 { // the second call finds the topic and leaves it
		if err := c.EnsureTopic(ctx); err != nil {
			t.Fatal(err)
		}
	}
	client, err := kgo.NewClient(b.opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	adm := kadm.NewClient(client)
	topics, err := adm.ListTopics(ctx, "models")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(topics["models"].Partitions); n != 1 {
		t.Errorf("%d partitions, want 1", n)
	}
	configs, err := adm.DescribeTopicConfigs(ctx, "models")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := configs.On("models", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, cfg := range rc.Configs {
		got[cfg.Key] = cfg.MaybeValue()
	}
	if got["cleanup.policy"] != "compact" {
		t.Errorf("cleanup.policy %q", got["cleanup.policy"])
	}
	if n, _ := strconv.Atoi(got["max.message.bytes"]); n < catalog.DefaultChunkSize+1024 {
		t.Errorf("max.message.bytes %q does not fit a chunk", got["max.message.bytes"])
	}
}

func TestMalformedRecordsSkipped(t *testing.T) {
	b := newBroker(t)
	data := testkit.RandomBytes(1, 50)
	good := artifactMeta("good", 1, data, 1)
	mismatched := artifactMeta("good", 2, data, 1)
	mismatched.Name = "other"
	aliasJSON := func(name, alias string, version int) []byte {
		v, _ := json.Marshal(catalog.AliasChange{Name: name, Alias: alias, Version: version})
		return v
	}
	b.produce(t,
		&kgo.Record{Key: []byte("garbage"), Value: []byte("x")},
		&kgo.Record{Key: nil, Value: []byte("no key")},
		&kgo.Record{Key: []byte("good/v/x/0123456789abcdef"), Value: []byte("{}")},
		&kgo.Record{Key: []byte("good/v/01/0123456789abcdef"), Value: []byte("{}")},
		&kgo.Record{Key: []byte("good/v/3/NOTANID"), Value: []byte("{}")},
		&kgo.Record{Key: []byte("good/v/3/0123456789abcdef"), Value: []byte("not json")},
		&kgo.Record{Key: []byte("good/v/3/0123456789abcdef/chunk/-1"), Value: []byte("x")},
		&kgo.Record{Key: []byte("good/alias/champion/0123456789abcdef"), Value: []byte("[")},
		&kgo.Record{Key: []byte("good/alias/champion/0123456789abcdee"), Value: aliasJSON("good", "shadow", 1)},
		&kgo.Record{Key: []byte("good/alias/7/0123456789abcdef"), Value: aliasJSON("good", "7", 1)},
		&kgo.Record{Key: []byte("good/future/kind/0123456789abcdef"), Value: []byte("{}")},
	)
	mismatchedJSON, _ := json.Marshal(mismatched)
	b.produce(t, &kgo.Record{Key: []byte("good/v/2/1111111111111111"), Value: mismatchedJSON})
	b.rawVersion(t, good, "2222222222222222", data)
	b.produce(t, &kgo.Record{Key: []byte("good/alias/champion/3333333333333333"), Value: aliasJSON("good", "champion", 1)})

	c, logs := b.catalogWithLogs(t)
	ctx := testContext(t)
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := c.Models(); !reflect.DeepEqual(got, []string{"good"}) {
		t.Errorf("models %v, want [good]", got)
	}
	if vs := c.Versions("good"); len(vs) != 1 || vs[0].Version != 1 {
		t.Errorf("versions %+v, want version 1 only", vs)
	}
	if got := c.Aliases("good"); !reflect.DeepEqual(got, map[string]int{"champion": 1}) {
		t.Errorf("aliases %v", got)
	}
	if h := c.History("good"); len(h) != 1 {
		t.Errorf("history %+v, want one change", h)
	}
	if art, err := c.Artifact(ctx, "good", 1); err != nil || !bytes.Equal(art, data) {
		t.Errorf("artifact: %v", err)
	}
	if n := strings.Count(logs.String(), "skipping catalog record"); n != 12 {
		t.Errorf("%d records logged as skipped, want 12:\n%s", n, logs)
	}
	want := map[string]int64{catalog.SkipBadKey: 8, catalog.SkipBadJSON: 2, catalog.SkipKeyMismatch: 2}
	if got := c.Skipped(); !reflect.DeepEqual(got, want) {
		t.Errorf("skipped %v, want %v", got, want)
	}
}
