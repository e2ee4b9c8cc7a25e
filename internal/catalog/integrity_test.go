package catalog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/testkit"
)

// forgedID is the ID in every forged key.
const forgedID = "0123456789abcde6"

// TestForgedHugeVersionDoesNotStopPublishing is finding 5 of issue 10: one
// forged metadata record numbered 2^63-1 was taken as a version, and every
// later publish then asked for version -2^63 and failed.
func TestForgedHugeVersionDoesNotStopPublishing(t *testing.T) {
	b := newBroker(t)
	c := b.catalog(t)
	publish(t, c, "sens", 100)
	data := testkit.RandomBytes(5, 100)
	forged := artifactMeta("sens", 1, data, 1)
	forged.Version = 9223372036854775807
	b.rawVersion(t, forged, forgedID, data) // key sens/v/9223372036854775807/0123456789abcde6

	for want := 2; want <= 3; want++ {
		v, err := c.Publish(testContext(t), testkit.SensorVersion("sens"), testkit.RandomBytes(uint64(want), 100))
		if err != nil {
			t.Fatalf("publish after the forged record: %v", err)
		}
		if v.Version != want {
			t.Fatalf("published version %d, want %d", v.Version, want)
		}
	}
	if got := versionNumbers(c.Versions("sens")); !reflect.DeepEqual(got, []int{1, 2, 3}) {
		t.Fatalf("versions %v, want [1 2 3]", got)
	}
}

func versionNumbers(vs []catalog.Version) []int {
	var out []int
	for _, v := range vs {
		out = append(out, v.Version)
	}
	return out
}

// metaRecord is a metadata record for v under key.
func metaRecord(t *testing.T, key string, v catalog.Version) *kgo.Record {
	t.Helper()
	value, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return &kgo.Record{Key: []byte(key), Value: value}
}

// aliasRecord is an alias change record for ch under key.
func aliasRecord(t *testing.T, key string, ch catalog.AliasChange) *kgo.Record {
	t.Helper()
	value, err := json.Marshal(ch)
	if err != nil {
		t.Fatal(err)
	}
	return &kgo.Record{Key: []byte(key), Value: value}
}

