package model_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/train"
)

// sensorFields are the ten features of schemas/sensor_reading.avsc.
var sensorFields = []string{
	"temperature", "humidity", "pressure", "light", "co2",
	"vibration", "sound", "rssi", "uptime_s", "battery_volts",
}

// sensorRecords returns n records as goavro decodes sensor readings:
// doubles, an int, a long, a timestamp, a nullable double (null for about
// one device in five) and a string the model does not read.
func sensorRecords(seed uint64, n int) []map[string]any {
	rng := rand.New(rand.NewPCG(seed, 0x5e45))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	recs := make([]map[string]any, n)
	for i := range recs {
		var battery any
		if rng.IntN(5) > 0 {
			battery = map[string]any{"double": 3 + rng.Float64()}
		}
		recs[i] = map[string]any{
			"device_id":     fmt.Sprintf("device-%03d", rng.IntN(500)),
			"ts":            start.Add(time.Duration(i) * time.Second),
			"temperature":   15 + rng.NormFloat64()*8,
			"humidity":      rng.Float64() * 100,
			"pressure":      1013 + rng.NormFloat64()*10,
			"light":         rng.ExpFloat64() * 300,
			"co2":           400 + rng.ExpFloat64()*200,
			"vibration":     rng.ExpFloat64(),
			"sound":         30 + rng.Float64()*50,
			"rssi":          int32(-40 - rng.IntN(60)),
			"uptime_s":      rng.Int64N(10_000_000),
			"battery_volts": battery,
		}
	}
	return recs
}

// sensorSpec maps sensorFields onto the exported ensemble's input; a
// mains-powered device's missing battery reads as 0 volts.
func sensorSpec() model.Spec {
	cols := columns(sensorFields...)
	cols[len(cols)-1].Default = ptr(0)
	return model.Spec{
		Name: "sensor-anomaly", Version: "bench", Task: model.Classification,
		Labels:  []string{"normal", "anomaly"},
		Inputs:  []model.Input{{Name: train.InputFeatures, Fields: cols}},
		Outputs: model.Outputs{Scores: train.OutputProbabilities},
	}
}

// sensorModel trains a trees×depth ensemble on sensor records, mapping
// them to rows the way the trainer does, through InputReader.AppendNumbers.
func sensorModel(b *testing.B, trees, depth int) []byte {
	b.Helper()
	spec := sensorSpec()
	recs := sensorRecords(1, 4000)
	reader, err := spec.Inputs[0].Reader()
	if err != nil {
		b.Fatal(err)
	}
	var rows []float32
	labels := make([]float64, len(recs))
	for i, rec := range recs {
		var err error
		if rows, err = reader.AppendNumbers(rows, rec, false); err != nil {
			b.Fatal(err)
		}
		hot := rec["temperature"].(float64) > 25
		shaking := rec["vibration"].(float64) > 2
		if hot != shaking || rec["co2"].(float64) > 1000 {
			labels[i] = 1
		}
	}
	data, err := train.NewDataset(rows, len(sensorFields), labels)
	if err != nil {
		b.Fatal(err)
	}
	cfg := train.DefaultConfig()
	cfg.MaxIter, cfg.MaxDepth = trees, depth
	ens, err := train.Fit(context.Background(), cfg, data)
	if err != nil {
		b.Fatal(err)
	}
	return ensembleModel(b, ens, spec)
}

// BenchmarkBatchAddRun measures scoring as the scorer does it: map decoded
// records into a reused batch, then run the 100-tree, depth-6 ensemble on
// one thread. One op is one batch.
func BenchmarkBatchAddRun(b *testing.B) {
	data := sensorModel(b, 100, 6)
	recs := sensorRecords(2, 4096)
	for _, size := range []int{1, 16, 128} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			m := load(b, data, model.Options{MaxBatch: size})
			batch := newBatch(b, m)
			next := 0
			b.ReportAllocs()
			for b.Loop() {
				batch.Reset()
				for range size {
					if err := batch.Add(recs[next]); err != nil {
						b.Fatal(err)
					}
					next = (next + 1) % len(recs)
				}
				if _, err := m.Run(batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkAppendNumbers maps one record to a row, as Batch.Add does for a
// float input: the flat sensor record's ten doubles, ints and a nullable
// double, beside ten columns of a nested record read through paths,
// nullable unions, a map key, categories and a timestamp part. One op is
// one row.
func BenchmarkAppendNumbers(b *testing.B) {
	flat, err := sensorSpec().Inputs[0].Reader()
	if err != nil {
		b.Fatal(err)
	}
	nested, err := model.Input{Name: "features", Fields: []model.Feature{
		{Field: "temperature"},
		{Field: "location.lat"},
		{Field: "location.lon"},
		{Field: "home.lat", Default: ptr(0)},
		{Field: "device.battery", Default: ptr(0)},
		{Field: "gauges.g", Default: ptr(0)},
		{Field: "status", Categories: cats("OK", "WARN", "FAIL")},
		{Field: "device.model", Categories: cats("X100", "T9")},
		{Field: "site", Categories: cats("lon-01", "ams-03")},
		{Field: "ts", Part: model.HourOfDay},
	}}.Reader()
	if err != nil {
		b.Fatal(err)
	}
	for _, bm := range []struct {
		name   string
		reader *model.InputReader
		rec    map[string]any
	}{
		{"flat", flat, sensorRecords(2, 1)[0]},
		{"nested", nested, fleetRecord()},
	} {
		b.Run(bm.name, func(b *testing.B) {
			dst := make([]float32, 0, bm.reader.Width())
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bm.reader.AppendNumbers(dst[:0], bm.rec, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
