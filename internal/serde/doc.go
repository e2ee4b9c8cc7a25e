// Package serde reads and writes the records the scorer consumes and
// produces: Confluent-framed Avro.
//
// A framed value is a magic byte 0, a 4-byte big-endian schema id and the
// Avro binary body. The Decoder looks writer schemas up by id in a schema
// registry, caches the compiled codec and a description of the record's
// top-level fields, and decodes bodies into goavro's native maps.
//
// The output schema of a topic is the input record with one field,
// prediction, appended last. Avro binary encodes a record as its fields in
// order, so an output body is the input body, untouched, followed by the
// encoded Prediction: AppendOutput writes exactly that, with a hand-written
// encoder that allocates nothing, and the OutputEncoder registers the derived
// output schemas and remembers their ids.
package serde
