// Package deadletter names why a record could not be scored: the classes a
// dead letter's headers and the dead-letter metric carry, the mapping from
// an error to its class, and the headers the scorer writes. The scorer and
// the trainer (which skips the same rows for the same reasons) both use it.
package deadletter

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/serde"
)

// The error classes a dead letter's streamscore.error.class header and the
// dead-letter metric carry.
const (
	Oversize = "oversize"
	// OversizeBatch: a fetched record batch would decompress past
	// Config.MaxDecompressedBatchBytes; one dead letter, without a value,
	// names the batch's offsets, and the batch is skipped undecompressed.
	OversizeBatch = "oversize_batch"
	BadMagic      = "bad_magic"
	Truncated     = "truncated"
	UnknownSchema = "unknown_schema"
	Unsupported   = "unsupported_schema"
	NotRecord     = "not_a_record"
	CorruptAvro   = "corrupt_avro"
	// OverBudget: a well-formed body that nests too deep or would
	// decode into more memory than the avro guard's limits allow.
	OverBudget     = "over_budget"
	MissingFeature = "missing_feature"
	WrongType      = "wrong_type"
	NonFinite      = "non_finite"
	// UnknownCategory: a categorical value outside the model's
	// table, for a feature whose spec says unknown: dead_letter.
	UnknownCategory = "unknown_category"
	// ShortArray: an array shorter than its feature's length, for a
	// feature with no pad.
	ShortArray      = "short_array"
	OutputSchema    = "output_schema_rejected"
	InferenceFailed = "inference_failed"
	// TooLarge: the output or dead letter was too large for Kafka;
	// the dead letter then carries the source coordinates without the value.
	TooLarge = "too_large_to_produce"
	// Internal: decoding, mapping, scoring or encoding the record
	// panicked. That is a bug the record reached, in streamscore or a
	// library; the record is dead-lettered with the panic's message and
	// the stream goes on, instead of the scorer dying on the record after
	// every restart.
	Internal = "internal_error"
)

// Classify maps an error to its class, the value of the
// streamscore.error.class header; the trainer counts skipped rows by it
// too. Order matters only in that each error wraps one class; the table is
// the single place the mapping lives.
func Classify(err error) string {
	for _, c := range []struct {
		err    error
		reason string
	}{
		{serde.ErrBadMagic, BadMagic},
		{serde.ErrTruncated, Truncated},
		{serde.ErrUnknownSchema, UnknownSchema},
		{serde.ErrUnsupportedSchema, Unsupported},
		{serde.ErrNotRecord, NotRecord},
		{serde.ErrCorruptAvro, CorruptAvro},
		{serde.ErrOverBudget, OverBudget},
		{ErrInternal, Internal},
		{serde.ErrOutputSchema, OutputSchema},
		{model.ErrMissingFeature, MissingFeature},
		{model.ErrWrongType, WrongType},
		{model.ErrNonFinite, NonFinite},
		{model.ErrUnknownCategory, UnknownCategory},
		{model.ErrShortArray, ShortArray},
		{model.ErrOversize, Oversize},
		{ErrOversizeRecord, Oversize},
		{ErrOversizeBatch, OversizeBatch},
		{kerr.MessageTooLarge, TooLarge},
	} {
		if errors.Is(err, c.err) {
			return c.reason
		}
	}
	return InferenceFailed
}

// ErrOversizeRecord is a record value over the scorer's record limit;
// ErrOversizeBatch a fetched batch that would decompress past its limit.
var (
	ErrOversizeRecord = errors.New("record too large")
	ErrOversizeBatch  = errors.New("record batch decompresses too large")
)

// ErrInternal wraps a panic recovered while one record was handled; the
// trainer counts such records by Classify too.
var ErrInternal = errors.New("internal error")

// Recovered turns a value recovered from a panic into an error of class
// ErrInternal, naming the panic and where it was raised, so a dead letter's
// reason points at the bug.
func Recovered(r any) error {
	return fmt.Errorf("%w: panic: %v (at %s)", ErrInternal, r, panicSite())
}

// Guard runs f, turning a panic into an ErrInternal error (Recovered): a
// bug that one record reaches skips that record, counted, instead of
// stopping a training and, with it, the trainer's API and other jobs.
func Guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = Recovered(r)
		}
	}()
	return f()
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

// MaxReasonBytes bounds a dead letter's streamscore.error.reason header. A
// reason comes from a library's error as well as ours, and one nested error
// per level of a deep record made a 156 KB reason that no longer fit the
// dead letter, losing its class with it.
const MaxReasonBytes = 1024

// CapReason cuts a reason to MaxReasonBytes, keeping its start (the class
// and the field) and saying how much was cut.
func CapReason(reason string) string {
	if len(reason) <= MaxReasonBytes {
		return reason
	}
	const note = "… (%d bytes cut)"
	keep := strings.ToValidUTF8(reason[:MaxReasonBytes-32], "")
	return keep + fmt.Sprintf(note, len(reason)-len(keep))
}
