package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/riferrei/srclient"

	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/serde"
)

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
		return "", 0, fmt.Errorf("%w: %s", fit.ErrNoSchema, subject)
	}
	if err != nil {
		// As the decoder classes a registry that does not answer: the
		// training can be retried once it does.
		return "", 0, fmt.Errorf("%w: latest schema of %s: %w", serde.ErrRegistryUnavailable, subject, err)
	}
	return s.Schema(), s.Version(), nil
}

// TopicSubject is the subject of a topic's record values (the registry's
// default TopicNameStrategy), whose latest schema a job is checked against.
func TopicSubject(topic string) string { return topic + "-value" }

// checkSchemas resolves a job's options against the latest schema of its
// source topic, and of its test source's when that is another topic,
// before any record is read (see Options.Resolve): a path the schema lacks
// or a type that cannot feed its column refuses the job, every such path
// named at once, and the strings and enums become categorical. Both
// topics must make the same features categorical.
func (r *Runner) checkSchemas(ctx context.Context, job Job) (fit.Options, error) {
	opts := job.Options.WithDefaults()
	resolved, err := r.resolveTopic(ctx, job.Source, sourceField, opts)
	if err != nil {
		return fit.Options{}, err
	}
	if t := job.TestSource; t != nil && t.Topic != job.Source.Topic {
		test, err := r.resolveTopic(ctx, *t, testSourceField, opts)
		if err != nil {
			return fit.Options{}, err
		}
		if a, b := categoricalPaths(resolved), categoricalPaths(test); !slices.Equal(a, b) {
			return fit.Options{}, fmt.Errorf("%w: test_source: topic %q makes features %q categorical, and source topic %q %q: a model reads a feature one way",
				fit.ErrInvalidOptions, t.Topic, b, job.Source.Topic, a)
		}
	}
	return resolved, nil
}

// resolveTopic resolves opts against the latest schema of src's topic:
// the registry's (Schemas), or, for a runner built without one, the
// writer schema of the topic's newest record. A topic without either is
// read unchecked, categorical only where the options say so.
func (r *Runner) resolveTopic(ctx context.Context, src catalog.Source, field string, opts fit.Options) (fit.Options, error) {
	subject := TopicSubject(src.Topic)
	logger := r.logger().With("subject", subject)
	if r.Schemas != nil {
		resolved, ok, err := fit.ResolveSchema(ctx, r.Schemas, subject, opts)
		if err != nil {
			return fit.Options{}, fmt.Errorf("%s: %w", field, err)
		}
		if !ok {
			logger.Warn("no schema registered for the topic: its records are checked one by one as they are read")
		}
		return resolved, nil
	}
	text, id, err := newestSchema(ctx, r.KafkaOpts, r.Decoder, src, field)
	if err != nil {
		return fit.Options{}, err
	}
	if text == "" {
		logger.Warn("no schema to check against: its records are checked one by one as they are read")
		return opts, nil
	}
	schema, err := avropath.ParseSchema(text)
	if err == nil {
		opts, err = opts.Resolve(schema, fmt.Sprintf("schema id %d (of %s's newest record)", id, src.Topic))
	}
	if err != nil {
		return fit.Options{}, fmt.Errorf("%s: %w", field, err)
	}
	return opts, nil
}

// categoricalPaths are the canonical paths of opts' categorical features.
func categoricalPaths(opts fit.Options) []string {
	var out []string
	for _, f := range opts.FeatureReads() {
		if f.Kind == fit.CategoryFeature {
			out = append(out, f.Path.String())
		}
	}
	slices.Sort(out)
	return out
}