// createTopic makes the catalog topic with room for records of up to
// maxBytes, as a writer who set the topic up could.
func (b *broker) createTopic(t *testing.T, maxBytes int) {
	t.Helper()
	client, err := kgo.NewClient(b.opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	compact, size := "compact", strconv.Itoa(maxBytes)
	configs := map[string]*string{"cleanup.policy": &compact, "max.message.bytes": &size}
	if _, err := kadm.NewClient(client).CreateTopic(testContext(t), 1, -1, configs, "models"); err != nil {
		t.Fatal(err)
	}
}

// TestForgedRecordsSkippedAndCounted writes each forgery into a catalog
// holding version 1 of "sens" (three chunks, the champion). A fresh reader
// must skip the forged records, count each by its reason, and still list,
// resolve, fetch and publish as if they were not there.
func TestForgedRecordsSkippedAndCounted(t *testing.T) {
	valid := func(n int) catalog.Version { return artifactMeta("sens", n, testkit.RandomBytes(9, 100), 1) }
	meta := func(n int, mutate func(*catalog.Version)) func(*testing.T) []*kgo.Record {
		return func(t *testing.T) []*kgo.Record {
			v := valid(n)
			mutate(&v)
			return []*kgo.Record{
				{Key: fmt.Appendf(nil, "sens/v/%d/%s/chunk/0", n, forgedID), Value: testkit.RandomBytes(9, 100)},
				metaRecord(t, fmt.Sprintf("sens/v/%d/%s", n, forgedID), v),
			}
		}
	}
	metaKey := func(key string, v catalog.Version) func(*testing.T) []*kgo.Record {
		return func(t *testing.T) []*kgo.Record { return []*kgo.Record{metaRecord(t, key, v)} }
	}
	alias := func(key string, ch catalog.AliasChange) func(*testing.T) []*kgo.Record {
		return func(t *testing.T) []*kgo.Record { return []*kgo.Record{aliasRecord(t, key, ch)} }
	}
	raw := func(key string, value []byte) func(*testing.T) []*kgo.Record {
		return func(*testing.T) []*kgo.Record { return []*kgo.Record{{Key: []byte(key), Value: value}} }
	}
	champion := "sens/alias/champion/" + forgedID
	huge := strings.Repeat("x", 3<<19) // 1.5 MiB
	deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	deepMeta, err := json.Marshal(valid(2))
	if err != nil {
		t.Fatal(err)
	}
	deepMeta = append(deepMeta[:len(deepMeta)-1], `,"params":`+deep+`}`...)

	for _, tc := range []struct {
		name     string
		records  func(*testing.T) []*kgo.Record
		reason   string // "" if nothing is skipped
		count    int64  // records skipped, if not 1
		accepted []int  // versions listed besides 1
		maxBytes int    // the topic's max.message.bytes, if larger records are needed
	}{
		{name: "version 2^63-1 (finding 5)", records: metaKey("sens/v/9223372036854775807/"+forgedID,
			catalog.Version{Name: "sens", Version: 9223372036854775807, SHA256: valid(2).SHA256, Size: 100, Chunks: 1}),
			reason: catalog.SkipVersionRange},
		{name: "version 0", records: metaKey("sens/v/0/"+forgedID, catalog.Version{Name: "sens", SHA256: valid(2).SHA256, Size: 100, Chunks: 1}),
			reason: catalog.SkipVersionRange},
		{name: "version one past the maximum", records: meta(catalog.MaxVersion+1, func(*catalog.Version) {}),
			reason: catalog.SkipVersionRange, count: 2}, // its chunk too
		{name: "version of 30 digits", records: raw("sens/v/999999999999999999999999999999/"+forgedID, []byte(`{}`)),
			reason: catalog.SkipVersionRange},
		{name: "version at the maximum, a jump", records: meta(catalog.MaxVersion, func(*catalog.Version) {}),
			reason: catalog.SkipVersionJump},
		{name: "version one past the step", records: meta(2+catalog.MaxVersionStep, func(*catalog.Version) {}),
			reason: catalog.SkipVersionJump},
		{name: "version at the step is taken", records: meta(1+catalog.MaxVersionStep, func(*catalog.Version) {}),
			accepted: []int{1 + catalog.MaxVersionStep}},
		{name: "metadata names another model", records: meta(2, func(v *catalog.Version) { v.Name = "other" }),
			reason: catalog.SkipKeyMismatch},
		{name: "metadata version differs from its key", records: meta(2, func(v *catalog.Version) { v.Version = 3 }),
			reason: catalog.SkipKeyMismatch},
		{name: "size 1 TB", records: meta(2, func(v *catalog.Version) { v.Size, v.Chunks = 1<<40, 1<<20 }),
			reason: catalog.SkipSizeRange},
		{name: "size negative", records: meta(2, func(v *catalog.Version) { v.Size = -1 }),
			reason: catalog.SkipSizeRange},
		{name: "1e9 chunks", records: meta(2, func(v *catalog.Version) { v.Chunks = 1e9 }),
			reason: catalog.SkipChunksRange},
		{name: "no chunks", records: meta(2, func(v *catalog.Version) { v.Chunks = 0 }),
			reason: catalog.SkipChunksRange},
		{name: "one chunk for 512 MiB", records: meta(2, func(v *catalog.Version) { v.Size = 512 << 20 }),
			reason: catalog.SkipChunksRange},
		{name: "chunk index 2^63-1", records: raw("sens/v/2/"+forgedID+"/chunk/9223372036854775807", []byte("x")),
			reason: catalog.SkipChunksRange},
		{name: "chunk index at MaxChunks", records: raw("sens/v/1/"+forgedID+"/chunk/"+strconv.Itoa(catalog.MaxChunks), []byte("x")),
			reason: catalog.SkipChunksRange},
		{name: "chunk over MaxChunkSize", records: raw("sens/v/2/"+forgedID+"/chunk/0", make([]byte, catalog.MaxChunkSize+1)),
			reason: catalog.SkipTooLarge, maxBytes: 2 * catalog.MaxChunkSize},
		{name: "sha256 not hex", records: meta(2, func(v *catalog.Version) { v.SHA256 = strings.Repeat("z", 64) }),
			reason: catalog.SkipBadMetadata},
		{name: "parent not earlier", records: meta(2, func(v *catalog.Version) { v.Parent = 2 }),
			reason: catalog.SkipBadMetadata},
		{name: "second version 1", records: meta(1, func(*catalog.Version) {}),
			reason: catalog.SkipDuplicate},
		{name: "alias to a version not published", records: alias(champion, catalog.AliasChange{Name: "sens", Alias: "champion", Version: 2}),
			reason: catalog.SkipAliasTarget},
		{name: "alias of a model with no versions", records: alias("ghost/alias/champion/"+forgedID,
			catalog.AliasChange{Name: "ghost", Alias: "champion", Version: 1}),
			reason: catalog.SkipAliasTarget},
		{name: "alias to version 2^63-1", records: alias(champion,
			catalog.AliasChange{Name: "sens", Alias: "champion", Version: 9223372036854775807}),
			reason: catalog.SkipVersionRange},
		{name: "alias with previous -1", records: alias(champion,
			catalog.AliasChange{Name: "sens", Alias: "champion", Version: 1, Previous: -1}),
			reason: catalog.SkipVersionRange},
		{name: "alias change naming another model", records: alias(champion, catalog.AliasChange{Name: "other", Alias: "champion", Version: 1}),
			reason: catalog.SkipKeyMismatch},
		{name: "alias change naming another alias", records: alias(champion, catalog.AliasChange{Name: "sens", Alias: "shadow", Version: 1}),
			reason: catalog.SkipKeyMismatch},
		{name: "metadata of 1.5 MiB", records: meta(2, func(v *catalog.Version) { v.Source.Description = huge }),
			reason: catalog.SkipTooLarge, maxBytes: 4 << 20},
		{name: "alias change of 1.5 MiB", records: alias(champion, catalog.AliasChange{Name: "sens", Alias: "champion", Version: 1, Reason: huge}),
			reason: catalog.SkipTooLarge, maxBytes: 4 << 20},
		{name: "JSON nested 100000 deep", records: raw("sens/v/2/"+forgedID, deepMeta),
			reason: catalog.SkipBadJSON},
		{name: "version number of 900 KB in the JSON", records: raw("sens/v/2/"+forgedID, []byte(`{"version":`+strings.Repeat("9", 900<<10)+`}`)),
			reason: catalog.SkipBadJSON},
		{name: "key of 100 KiB", records: raw("sens/v/2/"+strings.Repeat("a", 100<<10), []byte(`{}`)),
			reason: catalog.SkipBadKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBroker(t)
			// Made before the first publish, which then need not wait for
			// the producer to learn of a new topic.
			b.createTopic(t, max(tc.maxBytes, 1<<20))
			writer := b.catalog(t, catalog.WithChunkSize(1000))
			ctx := testContext(t)
			_, art1 := publish(t, writer, "sens", 2500)
			if _, err := writer.SetAlias(ctx, "sens", "champion", 1, "", true); err != nil {
				t.Fatal(err)
			}
			b.produce(t, tc.records(t)...)

			reader, logs := b.catalogWithLogs(t)
			if err := reader.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			want := map[string]int64{}
			if tc.reason != "" {
				want[tc.reason] = max(tc.count, 1)
			}
			if got := reader.Skipped(); !reflect.DeepEqual(got, want) {
				t.Errorf("skipped %v, want %v", got, want)
			}
			if got := reader.Models(); !reflect.DeepEqual(got, []string{"sens"}) {
				t.Errorf("models %v, want [sens]", got)
			}
			wantVersions := append([]int{1}, tc.accepted...)
			if got := versionNumbers(reader.Versions("sens")); !reflect.DeepEqual(got, wantVersions) {
				t.Errorf("versions %v, want %v", got, wantVersions)
			}
			if got := reader.Aliases("sens"); !reflect.DeepEqual(got, map[string]int{"champion": 1}) {
				t.Errorf("aliases %v, want champion at 1", got)
			}
			if got, err := reader.Artifact(ctx, "sens", 1); err != nil || !bytes.Equal(got, art1) {
				t.Errorf("artifact of version 1: %v", err)
			}
			// Publishing goes on with the next number; an alias forged to
			// point at that number ahead of time does not come to life.
			next := slices.Max(wantVersions) + 1
			v, art := publish(t, reader, "sens", 300)
			if v.Version != next {
				t.Errorf("published version %d, want %d", v.Version, next)
			}
			if got, err := reader.Artifact(ctx, "sens", v.Version); err != nil || !bytes.Equal(got, art) {
				t.Errorf("artifact of the new version: %v", err)
			}
			if got, err := reader.Resolve("sens", "champion"); err != nil || got.Version != 1 {
				t.Errorf("champion resolves to %d (%v), want 1", got.Version, err)
			}
			for line := range strings.Lines(logs.String()) {
				if len(line) > 2000 {
					t.Errorf("a log line of %d bytes: %.300s...", len(line), line)
				}
			}
		})
	}
}

