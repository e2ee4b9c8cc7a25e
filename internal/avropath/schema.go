package avropath

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// Schema is a record schema's type tree: every field, nested type and
// named type, with references resolved, enough to tell what a path reaches
// before any record is read. It is immutable once parsed.
type Schema struct {
	root *node
}

// node is one Avro type. Named types are one node each, shared by every
// reference to them, so a recursive type is a cycle of pointers.
type node struct {
	kind     string // primitive, "record", "enum", "fixed", "array", "map", "union"
	logical  string // a logical type goavro decodes: see logicalTypes
	name     string // a named type's full name
	fields   []field
	items    *node   // array items, map values
	branches []*node // union members
	symbols  []string
	size     int // a fixed's
	// validated is goavro's validated-string, a string it checks against
	// a pattern as it decodes.
	validated bool
}

type field struct {
	name string
	typ  *node
}

var primitives = map[string]bool{
	"null": true, "boolean": true, "int": true, "long": true,
	"float": true, "double": true, "bytes": true, "string": true,
}

// logicalTypes are the logical types goavro decodes to another Go type
// than their underlying one, by underlying type. Others (uuid,
// local-timestamp-millis, ...) arrive as the underlying type, so a Leaf
// does not report them.
var logicalTypes = map[string]string{
	"long.timestamp-millis": "timestamp-millis",
	"long.timestamp-micros": "timestamp-micros",
	"int.time-millis":       "time-millis",
	"long.time-micros":      "time-micros",
	"int.date":              "date",
	"bytes.decimal":         "decimal",
	"fixed.decimal":         "decimal",
}

// ParseSchema reads a record schema's JSON text: records (and errors),
// enums, fixed, arrays, maps, unions, logical types, namespaces, and
// references to named types, recursive ones included. Its errors wrap
// ErrSchema. It checks only what it needs to describe the types; the
// registry and the decoder check the rest.
func ParseSchema(text string) (*Schema, error) {
	var root any
	if err := json.Unmarshal([]byte(text), &root); err != nil {
		return nil, fmt.Errorf("%w: not JSON: %w", ErrSchema, err)
	}
	p := &schemaParser{named: map[string]*node{}}
	n, err := p.parse(root, "")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSchema, err)
	}
	if n.kind != "record" {
		return nil, fmt.Errorf("%w: the top level is %s, not a record", ErrSchema, typeName(n))
	}
	return &Schema{root: n}, nil
}

type schemaParser struct {
	named map[string]*node
}

func (p *schemaParser) parse(v any, ns string) (*node, error) {
	switch t := v.(type) {
	case string:
		return p.reference(t, ns)
	case []any:
		u := &node{kind: "union"}
		for _, m := range t {
			b, err := p.parse(m, ns)
			if err != nil {
				return nil, err
			}
			u.branches = append(u.branches, b)
		}
		return u, nil
	case map[string]any:
		return p.parseObject(t, ns)
	default:
		return nil, fmt.Errorf("a type is a string, an array or an object, not %s", jsonKind(v))
	}
}

// reference resolves a type given by name: a primitive, or a named type
// defined before it (or around it, for a recursive one), looked up in the
// enclosing namespace first.
func (p *schemaParser) reference(name, ns string) (*node, error) {
	if primitives[name] {
		return &node{kind: name}, nil
	}
	if !strings.Contains(name, ".") && ns != "" {
		if n, ok := p.named[ns+"."+name]; ok {
			return n, nil
		}
	}
	if n, ok := p.named[name]; ok {
		return n, nil
	}
	return nil, fmt.Errorf("unknown type %q", name)
}

