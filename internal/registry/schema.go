package registry

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/streamscore/streamscore/internal/avroguard"
)

// schemaTypeAvro is the only schema type this registry stores. Confluent
// clients omit schemaType for Avro, so "" means Avro too.
const schemaTypeAvro = "AVRO"

// What one schema in a request may cost. Parsing a schema holds up to
// about 50 times its text in memory for a moment and keeps up to about 17
// times it (a record of many small fields, measured), and
// the compatibility check (hamba's) compares record fields, enum symbols
// and union branches pairwise, so both size and breadth are capped.
// Schemas already stored (by an older version) are loaded whatever their
// size; only new requests are held to these limits.
const (
	// MaxSchemaBytes caps a schema's text. Confluent Platform stores a
	// schema as one Kafka record, which its producer limits to 1 MiB by
	// default, so larger schemas are not portable anyway.
	MaxSchemaBytes = 1 << 20
	// MaxSchemaDepth caps how deeply a schema's JSON nests (a nested
	// record takes about four levels). Re-serialising a schema costs the
	// square of its depth.
	MaxSchemaDepth = 128
	// MaxCompatibilityPairs caps the pairwise comparisons a compatibility
	// check of the schema may make: the squares of every record's field
	// count and every enum's symbol count, plus 64 times the square of
	// every union's branch count (a union pair costs about a hundred
	// times a field pair, in time and memory). One record of 4,096 fields,
	// or one union of 512 branches, takes the whole budget; a check within
	// it takes well under a second.
	MaxCompatibilityPairs = 1 << 24
	unionPairWeight       = 64
)

// schemaRequest is the body of register, lookup and compatibility-test
// requests. Unknown fields (newer clients send metadata and ruleSet) are
// ignored.
type schemaRequest struct {
	Schema     string            `json:"schema"`
	SchemaType string            `json:"schemaType,omitempty"`
	References []json.RawMessage `json:"references,omitempty"`
}

// schemaKey identifies a schema regardless of whitespace, key order and
// namespace spelling: the SHA-256 of its identity form (see identityKey).
// A digest rather than the form itself, so that the registry does not hold
// every schema twice.
type schemaKey [sha256.Size]byte

// candidate is a schema a client sent, validated and parsed.
type candidate struct {
	// text is the schema exactly as the client sent it; it is what the
	// registry stores and serves back.
	text   string
	key    schemaKey
	schema avro.Schema
}

// parseCandidate validates a request body's schema, holding it to the
// limits above.
func parseCandidate(req schemaRequest) (*candidate, error) {
	if t := strings.ToUpper(req.SchemaType); t != "" && t != schemaTypeAvro {
		return nil, errInvalidSchema("Unsupported schema type %q: this registry stores AVRO schemas only", req.SchemaType)
	}
	if len(req.References) > 0 {
		return nil, errInvalidSchema("Schema references are not supported by this registry; inline the referenced types")
	}
	if strings.TrimSpace(req.Schema) == "" {
		return nil, errInvalidSchema("Invalid schema: empty schema")
	}
	if len(req.Schema) > MaxSchemaBytes {
		return nil, errSchemaTooLarge("Schema too large: %d bytes, over the registry's limit of %d", len(req.Schema), MaxSchemaBytes)
	}
	if err := checkJSON(req.Schema); err != nil {
		return nil, errInvalidSchema("Invalid schema: %v", err)
	}
	if depth := jsonDepth(req.Schema); depth > MaxSchemaDepth {
		return nil, errSchemaTooLarge("Schema too deep: its JSON nests %d levels, over the registry's limit of %d", depth, MaxSchemaDepth)
	}
	schema, key, err := parseAvro(req.Schema)
	if err != nil {
		return nil, errInvalidSchema("Invalid schema: %v", err)
	}
	if cost := compatibilityCost(schema); cost.pairs > MaxCompatibilityPairs {
		return nil, errSchemaTooLarge("Schema too broad: checking its compatibility would compare %d pairs, over the registry's limit of %d; "+
			"the broadest part is %s", cost.pairs, MaxCompatibilityPairs, cost.broadest)
	}
	return &candidate{text: req.Schema, key: key, schema: schema}, nil
}

