package avropath

// Kind exposes kind, the words ShapeError uses for a value, to the tests.
var Kind = kind
