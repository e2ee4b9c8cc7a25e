package serde

import (
	"testing"
	"time"
)

// BenchmarkDecode decodes a sensor record whose schema is cached, against
// goavro's own NativeFromBinary on the same body as the floor.
func BenchmarkDecode(b *testing.B) {
	reg := newTestRegistry(b)
	d := reg.newDecoder(b, DecoderConfig{})
	value := encodeFrame(b, projectSchema(b, "sensor_reading"), sensorID, sensorRecord(2))
	s, err := d.Lookup(sensorID)
	if err != nil {
		b.Fatalf("Lookup: %v", err)
	}
	b.Run("goavro", func(b *testing.B) {
		b.ReportAllocs()
		body := value[headerLen:]
		for b.Loop() {
			if _, _, err := s.codec.NativeFromBinary(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("serde", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.Decode(value); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("serde-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := d.Decode(value); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkAppendOutput frames a sensor body with a prediction into a reused
// buffer.
func BenchmarkAppendOutput(b *testing.B) {
	body := encodeFrame(b, projectSchema(b, "sensor_reading"), sensorID, sensorRecord(2))[headerLen:]
	value, label := 21.7, "anomaly"
	cases := []struct {
		name string
		p    Prediction
	}{
		{"regressor", Prediction{ModelName: "temp-reg", ModelVersion: "3", Value: &value, ScoredAt: time.UnixMilli(1767225601000)}},
		{"classifier-3", Prediction{
			ModelName: "anomaly", ModelVersion: "12", Label: &label, Value: &value,
			Scores:   []ClassScore{{"normal", 0.7}, {"anomaly", 0.2}, {"fault", 0.1}},
			ScoredAt: time.UnixMilli(1767225601000),
		}},
		{"classifier-3-margin", Prediction{
			ModelName: "anomaly", ModelVersion: "12", Label: &label, Value: &value,
			Scores:   []ClassScore{{"normal", 0.7}, {"anomaly", 0.2}, {"fault", 0.1}},
			ScoredAt: time.UnixMilli(1767225601000),
			Margin:   []ClassScore{{"normal", 1.25}, {"anomaly", -0.5}, {"fault", -1.2}},
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			dst := make([]byte, 0, 512)
			for b.Loop() {
				dst = AppendOutput(dst[:0], Output{ID: 101}, body, &c.p)
			}
			b.SetBytes(int64(len(dst)))
		})
	}
}
