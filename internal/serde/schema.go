package serde

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/linkedin/goavro/v2"

	"github.com/streamscore/streamscore/internal/avroguard"
	"github.com/streamscore/streamscore/internal/avropath"
)

// Schema is a writer schema as the Decoder caches it: compiled once per id,
// shared by every record of that id, and never changed after it is built.
type Schema struct {
	// ID is the registry's id of the schema.
	ID uint32
	// Text is the schema as the registry returned it.
	Text string
	// Name is the record's full name, such as io.streamscore.sensors.SensorReading.
	Name string

	// Tree is the schema's type tree, from which a model reads its
	// features straight from the bodies (model.Batch.AddBody); nil for a
	// schema goavro takes and avropath does not, whose records are then
	// decoded whole.
	Tree *avropath.Schema

	codec *goavro.Codec
	guard *avroguard.Schema
}

// newSchema compiles a writer schema.
func newSchema(id uint32, text string) (*Schema, error) {
	var root any
	if err := json.Unmarshal([]byte(text), &root); err != nil {
		return nil, fmt.Errorf("%w: not JSON: %w", ErrUnsupportedSchema, err)
	}
	obj, ok := root.(map[string]any)
	if !ok || (obj["type"] != "record" && obj["type"] != "error") {
		return nil, fmt.Errorf("%w: top level is %s", ErrNotRecord, describeTop(root))
	}
	codec, err := goavro.NewCodec(text)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupportedSchema, err)
	}
	guard, err := avroguard.Compile(text)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupportedSchema, err)
	}
	name, _ := fullName(obj, "")
	tree, _ := avropath.ParseSchema(text) // nil: see Tree
	return &Schema{ID: id, Text: text, Name: name, Tree: tree, codec: codec, guard: guard}, nil
}

// describeTop names what a non-record top-level schema is, for errors.
func describeTop(root any) string {
	switch v := root.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case []any:
		return "a union"
	case map[string]any:
		return fmt.Sprintf("%q", fmt.Sprint(v["type"]))
	default:
		return fmt.Sprintf("%T", v)
	}
}

// primitives are the Avro primitive type names.
var primitives = map[string]bool{
	"null": true, "boolean": true, "int": true, "long": true,
	"float": true, "double": true, "bytes": true, "string": true,
}

// fullName returns the full name of a named schema and the namespace that
// its nested definitions inherit, following the Avro rules: a dotted name
// carries its namespace, else the namespace attribute, else the enclosing one.
func fullName(obj map[string]any, enclosing string) (full, ns string) {
	name, _ := obj["name"].(string)
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name, name[:i]
	}
	ns = enclosing
	if v, ok := obj["namespace"].(string); ok {
		ns = v
	}
	if ns == "" {
		return name, ""
	}
	return ns + "." + name, ns
}

// collectNames records the kind of every named type (record, enum, fixed)
// defined anywhere in a schema, by full name, so that references to them can
// be described.
func collectNames(node any, enclosing string, names map[string]string) {
	switch v := node.(type) {
	case []any:
		for _, m := range v {
			collectNames(m, enclosing, names)
		}
	case map[string]any:
		switch t := v["type"].(type) {
		case string:
			switch t {
			case "record", "error", "enum", "fixed":
				full, ns := fullName(v, enclosing)
				kind := t
				if kind == "error" {
					kind = "record"
				}
				names[full] = kind
				fields, _ := v["fields"].([]any)
				for _, f := range fields {
					if fm, ok := f.(map[string]any); ok {
						collectNames(fm["type"], ns, names)
					}
				}
			case "array":
				collectNames(v["items"], enclosing, names)
			case "map":
				collectNames(v["values"], enclosing, names)
			}
		default:
			collectNames(t, enclosing, names)
		}
	}
}