// TestFollowIgnoresForgedAliasChanges: a scorer follows its alias through
// Follow; forged changes of that alias must never reach it, and the next
// real change must.
func TestFollowIgnoresForgedAliasChanges(t *testing.T) {
	b := newBroker(t)
	writer := b.catalog(t)
	ctx := testContext(t)
	publish(t, writer, "sens", 100)
	if _, err := writer.SetAlias(ctx, "sens", "champion", 1, "", true); err != nil {
		t.Fatal(err)
	}
	follower := b.catalog(t)
	seen := make(chan int, 10)
	followCtx, stop := context.WithCancel(ctx)
	defer stop()
	go follower.Follow(followCtx, "sens", "champion", func(v catalog.Version) { seen <- v.Version })
	expect := func(want int) {
		t.Helper()
		select {
		case got := <-seen:
			if got != want {
				t.Fatalf("Follow saw version %d, want %d", got, want)
			}
		case <-ctx.Done():
			t.Fatalf("Follow never saw version %d", want)
		}
	}
	expect(1)
	champion := "sens/alias/champion/" + forgedID
	b.produce(t,
		aliasRecord(t, champion, catalog.AliasChange{Name: "sens", Alias: "champion", Version: 9223372036854775807}),
		aliasRecord(t, champion, catalog.AliasChange{Name: "other", Alias: "champion", Version: 1}),
		aliasRecord(t, champion, catalog.AliasChange{Name: "sens", Alias: "champion", Version: 2}),
	)
	// Version 2, which the last forgery named ahead of time: had that
	// forgery been kept, publishing would promote it.
	publish(t, writer, "sens", 100)
	publish(t, writer, "sens", 100)
	if _, err := writer.SetAlias(ctx, "sens", "champion", 3, "", true); err != nil {
		t.Fatal(err)
	}
	// Follow calls come in log order: had a forgery got through, its call
	// would come before this one.
	expect(3)
	if err := follower.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{catalog.SkipAliasTarget: 1, catalog.SkipVersionRange: 1, catalog.SkipKeyMismatch: 1}
	if got := follower.Skipped(); !reflect.DeepEqual(got, want) {
		t.Errorf("skipped %v, want %v", got, want)
	}
}

