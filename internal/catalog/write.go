package catalog

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// EnsureTopic creates the catalog topic with one partition, compaction and
// a max.message.bytes that fits a chunk, unless it exists already (then it
// is left as it is). Publish and SetAlias call it before their first write.
func (c *Catalog) EnsureTopic(ctx context.Context) error {
	c.ensureMu.Lock()
	defer c.ensureMu.Unlock()
	if c.ensured.Load() {
		return nil
	}
	compact, maxBytes := "compact", strconv.Itoa(c.maxRecordBytes())
	configs := map[string]*string{"cleanup.policy": &compact, "max.message.bytes": &maxBytes}
	_, err := kadm.NewClient(c.client).CreateTopic(ctx, 1, -1, configs, c.topic)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create catalog topic %s: %w", c.topic, err)
	}
	if err == nil {
		// The tail may have been told the topic does not exist; without this
		// it would look again only a second later (see restartTail).
		c.restartTail()
	}
	c.ensured.Store(true)
	return nil
}

// newID returns a random key ID (see doc.go).
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// validateVersion checks the metadata a caller gives Publish.
func (c *Catalog) validateVersion(v Version) error {
	if err := ValidName(v.Name); err != nil {
		return err
	}
	if v.Family == "" {
		return fmt.Errorf("%w: model %q: family is empty", ErrInvalid, v.Name)
	}
	if err := v.Spec.Validate(); err != nil {
		return fmt.Errorf("%w: model %q: %w", ErrInvalid, v.Name, err)
	}
	if v.Parent < 0 {
		return fmt.Errorf("%w: model %q: parent %d", ErrInvalid, v.Name, v.Parent)
	}
	for _, r := range v.Source.Ranges {
		if r.Partition < 0 || r.Start < 0 || r.End < r.Start {
			return fmt.Errorf("%w: model %q: source range %+v", ErrInvalid, v.Name, r)
		}
	}
	if len(v.Params) > 0 && !json.Valid(v.Params) {
		return fmt.Errorf("%w: model %q: params are not JSON", ErrInvalid, v.Name)
	}
	return nil
}

// Publish stores a new version of v.Name with artifact as its ONNX bytes.
// It assigns Version (the highest so far plus one; the caller's value is
// ignored), SHA256, Size, Chunks, and CreatedAt if zero; writes the chunks
// and then the metadata; reads the topic back; and returns the version as
// readers see it. If another process published the same number first it
// returns ErrConflict: publish again for the next number. A Parent must be
// a published version.
func (c *Catalog) Publish(ctx context.Context, v Version, artifact []byte) (Version, error) {
	if err := c.validateVersion(v); err != nil {
		return Version{}, err
	}
	if len(artifact) == 0 {
		return Version{}, fmt.Errorf("%w: model %q: empty artifact", ErrInvalid, v.Name)
	}
	if len(artifact) > MaxArtifactSize {
		return Version{}, fmt.Errorf("%w: model %q: artifact is %d bytes, over the %d-byte limit", ErrInvalid, v.Name, len(artifact), MaxArtifactSize)
	}
	if err := c.EnsureTopic(ctx); err != nil {
		return Version{}, err
	}
	if err := c.Sync(ctx); err != nil {
		return Version{}, err
	}
	c.mu.RLock()
	next, nextErr := c.state.nextVersion(v.Name)
	var parentErr error
	if v.Parent > 0 {
		_, parentErr = c.state.entry(v.Name, v.Parent)
	}
	c.mu.RUnlock()
	if nextErr != nil {
		return Version{}, nextErr
	}
	v.Version = next
	if parentErr != nil {
		return Version{}, fmt.Errorf("%w: parent: %w", ErrInvalid, parentErr)
	}
	sum := sha256.Sum256(artifact)
	v.SHA256 = hex.EncodeToString(sum[:])
	v.Size = len(artifact)
	v.Chunks = (len(artifact) + c.chunkSize - 1) / c.chunkSize
	if v.CreatedAt.IsZero() {
		v.CreatedAt = time.Now().UTC()
	}
	meta, err := json.Marshal(v)
	if err != nil {
		return Version{}, fmt.Errorf("%w: model %q: encode metadata: %w", ErrInvalid, v.Name, err)
	}
	if len(meta) > MaxMetadataBytes {
		return Version{}, fmt.Errorf("%w: model %q: metadata is %d bytes, over the %d-byte limit", ErrInvalid, v.Name, len(meta), MaxMetadataBytes)
	}

	id := newID()
	records := make([]*kgo.Record, 0, v.Chunks+1)
	for i := range v.Chunks {
		chunk := artifact[i*c.chunkSize : min((i+1)*c.chunkSize, len(artifact))]
		records = append(records, c.record(chunkKey(v.Name, v.Version, id, i), chunk))
	}
	// The metadata goes in a second produce, so that it cannot be written
	// unless every chunk was.
	if err := c.client.ProduceSync(ctx, records...).FirstErr(); err != nil {
		return Version{}, fmt.Errorf("publish %s version %d: write chunks: %w", v.Name, v.Version, err)
	}
	metaRecord := c.record(metaKey(v.Name, v.Version, id), meta)
	if err := c.client.ProduceSync(ctx, metaRecord).FirstErr(); err != nil {
		return Version{}, fmt.Errorf("publish %s version %d: write metadata: %w", v.Name, v.Version, err)
	}
	if err := c.waitFor(ctx, metaRecord.Offset+1); err != nil {
		return Version{}, fmt.Errorf("publish %s version %d: read back: %w", v.Name, v.Version, err)
	}
	c.mu.RLock()
	e, err := c.state.entry(v.Name, v.Version)
	c.mu.RUnlock()
	if err != nil {
		return Version{}, fmt.Errorf("publish %s version %d: not read back: %w", v.Name, v.Version, err)
	}
	if e.id != id {
		return Version{}, fmt.Errorf("publish %s version %d: another publisher wrote it first (offset %d, ours %d): %w",
			v.Name, v.Version, e.offset, metaRecord.Offset, ErrConflict)
	}
	c.logger.Info("published model version", "name", v.Name, "version", v.Version, "family", v.Family,
		"size", v.Size, "chunks", v.Chunks, "sha256", v.SHA256)
	return e.v, nil
}

