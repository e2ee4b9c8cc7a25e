package avroguard

import (
	"errors"
	"testing"

	"github.com/linkedin/goavro/v2"

	"github.com/streamscore/streamscore/internal/testkit"
)

// FuzzCheck is structure aware: each input drives testkit.GenerateAvro to a
// schema of every Avro type (recursion included) and a body, valid or
// bent the way a hostile producer would (block counts, lengths, negative
// and overflowing varints, indexes, nesting). For every input: the guard
// does not panic; it never calls a valid body malformed, and refuses one
// as over budget only if goavro would really allocate at least half the
// budget for it; it refuses every body nested far too deep; and a body it
// passes decodes in goavro without allocating more than the budget the
// guard holds it to (min(64 KiB + the fixed cost + 128 bytes per body byte, 16 MiB): at
// most 8.3 MiB for the generator's 64 KiB bodies).
func FuzzCheck(f *testing.F) {
	for seed := range 64 {
		f.Add(testkit.Seed(seed))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := testkit.GenerateAvro(data)
		s, err := Compile(c.Schema)
		if err != nil {
			t.Fatalf("generated schema refused: %v\n%s", err, c.Schema)
		}
		codec, err := goavro.NewCodec(c.Schema)
		if err != nil {
			t.Fatalf("goavro refuses a generated schema: %v", err)
		}
		budget := s.Budget(len(c.Body), Limits{})
		_, err = s.Check(c.Body, Limits{})
		var guardErr *Error
		switch {
		case err == nil:
			if got := allocated(func() { _, _, _ = codec.NativeFromBinary(c.Body) }); got > budget+4096 {
				t.Fatalf("goavro allocated %d bytes for a %d-byte body the guard passed (budget %d)\nschema %s\nbody %x", got, len(c.Body), budget, c.Schema, c.Body)
			}
		case !errors.As(err, &guardErr) || (!errors.Is(err, ErrMalformed) && !errors.Is(err, ErrOverBudget)):
			t.Fatalf("error outside the guard's classes: %v", err)
		case c.Hostile:
		case errors.Is(err, ErrMalformed):
			t.Fatalf("valid body called malformed: %v\nschema %s\nbody %x", err, c.Schema, c.Body)
		default:
			got := allocated(func() {
				if _, _, err := codec.NativeFromBinary(c.Body); err != nil {
					t.Fatalf("generated body does not decode: %v", err)
				}
			})
			if got < budget/2 {
				t.Fatalf("valid body refused as over a budget of %d, but goavro allocates only %d for it: %v\nschema %s\nbody %x", budget, got, err, c.Schema, c.Body)
			}
		}
		if c.Deep && err == nil {
			t.Fatalf("a body nested thousands deep passed\nschema %s", c.Schema)
		}
	})
}