// TestArtifactBoundedByTheRecords: metadata within the limits may still lie
// about its artifact; Artifact must refuse it with ErrCorrupt, holding no
// more than the chunks it read, never what the metadata claims.
func TestArtifactBoundedByTheRecords(t *testing.T) {
	b := newBroker(t)
	b.createTopic(t, 8<<20)
	c := b.catalog(t)
	ctx := testContext(t)
	publish(t, c, "sens", 100)

	// 1 GiB claimed, in 128 chunks of a few bytes each.
	claimed := artifactMeta("sens", 2, testkit.RandomBytes(1, 10), catalog.MaxArtifactSize/catalog.MaxChunkSize)
	claimed.Size = catalog.MaxArtifactSize
	tiny := make([][]byte, claimed.Chunks)
	for i := range tiny {
		tiny[i] = []byte{byte(i)}
	}
	b.rawVersion(t, claimed, forgedID, tiny...)
	// 100 bytes claimed in two chunks; the first alone holds 3 MiB.
	over := artifactMeta("sens", 3, testkit.RandomBytes(2, 100), 2)
	b.rawVersion(t, over, forgedID, testkit.RandomBytes(3, 3<<20), testkit.RandomBytes(4, 3<<20))
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name     string
		version  int
		contains string
	}{
		{"size claimed beyond the chunks", 2, "128 bytes, metadata says"},
		{"chunks beyond the size claimed", 3, "more than the 100 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := c.Artifact(ctx, "sens", tc.version)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, catalog.ErrCorrupt) || !strings.Contains(err.Error(), tc.contains) {
				t.Fatalf("Artifact: %v, want ErrCorrupt saying %q", err, tc.contains)
			}
			// The reading client's buffers and the 6 MiB of chunks
			// fetched, far from the gigabyte claimed.
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
				t.Errorf("Artifact allocated %d MiB", grew>>20)
			}
		})
	}
}
