package serde

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/riferrei/srclient"
	"golang.org/x/sync/singleflight"
)

// PredictionSchema is the Prediction record of schemas/prediction.avsc,
// kept here so the package needs no file at run time; a test holds the two
// equal.
const PredictionSchema = predictionHead + predictionFieldsNoMargin + `,
    ` + marginField + predictionTail

// predictionSchemaNoMargin is PredictionSchema as it was before the margin
// field, byte for byte: output subjects registered then hold it.
const predictionSchemaNoMargin = predictionHead + predictionFieldsNoMargin + predictionTail

const predictionHead = `{
  "type": "record",
  "name": "Prediction",
  "namespace": "io.streamscore",
  "doc": "What the scorer adds to every input record. The output schema of a topic is the input record with one more field, ` + "`prediction`" + `, of this type, appended last; so the output's Avro body is the input's body followed by this record.",
  "fields": [
`

const predictionFieldsNoMargin = `    {"name": "model_name", "type": "string", "doc": "Name of the model that scored the record."},
    {"name": "model_version", "type": "string", "doc": "Version of that model; every output names the exact version."},
    {"name": "label", "type": ["null", "string"], "default": null, "doc": "Predicted class, for classifiers; null for regressors."},
    {"name": "value", "type": ["null", "double"], "default": null, "doc": "Predicted value, for regressors; for binary classifiers the score of the positive (last) class."},
    {"name": "scores", "type": {"type": "map", "values": "double"}, "doc": "Score of every class by label, for classifiers; empty for regressors."},
    {"name": "scored_at", "type": {"type": "long", "logicalType": "timestamp-millis"}, "doc": "When the scorer produced this prediction (UTC)."}`

const marginField = `{"name": "margin", "type": ["null", {"type": "map", "values": "double"}], "default": null, "doc": "Raw scores before the probability head, by label as in scores, when the model exports them: for a binary classifier only the positive (last) class, with its logit; for a multiclass one every class. Unlike a probability, which saturates at 1, a margin keeps ranking rare events apart. Null for regressors and for models without a margin output."}`

const predictionTail = `
  ]
}`

// PredictionField is the name of the field appended to every output record.
const PredictionField = "prediction"

// predictionFullName is the full name of the Prediction record.
const predictionFullName = "io.streamscore.Prediction"

// scoredSuffix is appended to the input record's name to name the output
// record.
const scoredSuffix = "Scored"

// OutputSchema derives the output schema from an input record schema: the
// same record, renamed <Name>Scored in the same namespace, with the field
// prediction (of type PredictionSchema) appended last. Everything else of
// the record is kept (doc, fields, other attributes) except aliases, which
// name the input record and not this one. The result is compact JSON, and
// one input always gives the same text, so the registry sees one schema. It fails with ErrOutputSchema when the input is
// not a record, already has a field named prediction, or the result does not
// compile. It also refuses an input that defines a type named
// io.streamscore.Prediction or <Name>Scored itself, which Avro forbids
// defining twice even though goavro accepts it.
func OutputSchema(inputSchemaJSON string) (string, error) {
	return outputSchema(inputSchemaJSON, PredictionSchema)
}