func (c *Catalog) record(key string, value []byte) *kgo.Record {
	return &kgo.Record{Topic: c.topic, Partition: 0, Key: []byte(key), Value: value}
}

// SetAlias points name's alias at version and records the change in the
// history. forced says the change was made by hand or overrode the
// evaluation (the trainer decides; the catalog stores it).
func (c *Catalog) SetAlias(ctx context.Context, name, alias string, version int, reason string, forced bool) (AliasChange, error) {
	return c.setAlias(ctx, AliasChange{Name: name, Alias: alias, Version: version, Reason: reason, Forced: forced})
}

// SetAliasWithEvidence is SetAlias, not forced, for a change a measurement
// decided: ev is recorded with the change (AliasChange.Evidence). Evidence
// outside the readers' limits is refused with ErrInvalid.
func (c *Catalog) SetAliasWithEvidence(ctx context.Context, name, alias string, version int, reason string, ev Evidence) (AliasChange, error) {
	if err := ev.Validate(); err != nil {
		return AliasChange{}, err
	}
	return c.setAlias(ctx, AliasChange{Name: name, Alias: alias, Version: version, Reason: reason, Evidence: &ev})
}

// Rollback points name's alias back at the version it had before its last
// change, and records that as a change. Rollbacks undo one change each:
// a second Rollback undoes the change before the one the first undid. It
// returns ErrNotFound if the alias has no change left to undo, ErrInvalid if
// that change created the alias (there is nothing to go back to).
func (c *Catalog) Rollback(ctx context.Context, name, alias string) (AliasChange, error) {
	if err := ValidName(name); err != nil {
		return AliasChange{}, err
	}
	if err := ValidAlias(alias); err != nil {
		return AliasChange{}, err
	}
	if err := c.Sync(ctx); err != nil {
		return AliasChange{}, err
	}
	c.mu.RLock()
	last, ok := c.state.undoable(name, alias)
	c.mu.RUnlock()
	if !ok {
		return AliasChange{}, fmt.Errorf("model %q alias %q has no change to roll back: %w", name, alias, ErrNotFound)
	}
	if last.Previous == 0 {
		return AliasChange{}, fmt.Errorf("%w: model %q alias %q was created at version %d and has no earlier version", ErrInvalid, name, alias, last.Version)
	}
	return c.setAlias(ctx, AliasChange{
		Name: name, Alias: alias, Version: last.Previous, Forced: true, Rollback: true,
		Reason: fmt.Sprintf("rollback of %d (set %s)", last.Version, last.At.Format(time.RFC3339)),
	})
}

