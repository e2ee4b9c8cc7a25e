package avroguard

import (
	"errors"
	"flag"
	"fmt"
)

// Limits bound what one body may cost once decoded. The zero value means
// the defaults; Resolve fills them in.
type Limits struct {
	// MaxDepth is how deep records, arrays and maps may nest in a body,
	// the top-level record being depth 1. Real schemas stay under ten; a
	// recursive type (a linked list, a tree) nests as deep as the body
	// says, and goavro follows it on the stack and the heap.
	MaxDepth int `yaml:"max_depth"`
	// BaseBytes, BytesPerByte and MaxBytes bound the estimated size of
	// what the decoder builds from a body of n bytes to
	// min(BaseBytes + the schema's fixed cost + BytesPerByte*n, MaxBytes),
	// the fixed cost being what one value costs with each record read once
	// and every array and map empty (Schema.FixedCost): what the schema,
	// not the body, decides, so a record of a thousand nullable fields is
	// not held to the budget of a body that repeats itself. Decoded Avro is larger
	// than its encoding: a map entry per field, a boxed value per number,
	// a map around every non-null union value. Flat records of numbers
	// take 5 to 10 times their bytes, strings up to 40, records of
	// nullable fields 40 to 170 (a nullable boolean is 2 bytes and about
	// 350 decoded); only bodies that claim items which take no bytes
	// (nulls) cost without limit. BaseBytes lets any small record through
	// whatever its shape; BytesPerByte lets large ones through up to the
	// heaviest real shape; MaxBytes caps one record however large its
	// body.
	BaseBytes    int64 `yaml:"decoded_base_bytes"`
	BytesPerByte int64 `yaml:"decoded_bytes_per_byte"`
	MaxBytes     int64 `yaml:"max_decoded_bytes"`
}

// BindFlags defines the limits' flags on fs, writing into l, with l's
// current values as the flag defaults. The scorer and the trainer take the
// same flags.
func (l *Limits) BindFlags(fs *flag.FlagSet) {
	r := l.Resolve()
	*l = r
	fs.IntVar(&l.MaxDepth, "avro-max-depth", r.MaxDepth, "deepest nesting of records, arrays and maps a record may have; deeper ones are dead-lettered over_budget")
	fs.Int64Var(&l.BaseBytes, "avro-decoded-base-bytes", r.BaseBytes, "decoded size any record may reach, whatever its encoded size")
	fs.Int64Var(&l.BytesPerByte, "avro-decoded-bytes-per-byte", r.BytesPerByte, "decoded bytes a record may take per encoded byte, on top of -avro-decoded-base-bytes")
	fs.Int64Var(&l.MaxBytes, "avro-max-decoded-bytes", r.MaxBytes, "decoded size no record may pass, however large")
}

// Defaults: no record of a few hundred bytes, however crafted, decodes
// into more than 64 KiB; a 10 KB one into more than 1.3 MB; none into more
// than 16 MiB.
const (
	DefaultMaxDepth     = 64
	DefaultBaseBytes    = 64 << 10
	DefaultBytesPerByte = 128
	DefaultMaxBytes     = 16 << 20
)

// ErrLimits marks limits that are out of range.
var ErrLimits = errors.New("bad avro guard limits")

// Resolve returns l with zero fields set to the defaults.
func (l Limits) Resolve() Limits {
	if l.MaxDepth == 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.BaseBytes == 0 {
		l.BaseBytes = DefaultBaseBytes
	}
	if l.BytesPerByte == 0 {
		l.BytesPerByte = DefaultBytesPerByte
	}
	if l.MaxBytes == 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	return l
}

// Validate reports limits that cannot be used: negative ones, or ones so
// large that the budget arithmetic could overflow.
func (l Limits) Validate() error {
	var errs []error
	if l.MaxDepth < 0 || l.MaxDepth > 10_000 {
		errs = append(errs, fmt.Errorf("%w: avro-max-depth: %d is negative or over 10000 (0 is the default)", ErrLimits, l.MaxDepth))
	}
	if l.BaseBytes < 0 || l.BaseBytes > 1<<40 {
		errs = append(errs, fmt.Errorf("%w: avro-decoded-base-bytes: %d is negative or over 2^40 (0 is the default)", ErrLimits, l.BaseBytes))
	}
	if l.BytesPerByte < 0 || l.BytesPerByte > 1<<20 {
		errs = append(errs, fmt.Errorf("%w: avro-decoded-bytes-per-byte: %d is negative or over 2^20 (0 is the default)", ErrLimits, l.BytesPerByte))
	}
	if l.MaxBytes < 0 || l.MaxBytes > 1<<40 {
		errs = append(errs, fmt.Errorf("%w: avro-max-decoded-bytes: %d is negative or over 2^40 (0 is the default)", ErrLimits, l.MaxBytes))
	}
	return errors.Join(errs...)
}

// budget is the decoded size allowed for a body of n bytes of a schema
// whose fixed part costs static (see Schema.Budget).
func (l Limits) budget(static int64, n int) int64 {
	return min(l.BaseBytes+static+l.BytesPerByte*int64(n), l.MaxBytes)
}