// outputSchema is OutputSchema with the given Prediction record.
func outputSchema(inputSchemaJSON, prediction string) (string, error) {
	var rec map[string]json.RawMessage
	if err := json.Unmarshal([]byte(inputSchemaJSON), &rec); err != nil {
		return "", fmt.Errorf("%w: input schema is not a JSON object: %w", ErrOutputSchema, err)
	}
	var typ, name string
	if err := json.Unmarshal(rec["type"], &typ); err != nil || typ != "record" {
		return "", fmt.Errorf("%w: input schema is not a record (type %s)", ErrOutputSchema, rec["type"])
	}
	if err := json.Unmarshal(rec["name"], &name); err != nil || name == "" {
		return "", fmt.Errorf("%w: input record has no name", ErrOutputSchema)
	}
	var fields []json.RawMessage
	if err := json.Unmarshal(rec["fields"], &fields); err != nil {
		return "", fmt.Errorf("%w: input record's fields are not a list: %w", ErrOutputSchema, err)
	}
	for _, raw := range fields {
		var f struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			return "", fmt.Errorf("%w: input field is not an object: %w", ErrOutputSchema, err)
		}
		if f.Name == PredictionField {
			return "", fmt.Errorf("%w: input record %s already has a field named %q", ErrOutputSchema, name, PredictionField)
		}
	}
	// Avro allows one definition per full name, and goavro does not check:
	// refuse inputs that define the names the output adds.
	var tree any
	if err := json.Unmarshal([]byte(inputSchemaJSON), &tree); err != nil {
		return "", fmt.Errorf("%w: %w", ErrOutputSchema, err)
	}
	defined := make(map[string]string)
	collectNames(tree, "", defined)
	full, ns := fullName(tree.(map[string]any), "")
	for _, added := range []string{predictionFullName, full + scoredSuffix} {
		if _, ok := defined[added]; ok {
			return "", fmt.Errorf("%w: input record %s already defines the type %s", ErrOutputSchema, name, added)
		}
	}
	if refersTo(tree.(map[string]any)["fields"], ns, full) {
		var err error
		if fields, err = defineInput(tree.(map[string]any), full, ns); err != nil {
			return "", fmt.Errorf("%w: %w", ErrOutputSchema, err)
		}
	}
	fields = append(fields, json.RawMessage(`{"name":"`+PredictionField+`","type":`+prediction+`}`))

	delete(rec, "aliases")
	var err error
	if rec["name"], err = json.Marshal(name + scoredSuffix); err != nil {
		return "", fmt.Errorf("%w: %w", ErrOutputSchema, err)
	}
	if rec["fields"], err = json.Marshal(fields); err != nil {
		return "", fmt.Errorf("%w: %w", ErrOutputSchema, err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return "", fmt.Errorf("%w: %w", ErrOutputSchema, err)
	}
	out := strings.TrimSuffix(buf.String(), "\n")
	if _, err := goavro.NewCodec(out); err != nil {
		return "", fmt.Errorf("%w: derived schema of %s does not compile: %w", ErrOutputSchema, name, err)
	}
	return out, nil
}

// refersTo reports whether a schema node, read in namespace enclosing,
// refers to the named type full by name.
func refersTo(node any, enclosing, full string) bool {
	found := false
	walkTypes(node, enclosing, func(v any, enclosing string) any {
		if s, ok := v.(string); ok && resolveName(s, enclosing) == full {
			found = true
		}
		return v
	})
	return found
}

// defineInput returns the output's fields for an input record that refers
// to itself (a list, a tree). Renamed, the output record no longer defines
// the input's name, yet the values nested in it are input records, without
// a prediction: so the first reference to the input record becomes its
// definition, under its full name, and the later ones keep naming it. The
// definition carries the named types the input defines, so every named
// type is then defined where it first occurs and named by its full name
// everywhere after, as Avro requires.
func defineInput(input map[string]any, full, ns string) ([]json.RawMessage, error) {
	def := maps.Clone(input)
	def["name"] = full
	delete(def, "namespace")
	delete(def, "aliases")
	placed := false
	fields, _ := input["fields"].([]any)
	out := make([]any, len(fields))
	for i, f := range fields {
		out[i] = walkTypes(f, ns, func(v any, enclosing string) any {
			if s, ok := v.(string); ok && !placed && resolveName(s, enclosing) == full {
				placed = true
				return def
			}
			return v
		})
	}
	defined := map[string]bool{}
	raws := make([]json.RawMessage, len(out))
	for i, f := range out {
		f = walkTypes(f, ns, func(v any, enclosing string) any {
			obj, ok := v.(map[string]any)
			if !ok {
				return v
			}
			switch obj["type"] {
			case "record", "error", "enum", "fixed":
				name, _ := fullName(obj, enclosing)
				if defined[name] {
					return name
				}
				defined[name] = true
			}
			return v
		})
		raw, err := json.Marshal(f)
		if err != nil {
			return nil, err
		}
		raws[i] = raw
	}
	return raws, nil
}

// resolveName gives the full name a type reference names in namespace
// enclosing, or "" for a primitive.
func resolveName(ref, enclosing string) string {
	switch {
	case primitives[ref]:
		return ""
	case strings.Contains(ref, ".") || enclosing == "":
		return ref
	}
	return enclosing + "." + ref
}

