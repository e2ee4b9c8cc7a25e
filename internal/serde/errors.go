package serde

import "errors"

// Classes of errors that callers act on with errors.Is. Every error that
// Decode returns wraps exactly one of ErrBadMagic, ErrTruncated,
// ErrUnknownSchema, ErrRegistryUnavailable, ErrCorruptAvro, ErrOverBudget,
// ErrNotRecord or ErrUnsupportedSchema; all but ErrRegistryUnavailable are properties of the
// record (or of its schema, which never changes for an id), so the scorer
// dead-letters such a record and moves on.
var (
	// ErrBadMagic: the value does not start with the Confluent magic byte 0,
	// so it was not written by a schema-registry serializer.
	ErrBadMagic = errors.New("bad magic byte")
	// ErrTruncated: the value is shorter than the 5-byte frame header.
	ErrTruncated = errors.New("truncated frame")
	// ErrUnknownSchema: the registry answered that the schema id does not
	// exist (error code 40403). Such misses are remembered for a short while
	// (DecoderConfig.NegativeTTL) so a flood of bad ids does not reach the
	// registry once per record.
	ErrUnknownSchema = errors.New("unknown schema id")
	// ErrRegistryUnavailable: the registry could not give a definite answer:
	// a transport error, a timeout, a 5xx, and also an authorization failure
	// or an answer that is not the registry's JSON (a wrong URL). None of
	// these say anything about the record, so the caller must not dead-letter
	// it: it retries with backoff. Nothing is cached, so the next call asks
	// the registry again; the Decoder itself never retries or sleeps.
	ErrRegistryUnavailable = errors.New("schema registry unavailable")
	// ErrCorruptAvro: the body does not decode with the writer schema, or
	// bytes remain after the record.
	// The avro guard (internal/avroguard) walks every body before goavro
	// does: a body whose counts, lengths, varints or indexes it cannot
	// hold is corrupt, and the reason names the field path and the claim.
	ErrCorruptAvro = errors.New("corrupt avro body")
	// ErrOverBudget: the body is well formed, but nests deeper, or would
	// decode into more memory, than DecoderConfig.Limits allow for a body
	// of its size. The reason names the field path, the claim and the
	// limit; raising the limit lets such records through.
	ErrOverBudget = errors.New("avro body over budget")
	// ErrNotRecord: the writer schema's top level is not an Avro record.
	ErrNotRecord = errors.New("schema is not a record")
	// ErrUnsupportedSchema: the writer schema cannot be used at all: it is
	// not Avro (Protobuf, JSON Schema), it uses schema references, or it does
	// not compile.
	ErrUnsupportedSchema = errors.New("unsupported schema")
	// ErrOutputSchema: no output schema can be made for an input schema: it
	// already has a field named prediction, it is not a record, or the
	// registry refused the derived schema (incompatible with the subject's
	// earlier versions, or invalid). Permanent for that input schema until an
	// operator acts, so records of it are dead-lettered.
	ErrOutputSchema = errors.New("cannot make output schema")
)
