package stream

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/serde"
)

// Dead-letter reasons: the error classes a dead letter's
// streamscore.error.class header and the dead-letter metric carry.
const (
	ReasonOversize = "oversize"
	// ReasonOversizeBatch: a fetched record batch would decompress past
	// Config.MaxDecompressedBatchBytes; one dead letter, without a value,
	// names the batch's offsets, and the batch is skipped undecompressed.
	ReasonOversizeBatch = "oversize_batch"
	ReasonBadMagic      = "bad_magic"
	ReasonTruncated     = "truncated"
	ReasonUnknownSchema = "unknown_schema"
	ReasonUnsupported   = "unsupported_schema"
	ReasonNotRecord     = "not_a_record"
	ReasonCorruptAvro   = "corrupt_avro"
	// ReasonOverBudget: a well-formed body that nests too deep or would
	// decode into more memory than the avro guard's limits allow.
	ReasonOverBudget     = "over_budget"
	ReasonMissingFeature = "missing_feature"
	ReasonWrongType      = "wrong_type"
	ReasonNonFinite      = "non_finite"
	// ReasonUnknownCategory: a categorical value outside the model's
	// table, for a feature whose spec says unknown: dead_letter.
	ReasonUnknownCategory = "unknown_category"
	// ReasonShortArray: an array shorter than its feature's length, for a
	// feature with no pad.
	ReasonShortArray      = "short_array"
	ReasonOutputSchema    = "output_schema_rejected"
	ReasonInferenceFailed = "inference_failed"
	// ReasonTooLarge: the output or dead letter was too large for Kafka;
	// the dead letter then carries the source coordinates without the value.
	ReasonTooLarge = "too_large_to_produce"
	// ReasonInternal: decoding, mapping, scoring or encoding the record
	// panicked. That is a bug the record reached, in streamscore or a
	// library; the record is dead-lettered with the panic's message and
	// the stream goes on, instead of the scorer dying on the record after
	// every restart.
	ReasonInternal = "internal_error"
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
		{serde.ErrOverBudget, ReasonOverBudget},
		{ErrInternal, ReasonInternal},
		{serde.ErrOutputSchema, ReasonOutputSchema},
		{model.ErrMissingFeature, ReasonMissingFeature},
		{model.ErrWrongType, ReasonWrongType},
		{model.ErrNonFinite, ReasonNonFinite},
		{model.ErrUnknownCategory, ReasonUnknownCategory},
		{model.ErrShortArray, ReasonShortArray},
		{model.ErrOversize, ReasonOversize},
		{errOversizeRecord, ReasonOversize},
		{errOversizeBatch, ReasonOversizeBatch},
		{kerr.MessageTooLarge, ReasonTooLarge},
	} {
		if errors.Is(err, c.err) {
			return c.reason
		}
	}
	return ReasonInferenceFailed
}

var (
	errOversizeRecord = errors.New("record too large")
	errOversizeBatch  = errors.New("record batch decompresses too large")
)

// ErrInternal wraps a panic recovered while one record was handled; the
// trainer counts such records by ReasonOf too.
var ErrInternal = errors.New("internal error")

// Recovered turns a value recovered from a panic into an error of class
// ErrInternal, naming the panic and where it was raised, so a dead letter's
// reason points at the bug.
func Recovered(r any) error {
	return fmt.Errorf("%w: panic: %v (at %s)", ErrInternal, r, panicSite())
}

// panicSite is the function and line that panicked, when called from a
// deferred function during a panic: the first frame below runtime.gopanic
// that is not the runtime's own (an index out of range or a nil pointer
// goes through runtime.goPanicIndex or runtime.sigpanic first).
func panicSite() string {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	panicking := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			panicking = true
		case panicking && !strings.HasPrefix(f.Function, "runtime."):
			return fmt.Sprintf("%s:%d", f.Function, f.Line)
		}
		if !more {
			return "unknown"
		}
	}
}

// Header keys the scorer writes. Outputs carry the source coordinates and
// the model version; dead letters also carry the error class and reason.
const (
	HeaderSourceTopic     = "streamscore.source.topic"
	HeaderSourcePartition = "streamscore.source.partition"
	HeaderSourceOffset    = "streamscore.source.offset"
	// HeaderSourceFirstOffset is on the dead letter of a skipped batch:
	// the batch's first offset (HeaderSourceOffset names its last).
	HeaderSourceFirstOffset = "streamscore.source.first_offset"
	HeaderModel             = "streamscore.model"
	HeaderErrorClass        = "streamscore.error.class"
	HeaderErrorReason       = "streamscore.error.reason"
	// HeaderValueDropped holds the size of a value left out of a dead letter
	// because it was too large to produce.
	HeaderValueDropped = "streamscore.error.value_dropped_bytes"
)
