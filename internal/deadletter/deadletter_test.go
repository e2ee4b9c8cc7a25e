package deadletter_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/serde"
)

func TestClassifyNamesTheWrappedClass(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("frame: %w", serde.ErrBadMagic), deadletter.BadMagic},
		{fmt.Errorf("schema 7: %w", serde.ErrUnknownSchema), deadletter.UnknownSchema},
		{fmt.Errorf("body: %w", serde.ErrOverBudget), deadletter.OverBudget},
		{fmt.Errorf("feature x: %w", model.ErrMissingFeature), deadletter.MissingFeature},
		{fmt.Errorf("site: %w", model.ErrUnknownCategory), deadletter.UnknownCategory},
		{fmt.Errorf("%w: 2 MB", deadletter.ErrOversizeRecord), deadletter.Oversize},
		{fmt.Errorf("%w: offsets 4-9", deadletter.ErrOversizeBatch), deadletter.OversizeBatch},
		{fmt.Errorf("produce: %w", kerr.MessageTooLarge), deadletter.TooLarge},
		{deadletter.Recovered("boom"), deadletter.Internal},
		{errors.New("onnx runtime: run failed"), deadletter.InferenceFailed},
	}
	for _, tt := range tests {
		if got := deadletter.Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%q) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestGuardTurnsAPanicIntoAnInternalErrorNamingWhere(t *testing.T) {
	err := deadletter.Guard(func() error {
		var m map[string]int
		m["x"] = 1 // a nil map: panics
		return nil
	})
	if !errors.Is(err, deadletter.ErrInternal) {
		t.Fatalf("Guard = %v, want an ErrInternal error", err)
	}
	if !strings.Contains(err.Error(), "TestGuardTurnsAPanicIntoAnInternalErrorNamingWhere") {
		t.Errorf("%q does not name the function that panicked", err)
	}
	want := errors.New("plain")
	if got := deadletter.Guard(func() error { return want }); got != want {
		t.Errorf("Guard passed %v through as %v", want, got)
	}
}

func TestCapReasonKeepsTheStartWithinTheLimit(t *testing.T) {
	short := "missing feature: temperature"
	if got := deadletter.CapReason(short); got != short {
		t.Errorf("a short reason changed: %q", got)
	}
	long := "field a.b: " + strings.Repeat("é", deadletter.MaxReasonBytes)
	got := deadletter.CapReason(long)
	if len(got) > deadletter.MaxReasonBytes || !utf8.ValidString(got) {
		t.Fatalf("capped reason is %d bytes (valid UTF-8: %v), want at most %d", len(got), utf8.ValidString(got), deadletter.MaxReasonBytes)
	}
	if !strings.HasPrefix(got, "field a.b: ") || !strings.Contains(got, "bytes cut)") {
		t.Errorf("capped reason %q lost its start or the note of what was cut", got[:40])
	}
}
