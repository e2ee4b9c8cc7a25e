package registry

import (
	"fmt"
	"strings"

	"github.com/hamba/avro/v2"
)

// Compatibility is a Confluent compatibility level: which earlier versions
// of a subject a new schema is checked against, and in which direction.
type Compatibility string

// The compatibility levels Confluent defines.
const (
	// None accepts any schema.
	None Compatibility = "NONE"
	// Backward: the new schema can read data written with the latest one.
	Backward Compatibility = "BACKWARD"
	// BackwardTransitive: the new schema can read data written with every
	// live version.
	BackwardTransitive Compatibility = "BACKWARD_TRANSITIVE"
	// Forward: the latest schema can read data written with the new one.
	Forward Compatibility = "FORWARD"
	// ForwardTransitive: every live version can read data written with the
	// new one.
	ForwardTransitive Compatibility = "FORWARD_TRANSITIVE"
	// Full is Backward and Forward against the latest version.
	Full Compatibility = "FULL"
	// FullTransitive is Backward and Forward against every live version.
	FullTransitive Compatibility = "FULL_TRANSITIVE"
)

var allCompatibilities = []Compatibility{
	None, Backward, BackwardTransitive, Forward, ForwardTransitive, Full, FullTransitive,
}

// ParseCompatibility reads a level name, case-insensitively as Confluent
// does.
func ParseCompatibility(s string) (Compatibility, error) {
	want := Compatibility(strings.ToUpper(strings.TrimSpace(s)))
	for _, c := range allCompatibilities {
		if c == want {
			return c, nil
		}
	}
	return "", fmt.Errorf("unknown compatibility level %q (want one of %s)", s, compatibilityNames())
}

func compatibilityNames() string {
	names := make([]string, len(allCompatibilities))
	for i, c := range allCompatibilities {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}

func (c Compatibility) backward() bool {
	return c == Backward || c == BackwardTransitive || c == Full || c == FullTransitive
}

func (c Compatibility) forward() bool {
	return c == Forward || c == ForwardTransitive || c == Full || c == FullTransitive
}

func (c Compatibility) transitive() bool {
	return c == BackwardTransitive || c == ForwardTransitive || c == FullTransitive
}

// priorSchema is one earlier live version a candidate is checked against.
type priorSchema struct {
	version int
	schema  avro.Schema
}

// check reports why candidate may not follow history (oldest first) under
// level c; an empty result means it may. Non-transitive levels look at the
// last entry only, so callers pass the whole live history either way.
func (c Compatibility) check(candidate avro.Schema, history []priorSchema) []string {
	if c == None || len(history) == 0 {
		return nil
	}
	if !c.transitive() {
		history = history[len(history)-1:]
	}
	var reasons []string
	for _, prior := range history {
		if c.backward() {
			if err := canRead(candidate, prior.schema); err != nil {
				reasons = append(reasons, fmt.Sprintf(
					"the new schema cannot read data written with version %d: %v", prior.version, err))
			}
		}
		if c.forward() {
			if err := canRead(prior.schema, candidate); err != nil {
				reasons = append(reasons, fmt.Sprintf(
					"version %d cannot read data written with the new schema: %v", prior.version, err))
			}
		}
	}
	return reasons
}

// canRead reports whether data written with writer can be decoded with
// reader, by Avro schema resolution.
//
// Each call uses a fresh avro.SchemaCompatibility on purpose: its memo is
// keyed by the Parsing Canonical Form fingerprint, which drops field
// defaults, so a shared instance would answer for "field b, no default" what
// it had computed for "field b, default 0". Its in-progress marker is also
// read by concurrent callers as "compatible". The checks are cheap next to
// an HTTP round trip.
func canRead(reader, writer avro.Schema) error {
	return avro.NewSchemaCompatibility().Compatible(reader, writer)
}
