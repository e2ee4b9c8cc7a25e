package serde

import (
	"errors"
	"runtime"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/streamscore/streamscore/internal/avroguard"
	"github.com/streamscore/streamscore/internal/testkit"
)

// TestDecoderRefusesHostileRecords runs the project's catalogue of hostile
// records through a Decoder over a registry that, like Confluent's, takes
// any schema: each is refused with the class its dead letter gets (corrupt,
// over budget, unsupported schema), and decoding it allocates a few
// kilobytes, not the gigabytes it claims (finding 1 of issue 10: a 94-byte
// record claiming 2^31-1 items killed the scorer out of memory).
func TestDecoderRefusesHostileRecords(t *testing.T) {
	classes := map[string]error{
		testkit.ClassCorrupt:     ErrCorruptAvro,
		testkit.ClassOverBudget:  ErrOverBudget,
		testkit.ClassUnsupported: ErrUnsupportedSchema,
	}
	reg := newTestRegistry(t)
	d := reg.newDecoder(t, DecoderConfig{})
	for i, h := range testkit.HostileRecords(2, 983_500) {
		t.Run(h.Kind, func(t *testing.T) {
			id := uint32(100 + i)
			reg.fake.SeedSchema("hostile-value", i+1, int(id), sr.Schema{Schema: h.Schema, Type: sr.TypeAvro})
			value := append(AppendFrame(nil, id), h.Body...)
			if _, err := d.Lookup(id); err != nil && !errors.Is(err, ErrUnsupportedSchema) {
				t.Fatal(err)
			}
			var err error
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err = d.Decode(value)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, classes[h.Class]) {
				t.Fatalf("got %v, want %v", err, classes[h.Class])
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<10 {
				t.Errorf("refusing it allocated %d bytes", grew)
			}
		})
	}
}

// TestDecoderLimits: the Decoder holds bodies to the limits it is given,
// and refuses limits out of range.
func TestDecoderLimits(t *testing.T) {
	reg := newTestRegistry(t)
	value := encodeFrame(t, projectSchema(t, "sensor_reading"), sensorID, sensorRecord(2))
	if _, err := reg.newDecoder(t, DecoderConfig{}).Decode(value); err != nil {
		t.Fatalf("default limits: %v", err)
	}
	tight := reg.newDecoder(t, DecoderConfig{Limits: avroguard.Limits{MaxBytes: 64}})
	if _, err := tight.Decode(value); !errors.Is(err, ErrOverBudget) {
		t.Fatalf("at most 64 bytes decoded: got %v, want ErrOverBudget", err)
	}
	if _, err := NewDecoder(reg.client, DecoderConfig{Limits: avroguard.Limits{MaxDepth: -1}}); !errors.Is(err, avroguard.ErrLimits) {
		t.Fatalf("negative depth: got %v, want ErrLimits", err)
	}
}
