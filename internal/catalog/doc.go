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
// Publish picks the next number (the highest known plus one) and writes
// under a fresh ID. Two processes publishing the same name at once may pick
// the same number; they write under different keys, and readers keep the
// first metadata record for a number (the lowest offset) and ignore the
// others, logging the conflict. Each publisher reads the topic back past
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
// Records with keys of another shape, malformed JSON, or metadata that does
// not match its key are logged and skipped. A version whose metadata
// arrived but whose chunks are missing or altered still lists; Artifact
// refuses it with ErrCorrupt, after checking the chunk count, the size and
// the SHA-256 of the reassembled bytes.
//
// Chunks are not kept in memory: the catalog remembers their offsets, and
// Artifact reads them back from the topic with a short-lived consumer.
//
// Sync waits until the catalog has read up to the partition's end offset as
// listed when it was called. Because the catalog never writes tombstones,
// the last record of the topic is never compacted away, so that offset is
// always reached.
package catalog
