// Package avropath names a value inside an Avro record, reads it from a
// decoded record, and checks it against a record schema before any record
// arrives.
//
// # Syntax
//
// A path is a field name followed by steps:
//
//	location.lat             record fields: field lat of the record location
//	attributes.firmware      a map value by key: key "firmware" of the map attributes
//	attributes["fw.version"] a map key in brackets and double quotes, with JSON
//	                         string escapes, for keys that hold '.', '[' or '"'
//	window[3]                an array element by index, 0-based
//	device.sensors[0].value  steps combine
//
// A field name is an Avro name, [A-Za-z_][A-Za-z0-9_]*; anything else is a
// syntax error (ErrSyntax) naming its offset. A key in brackets is the same
// step as a dotted one: attributes["firmware"] is attributes.firmware, and
// String writes the dotted form whenever the key is an Avro name. A quoted
// key may not escape half a surrogate pair ("\ud800"), which names no
// character. An index is decimal digits without a leading zero, at most
// MaxIndex. A path is at most MaxPathBytes long and MaxSteps steps deep:
// paths arrive in specs and REST bodies, and each step costs a walk.
//
// Nullable unions (["null", T] or [T, "null"]) are passed through at any
// step: a null on the way makes the whole path null. A missing map key, an
// index past the end of an array and a field the record lacks (a record of an
// older schema) read as absent.
//
// # Reading
//
// Path.Read needs no schema: it walks the form goavro decodes to (records
// and maps are map[string]any, arrays []any, a non-null union branch a
// one-entry map keyed by the branch's type name, such as "double",
// "long.timestamp-millis" or a named type's full name). A union wrapper is
// recognised by its shape: where a key is missing from a one-entry map whose
// key is a type name and whose value can take the step, the value is read
// instead, and the value a path ends at is unwrapped the same way.
// Path.ReadJSON reads plain JSON objects, which have no wrappers, and so
// unwraps nothing.
//
// That shape is ambiguous, and Schema.Resolve refuses these paths, on which
// it could mislead Read:
//
//   - a step named like the wrapper key of the union it steps through
//     (a field "map" of a ["null", map<string>]), which would read the
//     wrapper itself;
//   - a key named like the wrapper key of a map's values, or of any branch
//     of their union, when the map is not itself in a union (the key
//     "double" of a map<["null","double"]>, "region" of a map<["string",
//     region]>): in a map of one entry lacking the key, Read would take the
//     map for a wrapper and read the one value's wrapper;
//   - a key step into the values of a map of records or maps: a map of one
//     entry lacking the key looks like a union wrapper.
//
// So Read returns, from a record of the schema, exactly the value at every
// path Resolve accepts, with one exception: at a path that ends at a record
// or a map itself, Read may take a record of one field, or a map of one
// entry, whose key is a type name for a wrapper and unwrap it. No column reads a record or a
// map whole (model.Spec.CheckSchema refuses them), so no feature meets it.
package avropath