func (c *Catalog) setAlias(ctx context.Context, ch AliasChange) (AliasChange, error) {
	if err := ValidName(ch.Name); err != nil {
		return AliasChange{}, err
	}
	if err := ValidAlias(ch.Alias); err != nil {
		return AliasChange{}, err
	}
	if err := c.EnsureTopic(ctx); err != nil {
		return AliasChange{}, err
	}
	if err := c.Sync(ctx); err != nil {
		return AliasChange{}, err
	}
	c.mu.RLock()
	_, err := c.state.entry(ch.Name, ch.Version)
	ch.Previous = c.state.aliases(ch.Name)[ch.Alias]
	c.mu.RUnlock()
	if err != nil {
		return AliasChange{}, err
	}
	ch.At = time.Now().UTC()
	value, err := json.Marshal(ch)
	if err != nil {
		return AliasChange{}, fmt.Errorf("encode alias change: %w", err)
	}
	r := c.record(aliasKey(ch.Name, ch.Alias, newID()), value)
	if err := c.client.ProduceSync(ctx, r).FirstErr(); err != nil {
		return AliasChange{}, fmt.Errorf("set %s alias %s: %w", ch.Name, ch.Alias, err)
	}
	if err := c.waitFor(ctx, r.Offset+1); err != nil {
		return AliasChange{}, fmt.Errorf("set %s alias %s: read back: %w", ch.Name, ch.Alias, err)
	}
	c.logger.Info("alias changed", "name", ch.Name, "alias", ch.Alias, "version", ch.Version,
		"previous", ch.Previous, "forced", ch.Forced, "rollback", ch.Rollback, "reason", ch.Reason)
	return ch, nil
}

// Artifact reads a version's ONNX bytes back from the topic and checks them
// against the metadata: every chunk present, the size and the SHA-256. Any
// mismatch is ErrCorrupt.
func (c *Catalog) Artifact(ctx context.Context, name string, version int) ([]byte, error) {
	c.mu.RLock()
	e, err := c.state.entry(name, version)
	var offsets []int64
	if err == nil {
		have := c.state.chunks[metaKey(name, version, e.id)]
		for i := range e.v.Chunks {
			o, ok := have[i]
			if !ok {
				err = fmt.Errorf("model %q version %d: chunk %d of %d is missing: %w", name, version, i, e.v.Chunks, ErrCorrupt)
				break
			}
			offsets = append(offsets, o)
		}
	}
	c.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	chunks, err := c.readChunks(ctx, name, version, e.id, offsets, e.v.Size)
	if err != nil {
		return nil, err
	}
	// Sized by the bytes read, at most e.v.Size, never by the claim.
	artifact := bytes.Join(chunks, nil)
	if len(artifact) != e.v.Size {
		return nil, fmt.Errorf("model %q version %d: %d bytes, metadata says %d: %w", name, version, len(artifact), e.v.Size, ErrCorrupt)
	}
	sum := sha256.Sum256(artifact)
	if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, e.v.SHA256) {
		return nil, fmt.Errorf("model %q version %d: sha256 %s, metadata says %s: %w", name, version, got, e.v.SHA256, ErrCorrupt)
	}
	return artifact, nil
}

// readChunks fetches the records at offsets (chunk i at offsets[i]) with a
// consumer of its own, starting at the lowest. It stops with ErrCorrupt as
// soon as the chunks hold more than size bytes, so forged chunks cannot
// make it hold more than the metadata says (itself at most
// MaxArtifactSize).
func (c *Catalog) readChunks(ctx context.Context, name string, version int, id string, offsets []int64, size int) ([][]byte, error) {
	want := make(map[int64]int, len(offsets))
	from, to := offsets[0], offsets[0]
	for i, o := range offsets {
		want[o] = i
		from, to = min(from, o), max(to, o)
	}
	client, err := kgo.NewClient(c.clientOpts(from)...)
	if err != nil {
		return nil, fmt.Errorf("artifact client: %w", err)
	}
	defer client.Close()
	chunks := make([][]byte, len(offsets))
	found, total := 0, 0
	for found < len(offsets) {
		fetches := client.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("read model %q version %d: %w", name, version, ctx.Err())
		}
		fetches.EachError(func(_ string, _ int32, err error) {
			c.logger.Warn("reading artifact chunks", "name", name, "version", version, "err", err)
		})
		var bad error
		fetches.EachRecord(func(r *kgo.Record) {
			i, ok := want[r.Offset]
			if !ok || bad != nil {
				if r.Offset > to && found < len(offsets) && bad == nil {
					bad = fmt.Errorf("model %q version %d: chunks gone from the topic: %w", name, version, ErrCorrupt)
				}
				return
			}
			if string(r.Key) != chunkKey(name, version, id, i) || chunks[i] != nil {
				bad = fmt.Errorf("model %q version %d: offset %d holds %q, not chunk %d: %w", name, version, r.Offset, r.Key, i, ErrCorrupt)
				return
			}
			if total += len(r.Value); total > size {
				bad = fmt.Errorf("model %q version %d: chunks hold more than the %d bytes the metadata says: %w", name, version, size, ErrCorrupt)
				return
			}
			chunks[i] = r.Value
			found++
		})
		if bad != nil {
			return nil, bad
		}
	}
	return chunks, nil
}
