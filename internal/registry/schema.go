package registry

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hamba/avro/v2"
)

// schemaTypeAvro is the only schema type this registry stores. Confluent
// clients omit schemaType for Avro, so "" means Avro too.
const schemaTypeAvro = "AVRO"

// schemaRequest is the body of register, lookup and compatibility-test
// requests. Unknown fields (newer clients send metadata and ruleSet) are
// ignored.
type schemaRequest struct {
	Schema     string            `json:"schema"`
	SchemaType string            `json:"schemaType,omitempty"`
	References []json.RawMessage `json:"references,omitempty"`
}

// candidate is a schema a client sent, validated and parsed.
type candidate struct {
	// text is the schema exactly as the client sent it; it is what the
	// registry stores and serves back.
	text string
	// key identifies the schema regardless of whitespace, key order and
	// namespace spelling; see identityKey.
	key    string
	schema avro.Schema
}

// parseCandidate validates a request body's schema.
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
	schema, key, err := parseAvro(req.Schema)
	if err != nil {
		return nil, errInvalidSchema("Invalid schema: %v", err)
	}
	return &candidate{text: req.Schema, key: key, schema: schema}, nil
}

// parseAvro parses one self-contained Avro schema and computes its identity
// key.
//
// Each parse gets its own empty name cache: avro.Parse would share the
// package-global one, letting a schema lean on a named type that some other
// subject defined (or clash with an older version of its own record).
func parseAvro(text string) (avro.Schema, string, error) {
	// hamba reads text that is not JSON as a bare type name, which turns a
	// truncated schema into "unknown type: {...". Avro schemas are JSON, so
	// say what is wrong with the JSON instead.
	var probe any
	if err := json.Unmarshal([]byte(text), &probe); err != nil {
		return nil, "", fmt.Errorf("schema is not valid JSON: %w", err)
	}
	schema, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return nil, "", err
	}
	key, err := identityKey(schema)
	if err != nil {
		return nil, "", err
	}
	return schema, key, nil
}

// identityKey is the parsed schema re-serialised in full (hamba's
// MarshalJSON: fixed key order, sorted custom properties, no whitespace,
// full names).
//
// It is deliberately not the Parsing Canonical Form nor its fingerprint:
// that form strips defaults, docs and aliases, so "field b with default 0"
// and "field b without a default" would share an id although they resolve
// differently. Confluent likewise keys on the whole parsed schema.
func identityKey(schema avro.Schema) (string, error) {
	b, err := json.Marshal(schema)
	if err != nil {
		return "", fmt.Errorf("normalise schema: %w", err)
	}
	return string(b), nil
}