// walkTypes visits every type in a schema node in document order, the
// order in which Avro defines names, replacing each by what visit returns;
// a named definition is visited before the types inside it, and those are
// visited in its namespace. A field is a node too: its type is walked.
func walkTypes(node any, enclosing string, visit func(v any, enclosing string) any) any {
	node = visit(node, enclosing)
	switch v := node.(type) {
	case []any:
		out := make([]any, len(v))
		for i, m := range v {
			out[i] = walkTypes(m, enclosing, visit)
		}
		return out
	case map[string]any:
		out := maps.Clone(v)
		inner := enclosing
		switch t := v["type"].(type) {
		case string:
			switch t {
			case "record", "error":
				_, inner = fullName(v, enclosing)
				fields, _ := v["fields"].([]any)
				walked := make([]any, len(fields))
				for i, f := range fields {
					walked[i] = walkTypes(f, inner, visit)
				}
				out["fields"] = walked
				return out
			case "array":
				out["items"] = walkTypes(v["items"], enclosing, visit)
				return out
			case "map":
				out["values"] = walkTypes(v["values"], enclosing, visit)
				return out
			case "enum", "fixed":
				return out
			}
		}
		if _, isField := v["name"]; isField || v["type"] != nil {
			out["type"] = walkTypes(v["type"], enclosing, visit)
		}
		return out
	}
	return node
}

// OutputRegistry is what the OutputEncoder asks of the schema registry:
// registering output schemas, reading the input subject's versions in
// order, and keeping the output subject's compatibility level equal to the
// input's. *srclient.SchemaRegistryClient satisfies it.
type OutputRegistry interface {
	// CreateSchema registers a schema under a subject; registering one the
	// subject already has returns the existing id.
	CreateSchema(subject string, schema string, schemaType srclient.SchemaType, references ...srclient.Reference) (*srclient.Schema, error)
	GetSchemaVersions(subject string) ([]int, error)
	GetSchemaByVersion(subject string, version int) (*srclient.Schema, error)
	GetCompatibilityLevel(subject string, defaultToGlobal bool) (*srclient.CompatibilityLevel, error)
	ChangeSubjectCompatibilityLevel(subject string, level srclient.CompatibilityLevel) (*srclient.CompatibilityLevel, error)
}

// Registry error codes that refuse a schema for good, or say a subject has
// no versions.
const (
	errCodeIncompatible    = 409
	errCodeInvalidSchema   = 42201
	errCodeSubjectNotFound = 40401
)

// DefaultRefusalTTL is how long an OutputEncoder remembers that an output
// schema was refused when OutputEncoderConfig.RefusalTTL is zero.
const DefaultRefusalTTL = 30 * time.Second

// OutputEncoderConfig tunes an OutputEncoder. The zero value is ready to use.
type OutputEncoderConfig struct {
	// RefusalTTL is how long an ErrOutputSchema for a (topic, input schema)
	// is answered without deriving and registering again. Zero means
	// DefaultRefusalTTL; it must not be negative.
	RefusalTTL time.Duration
	// Now is the clock for RefusalTTL; nil means time.Now.
	Now func() time.Time
}

// Validate reports a config that NewOutputEncoder would refuse.
func (c OutputEncoderConfig) Validate() error {
	if c.RefusalTTL < 0 {
		return fmt.Errorf("RefusalTTL %v must not be negative", c.RefusalTTL)
	}
	return nil
}

// OutputEncoder registers the output schema of each (output topic, input
// schema) pair under the topic's value subject (TopicNameStrategy:
// "<topic>-value") and remembers the id. It is safe for concurrent use; the
// hit path takes no lock. Like the Decoder it never retries: a registry
// failure is ErrRegistryUnavailable, not remembered, for the caller to retry.
//
// An output subject follows its input subject: the first time an input
// schema is met, the output schemas of every version of the input topic's
// subject are registered in version order, under the input subject's
// compatibility level. Records arrive in any order of versions (a partition
// still on v1 while another is on v2), but output schemas are registered in
// the order the input's were, so each registration passes the same check
// that the input's did: every record valid under its subject's
// compatibility mode gets an output. An input schema that is not a version
// of its topic's subject (another naming strategy) has its output schema
// registered alone, as it comes.
type OutputEncoder struct {
	reg     OutputRegistry
	now     func() time.Time
	known   cowMap[outputKey, Output]
	refused *negativeCache[outputKey]
	flight  singleflight.Group

	mu     sync.Mutex
	synced map[[2]string]int // (input subject, output subject) -> the input version followed up to
}

