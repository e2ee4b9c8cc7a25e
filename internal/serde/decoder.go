package serde

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/riferrei/srclient"
	"golang.org/x/sync/singleflight"

	"github.com/streamscore/streamscore/internal/avroguard"
)

// SchemaGetter fetches a schema by id. *srclient.SchemaRegistryClient
// satisfies it. srclient v0.7.2 keeps its own unbounded id cache (on by
// default); the Decoder does not rely on it and works the same with it
// disabled (CachingEnabled(false)), which saves holding every schema twice.
//
// srclient reports a registry's JSON error answer as a srclient.Error
// carrying error_code, and everything else (transport errors, timeouts, a
// non-JSON error body) as plain errors; the Decoder classifies them (see
// ErrUnknownSchema and ErrRegistryUnavailable). srclient takes no context:
// bound each call with the http.Client's Timeout (srclient.WithClient; its
// default is 5 s).
type SchemaGetter interface {
	GetSchema(schemaID int) (*srclient.Schema, error)
}

// errCodeSchemaNotFound is the registry's error_code for "schema not found".
const errCodeSchemaNotFound = 40403

// DefaultNegativeTTL is how long the Decoder remembers that an id is unknown
// when DecoderConfig.NegativeTTL is zero.
const DefaultNegativeTTL = 30 * time.Second

// DecoderConfig tunes a Decoder. The zero value is ready to use.
type DecoderConfig struct {
	// NegativeTTL is how long an id that the registry does not know is
	// answered with ErrUnknownSchema without asking again. Zero means
	// DefaultNegativeTTL; it must not be negative.
	NegativeTTL time.Duration
	// Now is the clock for NegativeTTL; nil means time.Now.
	Now func() time.Time
	// Limits bound what one body may cost to decode (see avroguard); the
	// zero value is avroguard's defaults.
	Limits avroguard.Limits
}

// Validate reports a config that NewDecoder would refuse.
func (c DecoderConfig) Validate() error {
	if c.NegativeTTL < 0 {
		return fmt.Errorf("NegativeTTL %v must not be negative", c.NegativeTTL)
	}
	return c.Limits.Validate()
}

// Decoder decodes Confluent-framed Avro values, fetching each writer schema
// from the registry once. It is safe for concurrent use. The hit path (a
// known id) takes no lock: one atomic load and a map lookup.
//
// Per id it remembers: a compiled schema, for ever (a registry never changes
// the schema behind an id); ErrNotRecord and ErrUnsupportedSchema, for ever,
// for the same reason; ErrUnknownSchema, for NegativeTTL. It never remembers
// ErrRegistryUnavailable and never retries: retrying with backoff is the
// caller's job, and the next call after a failure asks the registry again.
// Concurrent misses on one id share a single registry request.
type Decoder struct {
	reg     SchemaGetter
	limits  avroguard.Limits
	now     func() time.Time
	known   cowMap[uint32, lookup]
	missing *negativeCache[uint32]
	flight  singleflight.Group
}

// lookup is what the Decoder knows for good about an id: a schema or a
// permanent error.
type lookup struct {
	schema *Schema
	err    error
}

