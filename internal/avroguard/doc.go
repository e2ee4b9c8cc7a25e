// Package avroguard checks an Avro binary body against its writer schema
// before a decoder allocates anything for it.
//
// goavro, the project's decoder, trusts what a body claims: it sizes a
// slice or map by the item count an array or map block announces before
// reading a single item, and it follows a recursive type as deep as the
// body goes. A few bytes can therefore ask for gigabytes (an array block
// claiming 2^31-1 items), or a 1 MB body can nest a record a million levels
// deep. The guard walks the body once with the writer schema, reading only
// lengths, counts and indexes, and refuses it before goavro sees it when:
//
//   - it is malformed in a way that costs memory or time: a block claims
//     more items than the bytes left could hold (every item of a type that
//     needs at least one byte takes one), a length runs past the end, a
//     varint overflows, an index is out of range (ErrMalformed);
//   - it is well formed but too costly: it nests records, arrays and maps
//     deeper than Limits.MaxDepth, or what goavro would build from it is
//     estimated to take more than Limits allow for a body of its size,
//     which is what bounds items of types that take no bytes at all, such
//     as null (ErrOverBudget).
//
// The walk allocates nothing unless it fails, and its errors name the
// field path and the claimed figure, e.g.
//
//	field arr: array block claims 2147483647 items of long, at least 1 byte each, with 1 byte left
//
// Compile also refuses schemas that no body could satisfy (a record that
// contains itself on every path, which a decoder would follow until the
// bytes run out) or whose decoding alone would be unbounded (a decimal with
// an absurd scale): the scorer's decoder and the schema registry use it.
package avroguard