// Output is a registered output schema, what AppendOutput needs to write
// records of it.
type Output struct {
	// ID is the schema's id in the registry.
	ID uint32
	// NoMargin says the schema's Prediction predates the margin field, so
	// AppendOutput leaves it out. An output subject registered before then
	// keeps such schemas for the input versions whose outputs with a
	// margin it refuses: see OutputEncoder.Output.
	NoMargin bool
}

type outputKey struct {
	topic   string
	inputID uint32
}

// NewOutputEncoder returns an OutputEncoder that registers with reg.
func NewOutputEncoder(reg OutputRegistry, cfg OutputEncoderConfig) (*OutputEncoder, error) {
	if reg == nil {
		return nil, errors.New("new output encoder: nil schema registry")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new output encoder: %w", err)
	}
	if cfg.RefusalTTL == 0 {
		cfg.RefusalTTL = DefaultRefusalTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &OutputEncoder{
		reg: reg, now: cfg.Now, refused: newNegativeCache[outputKey](cfg.RefusalTTL),
		synced: map[[2]string]int{},
	}, nil
}

// Output returns the output schema for records of schema in, read from
// inTopic and written to outTopic, registering it on first use. Errors wrap
// ErrOutputSchema (dead-letter the record) or ErrRegistryUnavailable
// (retry).
//
// The output schema has today's Prediction, with its margin field, unless
// the output subject refuses it and takes the same output schema without
// the margin, as a subject registered before the field existed does, since
// it holds that schema already: that one is returned then. This happens
// when an input subject's versions evolved in
// a way its level allows only one way (a promotion, a field removed
// under BACKWARD): output versions with a margin, registered after the
// subject's versions without, are checked against the latest of those, and
// an older input version's output cannot read a newer one's data. Records
// of such versions keep their outputs, without a margin, rather than being
// dead-lettered; readers of the newer schema read that margin as null.
func (e *OutputEncoder) Output(inTopic, outTopic string, in *Schema) (Output, error) {
	k := outputKey{topic: outTopic, inputID: in.ID}
	if out, ok := e.known.load(k); ok {
		return out, nil
	}
	// One flight per output subject, so its versions are registered in
	// order and never by two goroutines at once.
	v, err, _ := e.flight.Do(outTopic, func() (any, error) {
		if out, ok := e.known.load(k); ok {
			return out, nil
		}
		if err := e.refused.get(k, e.now()); err != nil {
			return Output{}, err
		}
		if err := e.follow(inTopic, outTopic); err != nil {
			return Output{}, err
		}
		if out, ok := e.known.load(k); ok {
			return out, nil
		}
		if err := e.refused.get(k, e.now()); err != nil {
			return Output{}, err
		}
		// Not a version of the input topic's subject: register it alone.
		out, err := e.register(outTopic, in.ID, in.Text)
		e.remember(k, out, err)
		return out, err
	})
	out, _ := v.(Output)
	return out, err
}

// remember caches a registration's outcome: an output schema for good, a
// refusal for the refusal TTL, a registry failure not at all.
func (e *OutputEncoder) remember(k outputKey, out Output, err error) {
	switch {
	case err == nil:
		e.known.store(k, out)
	case errors.Is(err, ErrOutputSchema):
		e.refused.put(k, err, e.now())
	}
}

// follow registers, in version order, the output schemas of the input
// subject's versions not followed yet, after setting the output subject's
// compatibility level to the input's.
func (e *OutputEncoder) follow(inTopic, outTopic string) error {
	inSubject, outSubject := inTopic+"-value", outTopic+"-value"
	versions, err := e.reg.GetSchemaVersions(inSubject)
	var srErr srclient.Error
	if errors.As(err, &srErr) && srErr.Code == errCodeSubjectNotFound {
		return nil // the input's schemas are under another naming strategy
	}
	if err != nil {
		return fmt.Errorf("subject %s: list versions: %w: %w", inSubject, ErrRegistryUnavailable, err)
	}
	slices.Sort(versions)
	// Keyed by both subjects: topics whose outputs share a topic each have
	// their versions followed.
	pair := [2]string{inSubject, outSubject}
	e.mu.Lock()
	done, started := e.synced[pair]
	e.mu.Unlock()
	if !started {
		if err := e.matchCompatibility(inSubject, outSubject); err != nil {
			return err
		}
	}
	for _, v := range versions {
		if v <= done {
			continue
		}
		rs, err := e.reg.GetSchemaByVersion(inSubject, v)
		if err != nil || rs == nil {
			return fmt.Errorf("subject %s version %d: %w: %w", inSubject, v, ErrRegistryUnavailable, err)
		}
		if t := rs.SchemaType(); t == nil || *t == srclient.Avro {
			k := outputKey{topic: outTopic, inputID: uint32(rs.ID())}
			out, err := e.register(outTopic, k.inputID, rs.Schema())
			if errors.Is(err, ErrRegistryUnavailable) {
				return err
			}
			e.remember(k, out, err)
		}
		e.mu.Lock()
		e.synced[pair] = v
		e.mu.Unlock()
		done = v
	}
	return nil
}

// matchCompatibility gives the output subject the input subject's
// compatibility level, so that the output's versions are checked as the
// input's were. A registry that refuses the change (no permission) is not
// an outage: the registrations go on, and one the output subject's own
// level refuses is dead-lettered with the registry's reason.
func (e *OutputEncoder) matchCompatibility(inSubject, outSubject string) error {
	in, err := e.reg.GetCompatibilityLevel(inSubject, true)
	if err != nil || in == nil {
		return fmt.Errorf("subject %s: compatibility level: %w: %w", inSubject, ErrRegistryUnavailable, err)
	}
	out, err := e.reg.GetCompatibilityLevel(outSubject, true)
	if err != nil || out == nil {
		return fmt.Errorf("subject %s: compatibility level: %w: %w", outSubject, ErrRegistryUnavailable, err)
	}
	if *in == *out {
		return nil
	}
	var srErr srclient.Error
	if _, err := e.reg.ChangeSubjectCompatibilityLevel(outSubject, *in); err != nil && !errors.As(err, &srErr) {
		return fmt.Errorf("subject %s: set compatibility level %s: %w: %w", outSubject, *in, ErrRegistryUnavailable, err)
	}
	return nil
}

// register derives the output schema of an input schema and registers it
// for topic; if the subject refuses it, it falls back on the output schema
// without a margin (see Output).
func (e *OutputEncoder) register(topic string, inputID uint32, inputText string) (Output, error) {
	subject := topic + "-value"
	out, err := OutputSchema(inputText)
	if err != nil {
		return Output{}, fmt.Errorf("subject %s, input schema id %d: %w", subject, inputID, err)
	}
	id, err := e.create(subject, inputID, out)
	if !errors.Is(err, ErrOutputSchema) {
		return Output{ID: id}, err
	}
	old, oldErr := outputSchema(inputText, predictionSchemaNoMargin)
	if oldErr != nil {
		return Output{}, err
	}
	id, oldErr = e.create(subject, inputID, old)
	switch {
	case oldErr == nil:
		return Output{ID: id, NoMargin: true}, nil
	case errors.Is(oldErr, ErrRegistryUnavailable):
		return Output{}, oldErr
	}
	return Output{}, err // the refusal of the schema of today
}

// create registers an output schema under subject and returns its id.
func (e *OutputEncoder) create(subject string, inputID uint32, schema string) (uint32, error) {
	rs, err := e.reg.CreateSchema(subject, schema, srclient.Avro)
	if err != nil {
		var srErr srclient.Error
		if errors.As(err, &srErr) && (srErr.Code == errCodeIncompatible || srErr.Code == errCodeInvalidSchema) {
			return 0, fmt.Errorf("subject %s, input schema id %d: %w: registry refused it: %s", subject, inputID, ErrOutputSchema, srErr.Message)
		}
		return 0, fmt.Errorf("subject %s, input schema id %d: %w: %w", subject, inputID, ErrRegistryUnavailable, err)
	}
	if rs == nil || rs.ID() <= 0 || int64(rs.ID()) > int64(^uint32(0)) {
		return 0, fmt.Errorf("subject %s, input schema id %d: %w: registry returned no usable id", subject, inputID, ErrRegistryUnavailable)
	}
	return uint32(rs.ID()), nil
}