// NewDecoder returns a Decoder that fetches schemas from reg.
func NewDecoder(reg SchemaGetter, cfg DecoderConfig) (*Decoder, error) {
	if reg == nil {
		return nil, errors.New("new decoder: nil schema getter")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new decoder: %w", err)
	}
	if cfg.NegativeTTL == 0 {
		cfg.NegativeTTL = DefaultNegativeTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Decoder{reg: reg, limits: cfg.Limits.Resolve(), now: cfg.Now, missing: newNegativeCache[uint32](cfg.NegativeTTL)}, nil
}

// Checked is one framed value whose writer schema is known and whose body
// the guard has passed: everything but the decoded record, which Decode
// makes on demand. The scorer reads most records' features straight from
// the body and decodes only the rest.
type Checked struct {
	// SchemaID is the writer schema's id from the frame.
	SchemaID uint32
	// Schema is the cached writer schema, shared by every record of the id:
	// read it, never modify it.
	Schema *Schema
	// Body is the Avro binary body, aliasing the value passed to Check.
	Body []byte
	// Cost estimates the bytes the decoded record holds (avroguard's
	// estimate, within a small factor above the truth), so callers can
	// bound how many records they keep.
	Cost int64
}

// Decode decodes the body into goavro's native form. Its errors wrap
// ErrCorruptAvro and name the schema id.
func (c Checked) Decode() (map[string]any, error) {
	rec, err := c.Schema.decodeChecked(c.Body)
	if err != nil {
		return nil, fmt.Errorf("schema id %d: %w", c.SchemaID, err)
	}
	return rec, nil
}

// Decoded is one decoded value.
type Decoded struct {
	// Checked is the frame, the schema and the body the record was
	// decoded from.
	Checked Checked
	// Record is goavro's native form of the record.
	Record map[string]any
}

// Check parses the frame of value, looks up its writer schema and checks
// the body with the guard, without decoding it. Errors wrap one of the
// classes documented in errors.go and name the schema id.
func (d *Decoder) Check(value []byte) (Checked, error) {
	id, body, err := ParseFrame(value)
	if err != nil {
		return Checked{}, err
	}
	s, err := d.Lookup(id)
	if err != nil {
		return Checked{}, err
	}
	cost, err := s.check(body, d.limits)
	if err != nil {
		return Checked{}, fmt.Errorf("schema id %d: %w", id, err)
	}
	return Checked{SchemaID: id, Schema: s, Body: body, Cost: cost}, nil
}

// Decode is Check, then Checked.Decode: the body must hold exactly one
// record.
func (d *Decoder) Decode(value []byte) (Decoded, error) {
	c, err := d.Check(value)
	if err != nil {
		return Decoded{}, err
	}
	rec, err := c.Decode()
	if err != nil {
		return Decoded{}, err
	}
	return Decoded{Checked: c, Record: rec}, nil
}

// check walks the body with the guard, so that goavro never sees one whose
// counts, lengths or nesting would make it allocate without bound, and
// returns the guard's estimate of what decoding it costs.
func (s *Schema) check(body []byte, limits avroguard.Limits) (int64, error) {
	if !guardOn {
		return 0, nil
	}
	cost, err := s.guard.Check(body, limits)
	switch {
	case errors.Is(err, avroguard.ErrOverBudget):
		return 0, fmt.Errorf("%w: %w", ErrOverBudget, err)
	case err != nil:
		return 0, fmt.Errorf("%w: %w", ErrCorruptAvro, err)
	}
	return cost, nil
}

// decodeChecked decodes one record, which must fill body exactly, from a
// body check passed. goavro is not known to panic, but a panic here would
// stop the scorer on one poison record, so it is turned into
// ErrCorruptAvro.
func (s *Schema) decodeChecked(body []byte) (rec map[string]any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: decoder panicked: %v", ErrCorruptAvro, r)
		}
	}()
	native, rest, err := s.codec.NativeFromBinary(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorruptAvro, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes after the record", ErrCorruptAvro, len(rest))
	}
	rec, ok := native.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: decoded a %T, not a record", ErrCorruptAvro, native)
	}
	return rec, nil
}

// Lookup returns the writer schema of id, from the cache or the registry.
func (d *Decoder) Lookup(id uint32) (*Schema, error) {
	if l, ok := d.known.load(id); ok {
		return l.schema, l.err
	}
	v, err, _ := d.flight.Do(strconv.FormatUint(uint64(id), 10), func() (any, error) {
		// Another caller may have finished the same fetch between our
		// load and this call.
		if l, ok := d.known.load(id); ok {
			return l.schema, l.err
		}
		if err := d.missing.get(id, d.now()); err != nil {
			return nil, err
		}
		s, err := d.fetch(id)
		switch {
		case err == nil:
			d.known.store(id, lookup{schema: s})
		case errors.Is(err, ErrUnknownSchema):
			d.missing.put(id, err, d.now())
		case errors.Is(err, ErrRegistryUnavailable):
			// Not remembered: the next call asks again.
		default:
			d.known.store(id, lookup{err: err})
		}
		return s, err
	})
	s, _ := v.(*Schema)
	return s, err
}

// fetch asks the registry for id and compiles the answer.
func (d *Decoder) fetch(id uint32) (*Schema, error) {
	rs, err := d.reg.GetSchema(int(id))
	if err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, classifyRegistryError(err))
	}
	if rs == nil {
		return nil, fmt.Errorf("schema id %d: %w: registry client returned no schema", id, ErrRegistryUnavailable)
	}
	if t := rs.SchemaType(); t != nil && *t != srclient.Avro {
		return nil, fmt.Errorf("schema id %d: %w: schema type %s is not Avro", id, ErrUnsupportedSchema, *t)
	}
	if refs := rs.References(); len(refs) > 0 {
		return nil, fmt.Errorf("schema id %d: %w: schema references (%d) are not supported", id, ErrUnsupportedSchema, len(refs))
	}
	s, err := newSchema(id, rs.Schema())
	if err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	return s, nil
}

// classifyRegistryError sorts a srclient error into ErrUnknownSchema, for a
// definite "schema not found" answer, or ErrRegistryUnavailable for
// everything else. Only the registry's JSON error with code 40403 is
// definite: a bare 404 without that body usually means a wrong registry URL
// or a proxy in the way, and dead-lettering every record for it would lose
// data that a fixed configuration would have scored.
func classifyRegistryError(err error) error {
	var srErr srclient.Error
	if errors.As(err, &srErr) && srErr.Code == errCodeSchemaNotFound {
		return fmt.Errorf("%w: %s", ErrUnknownSchema, srErr.Message)
	}
	return fmt.Errorf("%w: %w", ErrRegistryUnavailable, err)
}
