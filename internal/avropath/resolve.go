package avropath

import (
	"errors"
	"fmt"
)

// Leaf is the type a path reaches in a schema.
type Leaf struct {
	// Type is the Avro kind: "double", "int", "long", "float", "boolean",
	// "string", "bytes", "null", "enum", "fixed", "array", "map", "record",
	// or "union" for a union other than a nullable one.
	Type string
	// Logical is the logical type as goavro decodes it: "timestamp-millis",
	// "timestamp-micros", "date", "time-millis", "time-micros", "decimal",
	// or "". Logical types goavro reads as their underlying type (uuid,
	// local-timestamp-millis) are "".
	Logical string
	// Nullable is true when the path can read null or nothing: through a
	// nullable union on the way or at its end, a map key, or an array index.
	Nullable bool
	// Items is an array's item type or a map's value type.
	Items *Leaf
	// TypeName names the type in messages: "array<double>", "enum Status",
	// ["null","double"].
	TypeName string
}

// ResolveError is a path a schema does not have. Its message names the
// path and the Avro type at the step that fails.
type ResolveError struct {
	Path Path
	// Absent is true when only a record's field is missing: a record of
	// this schema reads the path as absent, which a default can stand in
	// for. Every other failure is a type the path cannot step through.
	Absent bool
	Reason string
}

func (e *ResolveError) Error() string { return e.Path.String() + ": " + e.Reason }

// Unwrap makes every ResolveError an ErrNoPath.
func (e *ResolveError) Unwrap() error { return ErrNoPath }

// IsAbsent reports whether err is a ResolveError for a field the schema
// lacks, rather than a type the path cannot pass.
func IsAbsent(err error) bool {
	var re *ResolveError
	return errors.As(err, &re) && re.Absent
}

// Resolve returns the type p reaches in s, or a *ResolveError (wrapping
// ErrNoPath) naming the path and the Avro type where it fails:
//
//	location.alt: record Location has no field "alt"
//	location.lat: location is string, not a record or map
//	window[3]: window is map<double>, not an array
//
// It also refuses the paths Read cannot read exactly (see the package
// documentation): a step named like the union wrapper it steps through, a
// key named like the union wrapper of a map's values, and a step into the
// values of a map of records or maps.
func (s *Schema) Resolve(p Path) (Leaf, error) {
	if len(p.steps) == 0 {
		return Leaf{}, &ResolveError{Path: p, Reason: "empty path"}
	}
	fail := func(absent bool, format string, args ...any) (Leaf, error) {
		return Leaf{}, &ResolveError{Path: p, Absent: absent, Reason: fmt.Sprintf(format, args...)}
	}
	// at names the value the first i steps reach.
	at := func(i int) string {
		if i == 0 {
			return "the record"
		}
		return p.prefix(i)
	}
	n := s.root
	nullable := false
	for i, st := range p.steps {
		// wrapped: the value at this step is a union wrapper, which Read
		// unwraps when the key is missing from it, and then looks no
		// further.
		wrapped := n.kind == "union"
		if wrapped {
			inner, hasNull, others := n.nullable()
			if others != 1 {
				return fail(false, "%s is %s; a path passes only through a nullable union [\"null\", T]", at(i), typeName(n))
			}
			if st.kind == keyStep && st.key == wrapperKey(inner) {
				return fail(false, "%s is %s, whose value a decoded record holds under the key %q: the step %q would read that wrapper, not a %s",
					at(i), typeName(n), st.key, st.key, stepNoun(inner))
			}
			nullable = nullable || hasNull
			n = inner
		}
		switch st.kind {
		case keyStep:
			switch n.kind {
			case "record":
				f, ok := n.field(st.key)
				if !ok {
					return fail(true, "%s has no field %q", typeName(n), st.key)
				}
				n = f
			case "map":
				// A map of one entry that lacks the key reads like a
				// union wrapper around its one value, unless the map is
				// itself inside one: Read looks the key up in that value.
				// A value that is a union wrapper holds one key, its
				// branch's type name.
				if !wrapped && n.items.kind == "union" && isBranchKey(n.items, st.key) {
					return fail(false, "%s is %s, whose values a decoded record holds under the key %q: the key %q would read another key's value from a map of one entry",
						at(i), typeName(n), st.key, st.key)
				}
				if i+1 < len(p.steps) && p.steps[i+1].kind == keyStep {
					if v := nonNull(n.items); v.kind == "record" || v.kind == "map" {
						return fail(false, "%s is %s: a path cannot step into the values of a map of records or maps, as a map of one entry reads like a nullable union", at(i), typeName(n))
					}
				}
				nullable = true
				n = n.items
			default:
				return fail(false, "%s is %s, not a record or map", at(i), typeName(n))
			}
		case indexStep:
			if n.kind != "array" {
				return fail(false, "%s is %s, not an array", at(i), typeName(n))
			}
			nullable = true
			n = n.items
		}
	}
	leaf := n.leaf()
	leaf.Nullable = leaf.Nullable || nullable
	return leaf, nil
}

// isBranchKey reports whether key is the wrapper key of one of union u's
// branches, under which a decoded record holds a value of that branch.
func isBranchKey(u *node, key string) bool {
	for _, b := range u.branches {
		if b.kind != "null" && wrapperKey(b) == key {
			return true
		}
	}
	return false
}

// stepNoun is what a key step reads in a value of type n.
func stepNoun(n *node) string {
	if n.kind == "record" {
		return "field"
	}
	return "key"
}

// nonNull is the non-null branch of a nullable union, or n.
func nonNull(n *node) *node {
	if n.kind != "union" {
		return n
	}
	if inner, _, others := n.nullable(); others == 1 {
		return inner
	}
	return n
}

func (n *node) field(name string) (*node, bool) {
	for _, f := range n.fields {
		if f.name == name {
			return f.typ, true
		}
	}
	return nil, false
}

// leaf describes n. A nullable union is described by its non-null branch.
func (n *node) leaf() Leaf {
	t, nullable := n, false
	if n.kind == "union" {
		inner, hasNull, others := n.nullable()
		if others == 1 {
			t, nullable = inner, hasNull
		} else if others == 0 && hasNull {
			return Leaf{Type: "null", Nullable: true, TypeName: typeName(n)}
		}
	}
	l := Leaf{Type: t.kind, Logical: t.logical, Nullable: nullable, TypeName: typeName(t)}
	if nullable {
		l.TypeName = typeName(n)
	}
	if t.kind == "union" {
		l.Nullable = hasNullBranch(t)
	}
	if t.items != nil {
		items := t.items.leaf()
		l.Items = &items
	}
	return l
}

func hasNullBranch(n *node) bool {
	_, hasNull, _ := n.nullable()
	return hasNull
}
