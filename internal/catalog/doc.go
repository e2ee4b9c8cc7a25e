// Package catalog is streamscore's model registry, kept in one compacted
// Kafka topic (DefaultTopic). Trainers publish model versions to it and
// move aliases ("champion", "shadow", ...) between them; scorers follow an
// alias and load whatever version it points at. Nothing else stores state:
// every Catalog rebuilds the registry by reading the topic from the start,
// and keeps tailing it.
//
// # Record layout
//
// The topic has one partition, so every reader sees every record in the
// order it was written. Keys are slash-separated; NAME and ALIAS never
// contain a slash (see ValidName), ID is 16 lowercase hex digits chosen at
// random by each Publish or SetAlias call.
//
//	NAME/v/N/ID/chunk/I   one chunk (I = 0, 1, ...) of version N's ONNX bytes,
//	                      at most the chunk size (512 KiB by default) each
//	NAME/v/N/ID           version N's metadata, a Version as JSON, written
//	                      after all of its chunks
//	NAME/alias/ALIAS/ID   one change of an alias, an AliasChange as JSON
//
// Every key is unique, so compaction removes nothing the catalog wrote: the
// whole promotion history survives, and so does every version. The catalog
// never writes tombstones; a tombstone found on a metadata key withdraws
// that version, on any other key it is ignored.
//
// # Who owns a version number
//
// Publish picks the next number (the highest accepted plus one) and writes
// under a fresh ID. Two processes publishing the same name at once may pick
// the same number; they write under different keys, and readers keep the
// first metadata record for a number (the lowest offset) and skip the
// others, logging and counting the conflict (duplicate_version). Each publisher reads the topic back past
// its own metadata record: the one whose record is first gets its Version,
// the other ErrConflict, and may publish again to get the next number. Since
// the loser's records have keys of their own, compaction never makes a
// reader change its mind. The loser's records stay in the topic, unused.
//
// Alias changes are ordered by the log: the last change of an alias wins.
// Two promotions at once both succeed and both appear in the history; the
// later one's Previous may then name the version the earlier one replaced.
//
// # Readers
//
// Anyone able to write to the topic can write any record, so a reader
// trusts no claim it has not checked against the limits in limits.go. A
// record is skipped, logged (its key and any error cut to 200 bytes) and
// counted by reason (Catalog.Skipped, WithOnSkip, SkipReasons) if:
//
//   - its key has another shape, or is longer than any the catalog writes
//     (bad_key); a version outside 1..MaxVersion or a chunk index of
//     MaxChunks or more in it (version_out_of_range, chunks_out_of_range);
//   - its value is over MaxMetadataBytes (metadata, alias change) or
//     MaxChunkSize (chunk), and is then never parsed (too_large), or is not
//     JSON of the right shape, nested too deep included (bad_json);
//   - it is metadata whose name or version, or an alias change whose name
//     or alias, differs from its key (key_mismatch);
//   - it is metadata numbered more than MaxVersionStep above the highest
//     version its model had before it (version_jump): Publish never leaves
//     a gap, so without this one forged record numbered MaxVersion would
//     leave no number to publish;
//   - its size is outside 1..MaxArtifactSize (size_out_of_range), its chunk
//     count is not one its size allows with chunks of MinChunkSize to
//     MaxChunkSize bytes (chunks_out_of_range), its SHA-256 is not 64 hex
//     digits or its parent not an earlier version (bad_metadata);
//   - it takes a number already taken (duplicate_version, see above);
//   - it is an alias change whose version is out of range, or not a version
//     its model had at that point in the log (alias_target_unknown): the
//     alias keeps pointing where it did, so a follower keeps serving, and a
//     forged alias never comes to life when a later version takes the
//     number it named;
//   - it is an alias change whose evidence (Evidence.Validate) names a
//     version out of range, a metric or test name over
//     MaxEvidenceNameBytes, or a p-value outside 0..1 (bad_evidence).
//
// Nothing is kept or allocated by what a record claims before the check.
// Publish takes one above the highest number ever accepted for the name
// (a withdrawn number is not given again), so the next number is always
// computable and only grows; after MaxVersion, Publish returns ErrInvalid.
//
// A version whose metadata arrived but whose chunks are missing or altered
// still lists; Artifact refuses it with ErrCorrupt, after checking the chunk
// count, the size and the SHA-256 of the reassembled bytes. It holds only
// the chunks it reads, and stops as soon as they hold more bytes than the
// metadata says.
//
// Chunks are not kept in memory: the catalog remembers their offsets, and
// Artifact reads them back from the topic with a short-lived consumer.
//
// Sync waits until the catalog has read up to the partition's end offset as
// listed when it was called. Because the catalog never writes tombstones,
// the last record of the topic is never compacted away, so that offset is
// always reached.
package catalog