// admit makes the checks that only registration makes (lookups and
// compatibility tests take any schema the limits above let through): a
// schema that the scorer's avro guard refuses, because no body could end
// it or decoding it is unbounded, is refused here, so that producers learn
// at registration rather than from dead letters.
func admit(c *candidate) error {
	if _, err := avroguard.Compile(c.text); err != nil {
		return errInvalidSchema("%s", err.Error())
	}
	return nil
}

// checkJSON reports why text is not JSON. json.Valid allocates nothing,
// so valid text, the usual case, is not decoded twice.
func checkJSON(text string) error {
	if json.Valid([]byte(text)) {
		return nil
	}
	// Only the syntax check runs: Unmarshal validates before decoding.
	err := json.Unmarshal([]byte(text), new(json.RawMessage))
	if err == nil {
		err = fmt.Errorf("not valid JSON")
	}
	return fmt.Errorf("schema is not valid JSON: %w", err)
}

// jsonDepth is how deeply valid JSON text nests objects and arrays.
func jsonDepth(text string) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case inString && c == '"':
			inString = false
		case inString:
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// breadth is what a compatibility check of a schema may cost.
type breadth struct {
	pairs    int64
	broadest string // the part contributing most, for the error message
	most     int64
}

func (b *breadth) add(what string, n int, weight int64) {
	cost := int64(n) * int64(n) * weight
	b.pairs += cost
	if cost > b.most {
		b.most, b.broadest = cost, what
	}
}

// compatibilityCost walks a parsed schema once. References are not
// followed: each named type is walked where it is defined, so recursive
// types end.
func compatibilityCost(schema avro.Schema) breadth {
	var b breadth
	var walk func(avro.Schema)
	walk = func(s avro.Schema) {
		switch s := s.(type) {
		case *avro.RecordSchema:
			b.add(fmt.Sprintf("record %q with %d fields", s.FullName(), len(s.Fields())), len(s.Fields()), 1)
			for _, f := range s.Fields() {
				walk(f.Type())
			}
		case *avro.EnumSchema:
			b.add(fmt.Sprintf("enum %q with %d symbols", s.FullName(), len(s.Symbols())), len(s.Symbols()), 1)
		case *avro.UnionSchema:
			b.add(fmt.Sprintf("a union of %d branches", len(s.Types())), len(s.Types()), unionPairWeight)
			for _, t := range s.Types() {
				walk(t)
			}
		case *avro.ArraySchema:
			walk(s.Items())
		case *avro.MapSchema:
			walk(s.Values())
		}
	}
	walk(schema)
	return b
}

// parseAvro parses one self-contained Avro schema and computes its identity
// key. It applies no limits: stored schemas go through it at start too.
//
// Each parse gets its own empty name cache: avro.Parse would share the
// package-global one, letting a schema lean on a named type that some other
// subject defined (or clash with an older version of its own record).
func parseAvro(text string) (avro.Schema, schemaKey, error) {
	// hamba reads text that is not JSON as a bare type name, which turns a
	// truncated schema into "unknown type: {...". Avro schemas are JSON, so
	// say what is wrong with the JSON instead.
	if err := checkJSON(text); err != nil {
		return nil, schemaKey{}, err
	}
	schema, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return nil, schemaKey{}, err
	}
	key, err := identityKey(schema)
	if err != nil {
		return nil, schemaKey{}, err
	}
	return schema, key, nil
}

// identityKey digests the parsed schema re-serialised in full (hamba's
// MarshalJSON: fixed key order, sorted custom properties, no whitespace,
// full names).
//
// It is deliberately not the Parsing Canonical Form nor its fingerprint:
// that form strips defaults, docs and aliases, so "field b with default 0"
// and "field b without a default" would share an id although they resolve
// differently. Confluent likewise keys on the whole parsed schema.
func identityKey(schema avro.Schema) (schemaKey, error) {
	b, err := json.Marshal(schema)
	if err != nil {
		return schemaKey{}, fmt.Errorf("normalise schema: %w", err)
	}
	return sha256.Sum256(b), nil
}
