package serde

import (
	"errors"
	"testing"
)

// FuzzDecode feeds arbitrary values to a Decoder over the fake registry
// (which knows the sensor and text schemas): it must never panic, and every
// error must belong to one of the package's classes.
func FuzzDecode(f *testing.F) {
	reg := newTestRegistry(f)
	d := reg.newDecoder(f, DecoderConfig{})
	sensor := encodeFrame(f, projectSchema(f, "sensor_reading"), sensorID, sensorRecord(2))
	text := encodeFrame(f, projectSchema(f, "text_message"), textID, textRecord(1))
	seeds := [][]byte{
		sensor,
		encodeFrame(f, projectSchema(f, "sensor_reading"), sensorID, sensorRecord(3)),
		text,
		encodeFrame(f, projectSchema(f, "text_message"), textID, textRecord(2)),
		{},
		{0, 0, 0, 1},
		{0, 0, 0, 0, sensorID},
		append([]byte{1}, sensor[1:]...),
		sensor[:len(sensor)/2],
		text[:len(text)-1],
		append(append([]byte(nil), text...), 0xff),
		append(AppendFrame(nil, textID), 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
		append(AppendFrame(nil, textID), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
		AppendFrame(nil, 12345),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	classes := []error{ErrBadMagic, ErrTruncated, ErrUnknownSchema, ErrCorruptAvro}
	f.Fuzz(func(t *testing.T, value []byte) {
		got, err := d.Decode(value)
		if err == nil {
			if got.Checked.Schema == nil || got.Record == nil || got.Checked.SchemaID != got.Checked.Schema.ID {
				t.Fatalf("Decode succeeded with %+v", got)
			}
			return
		}
		for _, c := range classes {
			if errors.Is(err, c) {
				return
			}
		}
		t.Fatalf("error outside the classes: %v", err)
	})
}