func (p *schemaParser) parseObject(obj map[string]any, ns string) (*node, error) {
	t, ok := obj["type"].(string)
	if !ok {
		inner, present := obj["type"]
		if !present {
			return nil, fmt.Errorf("an object type has no \"type\"")
		}
		// {"type": {...}} or {"type": [...]}: the inner type.
		return p.parse(inner, ns)
	}
	logical, _ := obj["logicalType"].(string)
	switch t {
	case "record", "error", "enum", "fixed":
		full, inner, err := p.define(obj, ns)
		if err != nil {
			return nil, err
		}
		n := &node{kind: t, name: full}
		if t == "error" {
			n.kind = "record"
		}
		p.named[full] = n
		switch n.kind {
		case "record":
			fields, ok := obj["fields"].([]any)
			if !ok {
				return nil, fmt.Errorf("record %s has no fields array", full)
			}
			seen := map[string]bool{}
			for _, rf := range fields {
				f, ok := rf.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("record %s: a field is %s, not an object", full, jsonKind(rf))
				}
				name, _ := f["name"].(string)
				if name == "" {
					return nil, fmt.Errorf("record %s: a field has no name", full)
				}
				if seen[name] {
					return nil, fmt.Errorf("record %s: field %q is defined twice", full, name)
				}
				seen[name] = true
				typ, err := p.parse(f["type"], inner)
				if err != nil {
					return nil, fmt.Errorf("record %s field %s: %w", full, name, err)
				}
				n.fields = append(n.fields, field{name: name, typ: typ})
			}
		case "enum":
			syms, _ := obj["symbols"].([]any)
			for _, s := range syms {
				sym, ok := s.(string)
				if !ok {
					return nil, fmt.Errorf("enum %s: a symbol is %s, not a string", full, jsonKind(s))
				}
				n.symbols = append(n.symbols, sym)
			}
		case "fixed":
			size, ok := obj["size"].(float64)
			if !ok || size < 0 || size != math.Trunc(size) || size > math.MaxInt32 {
				return nil, fmt.Errorf("fixed %s: size %v is not a count of bytes", full, obj["size"])
			}
			n.size = int(size)
			if logical == "decimal" {
				n.logical = "decimal"
			}
		}
		return n, nil
	case "array", "map":
		key := "items"
		if t == "map" {
			key = "values"
		}
		raw, ok := obj[key]
		if !ok {
			return nil, fmt.Errorf("%s has no %q", t, key)
		}
		items, err := p.parse(raw, ns)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", t, key, err)
		}
		return &node{kind: t, items: items}, nil
	}
	if primitives[t] {
		return &node{kind: t, logical: logicalTypes[t+"."+logical], validated: t == "string" && logical == "validated-string"}, nil
	}
	// {"type": "SomeNamedType"}
	return p.reference(t, ns)
}

// define returns a named type's full name and the namespace its nested
// definitions inherit, by the Avro rules: a dotted name carries its
// namespace, else the namespace attribute, else the enclosing one.
func (p *schemaParser) define(obj map[string]any, enclosing string) (full, ns string, err error) {
	name, _ := obj["name"].(string)
	if name == "" {
		return "", "", fmt.Errorf("a %v has no name", obj["type"])
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		full, ns = name, name[:i]
	} else {
		ns = enclosing
		if v, ok := obj["namespace"].(string); ok {
			ns = v
		}
		full = name
		if ns != "" {
			full = ns + "." + name
		}
	}
	if _, dup := p.named[full]; dup {
		return "", "", fmt.Errorf("type %s is defined twice", full)
	}
	return full, ns, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	default:
		return "an object"
	}
}

// shortName is the last part of a full name: Location for
// io.streamscore.Location.
func shortName(full string) string {
	return full[strings.LastIndexByte(full, '.')+1:]
}

// typeName names a type for messages: "double", "long (timestamp-millis)",
// "record Location", "enum Status", "array<double>", "map<string>",
// ["null","double"].
func typeName(n *node) string {
	switch n.kind {
	case "record", "enum", "fixed":
		return n.kind + " " + shortName(n.name)
	case "array", "map":
		return n.kind + "<" + typeName(n.items) + ">"
	case "union":
		var b strings.Builder
		b.WriteByte('[')
		for i, m := range n.branches {
			if i > 0 {
				b.WriteByte(',')
			}
			quote(&b, typeName(m))
		}
		b.WriteByte(']')
		return b.String()
	}
	if n.logical != "" {
		return n.kind + " (" + n.logical + ")"
	}
	return n.kind
}

// wrapperKey is the key goavro gives a union branch of this type in a
// decoded record.
func wrapperKey(n *node) string {
	switch n.kind {
	case "record", "enum", "fixed":
		return n.name
	}
	if n.logical != "" && n.kind != "fixed" {
		return n.kind + "." + n.logical
	}
	return n.kind
}

// nullable splits a union into its one non-null branch, if it has exactly
// one, and whether null is a branch.
func (n *node) nullable() (inner *node, hasNull bool, others int) {
	for _, b := range n.branches {
		if b.kind == "null" {
			hasNull = true
			continue
		}
		inner = b
		others++
	}
	return inner, hasNull, others
}
