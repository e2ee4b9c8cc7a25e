package stream

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/serde"
)

// Dead-letter reasons: the error classes a dead letter's
// streamscore.error.class header and the dead-letter metric carry.
const (
	ReasonOversize        = "oversize"
	ReasonBadMagic        = "bad_magic"
	ReasonTruncated       = "truncated"
	ReasonUnknownSchema   = "unknown_schema"
	ReasonUnsupported     = "unsupported_schema"
	ReasonNotRecord       = "not_a_record"
	ReasonCorruptAvro     = "corrupt_avro"
	ReasonMissingFeature  = "missing_feature"
	ReasonWrongType       = "wrong_type"
	ReasonNonFinite       = "non_finite"
	ReasonOutputSchema    = "output_schema_rejected"
	ReasonInferenceFailed = "inference_failed"
	// ReasonTooLarge: the output or dead letter was too large for Kafka;
	// the dead letter then carries the source coordinates without the value.
	ReasonTooLarge = "too_large_to_produce"
)

// ReasonOf maps an error to its dead-letter class, the value of the
// streamscore.error.class header; the trainer counts skipped rows by it
// too. Order matters only in that each error wraps one class; the table is
// the single place the mapping lives.
func ReasonOf(err error) string {
	for _, c := range []struct {
		err    error
		reason string
	}{
		{serde.ErrBadMagic, ReasonBadMagic},
		{serde.ErrTruncated, ReasonTruncated},
		{serde.ErrUnknownSchema, ReasonUnknownSchema},
		{serde.ErrUnsupportedSchema, ReasonUnsupported},
		{serde.ErrNotRecord, ReasonNotRecord},
		{serde.ErrCorruptAvro, ReasonCorruptAvro},
		{serde.ErrOutputSchema, ReasonOutputSchema},
		{model.ErrMissingFeature, ReasonMissingFeature},
		{model.ErrWrongType, ReasonWrongType},
		{model.ErrNonFinite, ReasonNonFinite},
		{model.ErrOversize, ReasonOversize},
		{errOversizeRecord, ReasonOversize},
		{kerr.MessageTooLarge, ReasonTooLarge},
	} {
		if errors.Is(err, c.err) {
			return c.reason
		}
	}
	return ReasonInferenceFailed
}

var errOversizeRecord = errors.New("record too large")

// Header keys the scorer writes. Outputs carry the source coordinates and
// the model version; dead letters also carry the error class and reason.
const (
	HeaderSourceTopic     = "streamscore.source.topic"
	HeaderSourcePartition = "streamscore.source.partition"
	HeaderSourceOffset    = "streamscore.source.offset"
	HeaderModel           = "streamscore.model"
	HeaderErrorClass      = "streamscore.error.class"
	HeaderErrorReason     = "streamscore.error.reason"
	// HeaderValueDropped holds the size of a value left out of a dead letter
	// because it was too large to produce.
	HeaderValueDropped = "streamscore.error.value_dropped_bytes"
)
