package serde

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseFrame(t *testing.T) {
	tests := []struct {
		name     string
		in       []byte
		wantID   uint32
		wantBody []byte
		wantErr  error
	}{
		{name: "empty", in: nil, wantErr: ErrTruncated},
		{name: "magic only", in: []byte{0}, wantErr: ErrTruncated},
		{name: "four bytes", in: []byte{0, 0, 0, 1}, wantErr: ErrTruncated},
		{name: "bad magic", in: []byte{1, 0, 0, 0, 1, 2}, wantErr: ErrBadMagic},
		{name: "short and bad magic", in: []byte("{}"), wantErr: ErrBadMagic},
		{name: "header only", in: []byte{0, 0, 0, 0, 7}, wantID: 7, wantBody: []byte{}},
		{name: "big-endian id and body", in: []byte{0, 0x01, 0x02, 0x03, 0x04, 0xaa, 0xbb}, wantID: 0x01020304, wantBody: []byte{0xaa, 0xbb}},
		{name: "max id", in: []byte{0, 0xff, 0xff, 0xff, 0xff, 1}, wantID: 0xffffffff, wantBody: []byte{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, body, err := ParseFrame(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if id != tt.wantID || !bytes.Equal(body, tt.wantBody) {
				t.Fatalf("got id %d body %x, want id %d body %x", id, body, tt.wantID, tt.wantBody)
			}
		})
	}
}

func TestAppendFrameRoundTrips(t *testing.T) {
	for _, id := range []uint32{0, 1, 255, 256, 1 << 24, 0xffffffff} {
		prefix := []byte("keep")
		b := AppendFrame(prefix, id)
		if !bytes.Equal(b[:4], []byte("keep")) || len(b) != 4+headerLen {
			t.Fatalf("AppendFrame(%d) = %x, want the prefix kept and 5 bytes added", id, b)
		}
		got, body, err := ParseFrame(append(b[4:], 9))
		if err != nil || got != id || !bytes.Equal(body, []byte{9}) {
			t.Fatalf("ParseFrame(AppendFrame(%d)) = %d, %x, %v", id, got, body, err)
		}
	}
}
