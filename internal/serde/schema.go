package serde

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/linkedin/goavro/v2"

	"github.com/streamscore/streamscore/internal/avroguard"
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
	// Fields describes the record's top-level fields, in schema order.
	Fields []Field

	codec *goavro.Codec
	guard *avroguard.Schema
}

// Field describes one top-level field of a record, enough for the feature
// mapper to check a model against a schema before any record arrives. It has
// the shape of model.Field, so the scorer converts with model.Field(f).
//
// How goavro presents the value in a decoded record follows from it: a
// nullable field is nil or a one-entry map keyed by the branch's type name
// ("double", or "long.timestamp-millis" for a logical type); a
// timestamp-millis long is a time.Time in UTC.
type Field struct {
	Name string
	// Type is the Avro type of the value; for a nullable field, of the
	// non-null branch. It is a primitive ("null", "boolean", "int", "long",
	// "float", "double", "bytes", "string"), a complex kind ("record",
	// "enum", "array", "map", "fixed"; a reference to a named type gives the
	// kind of that type), or "union" for every union other than the nullable
	// form [null, T] or [T, null].
	Type string
	// Logical is the Avro logical type of the value, such as
	// "timestamp-millis", or "".
	Logical string
	// Nullable is true when the field's type is a union that has null as a
	// branch.
	Nullable bool
}

// newSchema compiles a writer schema and describes its top-level fields.
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
	names := make(map[string]string)
	collectNames(root, "", names)
	name, ns := fullName(obj, "")
	rawFields, _ := obj["fields"].([]any)
	fields := make([]Field, 0, len(rawFields))
	for _, rf := range rawFields {
		f, _ := rf.(map[string]any)
		fname, _ := f["name"].(string)
		fields = append(fields, describeField(fname, f["type"], ns, names))
	}
	return &Schema{ID: id, Text: text, Name: name, Fields: fields, codec: codec, guard: guard}, nil
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

// describeField describes a field from its type.
func describeField(name string, typ any, ns string, names map[string]string) Field {
	union, ok := typ.([]any)
	if !ok {
		t, logical := describeType(typ, ns, names)
		return Field{Name: name, Type: t, Logical: logical}
	}
	var other []any
	for _, m := range union {
		if m != "null" {
			other = append(other, m)
		}
	}
	f := Field{Name: name, Type: "union", Nullable: len(other) < len(union)}
	if f.Nullable && len(union) == 2 {
		f.Type, f.Logical = describeType(other[0], ns, names)
	}
	return f
}

// describeType gives the Avro type and logical type of a non-union schema.
func describeType(typ any, ns string, names map[string]string) (string, string) {
	switch v := typ.(type) {
	case string:
		if primitives[v] {
			return v, ""
		}
		if !strings.Contains(v, ".") && ns != "" {
			if kind, ok := names[ns+"."+v]; ok {
				return kind, ""
			}
		}
		if kind, ok := names[v]; ok {
			return kind, ""
		}
		return v, ""
	case map[string]any:
		logical, _ := v["logicalType"].(string)
		switch t := v["type"].(type) {
		case string:
			if t == "error" {
				t = "record"
			}
			return t, logical
		case []any:
			return "union", ""
		default:
			inner, innerLogical := describeType(t, ns, names)
			if logical == "" {
				logical = innerLogical
			}
			return inner, logical
		}
	case []any:
		return "union", ""
	default:
		return fmt.Sprintf("%T", v), ""
	}
}
