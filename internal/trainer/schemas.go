package trainer

import (
	"context"
	"errors"
	"fmt"

	"github.com/riferrei/srclient"

	"github.com/streamscore/streamscore/internal/avropath"
)

// Schemas finds the latest schema registered under a subject, which a
// training checks its paths against before reading any record.
type Schemas interface {
	// LatestSchema returns the schema's text and version; a subject with
	// no schema is ErrNoSchema.
	LatestSchema(ctx context.Context, subject string) (text string, version int, err error)
}

// ErrNoSchema means a subject has no schema registered.
var ErrNoSchema = errors.New("no schema registered under the subject")

// LatestGetter is the one method of a schema registry client that
// RegistrySchemas calls (*srclient.SchemaRegistryClient has it).
type LatestGetter interface {
	GetLatestSchema(subject string) (*srclient.Schema, error)
}

// RegistrySchemas are the Schemas of a schema registry.
type RegistrySchemas struct{ Registry LatestGetter }

// errCodeSubjectNotFound is the registry's error code for an unknown
// subject.
const errCodeSubjectNotFound = 40401

// LatestSchema asks the registry for the subject's latest schema.
func (r RegistrySchemas) LatestSchema(_ context.Context, subject string) (string, int, error) {
	s, err := r.Registry.GetLatestSchema(subject)
	var srErr srclient.Error
	if errors.As(err, &srErr) && srErr.Code == errCodeSubjectNotFound {
		return "", 0, fmt.Errorf("%w: %s", ErrNoSchema, subject)
	}
	if err != nil {
		return "", 0, fmt.Errorf("schema registry: latest schema of %s: %w", subject, err)
	}
	return s.Schema(), s.Version(), nil
}

// TopicSubject is the subject of a topic's record values (the registry's
// default TopicNameStrategy), whose latest schema a job is checked against.
func TopicSubject(topic string) string { return topic + "-value" }

// ResolveSchema checks opts against the latest schema of subject (see
// Options.Resolve) and returns them resolved. A subject without a schema
// leaves them as they are, with ok false: its records, if any, are read
// one by one as before, categorical only where the options say so.
func ResolveSchema(ctx context.Context, schemas Schemas, subject string, opts Options) (resolved Options, ok bool, err error) {
	text, version, err := schemas.LatestSchema(ctx, subject)
	if errors.Is(err, ErrNoSchema) {
		return opts, false, nil
	}
	if err != nil {
		return Options{}, false, err
	}
	schema, err := avropath.ParseSchema(text)
	if err != nil {
		return Options{}, false, fmt.Errorf("schema %s version %d: %w", subject, version, err)
	}
	resolved, err = opts.Resolve(schema, fmt.Sprintf("%s version %d", subject, version))
	if err != nil {
		return Options{}, false, err
	}
	return resolved, true, nil
}
