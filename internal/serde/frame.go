package serde

import (
	"encoding/binary"
	"fmt"
)

// magic is the first byte of every Confluent-framed value.
const magic = 0

// headerLen is the length of the frame header: magic byte and schema id.
const headerLen = 5

// ParseFrame splits a Confluent-framed value into its schema id and Avro
// body. The body aliases b. A value whose first byte is not 0 fails with
// ErrBadMagic (checked first: a short non-framed value is more usefully
// reported as not framed at all), one shorter than 5 bytes with ErrTruncated.
func ParseFrame(b []byte) (id uint32, body []byte, err error) {
	if len(b) > 0 && b[0] != magic {
		return 0, nil, fmt.Errorf("%w: first byte is 0x%02x", ErrBadMagic, b[0])
	}
	if len(b) < headerLen {
		return 0, nil, fmt.Errorf("%w: %d bytes, header needs %d", ErrTruncated, len(b), headerLen)
	}
	return binary.BigEndian.Uint32(b[1:headerLen]), b[headerLen:], nil
}

// AppendFrame appends the frame header for schema id to dst.
func AppendFrame(dst []byte, id uint32) []byte {
	dst = append(dst, magic)
	return binary.BigEndian.AppendUint32(dst, id)
}
