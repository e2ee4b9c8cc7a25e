package catalog

import (
	"fmt"
	"strconv"
)

// Limits on what a catalog record may say. Anyone able to write to the topic
// can write any record, so a reader checks every claim against these before
// it keeps the record, and skips and counts (see SkipReasons) a record
// outside them. Publish never writes a record outside them.
const (
	// MaxVersion is the highest version number: far below overflow, so
	// the next number is always computable.
	MaxVersion = 1<<31 - 1
	// MaxVersionStep is how far above the highest number its model had
	// earlier in the log a version's number may be. Publish always takes
	// the highest plus one, so a gap only appears when the top versions
	// were withdrawn by tombstones and then compacted away. Without this
	// limit one forged record numbered MaxVersion would leave no number to
	// publish; with it, a forger needs millions of records to get there.
	MaxVersionStep = 1000
	// MaxArtifactSize is the largest ONNX artifact, in bytes: Publish
	// refuses a larger one, and metadata claiming more is skipped.
	MaxArtifactSize = 1 << 30
	// MinChunkSize and MaxChunkSize bound WithChunkSize and what readers
	// accept from other writers: a version's chunk count must lie between
	// its size divided by MaxChunkSize and its size divided by
	// MinChunkSize (rounded up), a chunk record's index below MaxChunks,
	// and a chunk record's value at most MaxChunkSize bytes.
	MinChunkSize = 64
	MaxChunkSize = 8 << 20
	// MaxChunks is the most chunks a version can have.
	MaxChunks = MaxArtifactSize / MinChunkSize
	// MaxMetadataBytes is the largest metadata or alias change record
	// value: Publish refuses larger metadata, readers skip larger values
	// without parsing them. It leaves room for key and framing in a 1 MiB
	// record, the smallest max.message.bytes EnsureTopic sets.
	MaxMetadataBytes = 1<<20 - recordOverhead/2
	// MaxEvidenceNameBytes bounds an alias change's evidence's metric and
	// test names, far above any the trainer writes (roc_auc, paired_t).
	MaxEvidenceNameBytes = 64
	// maxKeyBytes is longer than any key the catalog writes (two names of
	// 128 bytes, an ID, two numbers and the separators).
	maxKeyBytes = 512
)

// Reasons a reader skips a record: the values of the reason label of
// streamscore_catalog_records_skipped_total and the keys of
// Catalog.Skipped.
const (
	// SkipBadKey: a key of no shape the catalog writes (doc.go), or a
	// key longer than any it writes.
	SkipBadKey = "bad_key"
	// SkipTooLarge: a metadata or alias value over MaxMetadataBytes, or a
	// chunk over MaxChunkSize; never parsed.
	SkipTooLarge = "too_large"
	// SkipBadJSON: a metadata or alias value that is not JSON of the
	// right shape (including JSON nested deeper than encoding/json reads).
	SkipBadJSON = "bad_json"
	// SkipKeyMismatch: metadata whose name or version, or an alias change
	// whose name or alias, differs from its key.
	SkipKeyMismatch = "key_mismatch"
	// SkipVersionRange: a version number, in a key or an alias change,
	// outside 1..MaxVersion (an alias change's previous: 0..MaxVersion).
	SkipVersionRange = "version_out_of_range"
	// SkipVersionJump: a version more than MaxVersionStep above the
	// highest its model had before.
	SkipVersionJump = "version_jump"
	// SkipSizeRange: metadata with a size outside 1..MaxArtifactSize.
	SkipSizeRange = "size_out_of_range"
	// SkipChunksRange: metadata whose chunk count its size does not allow,
	// or a chunk record whose index is MaxChunks or more.
	SkipChunksRange = "chunks_out_of_range"
	// SkipBadMetadata: metadata whose SHA-256 is not 64 hex digits, or
	// whose parent is not an earlier version.
	SkipBadMetadata = "bad_metadata"
	// SkipDuplicate: metadata for a number already taken, as the loser of
	// two concurrent publishes writes (doc.go); the first one stays.
	SkipDuplicate = "duplicate_version"
	// SkipAliasTarget: an alias change naming a version its model did not
	// have at that point in the log. SetAlias only names versions it has
	// read, so this is a forgery or a version withdrawn since; the alias
	// keeps pointing where it did.
	SkipAliasTarget = "alias_target_unknown"
	// SkipBadEvidence: an alias change whose evidence fails
	// Evidence.Validate (a name over MaxEvidenceNameBytes, a version out
	// of range, a p-value outside 0..1, ...).
	SkipBadEvidence = "bad_evidence"
)

// SkipReasons lists every reason a record can be skipped, so that a metric
// can start each at zero.
func SkipReasons() []string {
	return []string{
		SkipBadKey, SkipTooLarge, SkipBadJSON, SkipKeyMismatch, SkipVersionRange, SkipVersionJump,
		SkipSizeRange, SkipChunksRange, SkipBadMetadata, SkipDuplicate, SkipAliasTarget, SkipBadEvidence,
	}
}

// WithOnSkip calls fn with the reason (one of SkipReasons) each time the
// catalog skips a record, to export the counts as a metric (see
// catalogprom). fn runs while the catalog applies records, holding its
// lock: it must be quick and must not call the Catalog.
func WithOnSkip(fn func(reason string)) Option {
	return func(c *Catalog) { c.onSkip = fn }
}

// chunkRange is the fewest and the most chunks an artifact of size bytes
// may have, whoever wrote it.
func chunkRange(size int) (least, most int) {
	return (size + MaxChunkSize - 1) / MaxChunkSize, (size + MinChunkSize - 1) / MinChunkSize
}

// parseNumber reads a number in a key. ok is false unless s is canonical
// decimal (no sign, no leading zero); inRange is false unless it is within
// lo..hi. Digits too many for hi are out of range, never wrapped.
func parseNumber(s string, lo, hi int) (n int, ok, inRange bool) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, false, false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false, false
		}
	}
	if len(s) > len(strconv.Itoa(hi)) {
		return 0, true, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, true, false
	}
	return n, true, true
}

// maxLogged is how much of a key or an error a skip logs: enough to find
// the record, never a forged megabyte.
const maxLogged = 200

// clip shortens s for a log line, saying how long it was.
func clip(s string) string {
	if len(s) <= maxLogged {
		return s
	}
	return fmt.Sprintf("%s... (%d bytes)", s[:maxLogged], len(s))
}
