package main

import (
	"context"
	"os"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"

	"github.com/streamscore/streamscore/internal/avroguard"
	"github.com/streamscore/streamscore/internal/avropath"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/scorer"
	"github.com/streamscore/streamscore/internal/testkit/ortkit"
	"github.com/streamscore/streamscore/schemas"
)

// stageRecords is how many generated records each stage cycles through:
// few enough that their decoded form stays in the CPU's caches, as a
// record the scorer has just decoded does when it maps it.
const stageRecords = 1024

// stage is one record shape and model of the nested part, ready to score.
type stage struct {
	name   string
	schema string
	codec  *goavro.Codec
	guard  *avroguard.Schema
	bodies [][]byte         // Avro bodies, no framing
	recs   []map[string]any // the bodies decoded
	onnx   []byte
}

// stages builds the nested part's four variants as the bench trains and
// generates them: flat records and model, grouped records and model (the
// target's), rich nested records and the flat model, rich nested records
// and model.
func stages(b *testing.B) []stage {
	b.Helper()
	ctx := context.Background()
	flatModel, err := sample.SensorModel(ctx, sample.SensorSpec("sensor-anomaly", "bench"), modelConfig(), trainRows)
	if err != nil {
		b.Fatal(err)
	}
	groupedModel, _, err := sample.GroupedSensorModel(ctx, "sensor-anomaly-grouped", "bench", modelConfig(), trainRows)
	if err != nil {
		b.Fatal(err)
	}
	nestedModel, _, err := sample.NestedSensorModel(ctx, "sensor-anomaly-nested", "bench", modelConfig(), trainRows)
	if err != nil {
		b.Fatal(err)
	}
	flatBodies, flatRecs := encode(b, schemas.SensorReading, sample.NewSensors(99, 200, 0.05).Next)
	groupedBodies, groupedRecs := encode(b, schemas.SensorReadingGrouped, sample.NewGroupedSensors(99, 200, 0.05).Next)
	nestedBodies, nestedRecs := encode(b, schemas.SensorReadingNested, sample.NewNestedSensors(99, 200, 0.05).Next)
	return []stage{
		{"flat", schemas.SensorReading, codec(b, schemas.SensorReading), guard(b, schemas.SensorReading), flatBodies, flatRecs, flatModel},
		{"grouped", schemas.SensorReadingGrouped, codec(b, schemas.SensorReadingGrouped), guard(b, schemas.SensorReadingGrouped), groupedBodies, groupedRecs, groupedModel},
		{"nested-record-flat-model", schemas.SensorReadingNested, codec(b, schemas.SensorReadingNested), guard(b, schemas.SensorReadingNested), nestedBodies, nestedRecs, flatModel},
		{"nested", schemas.SensorReadingNested, codec(b, schemas.SensorReadingNested), guard(b, schemas.SensorReadingNested), nestedBodies, nestedRecs, nestedModel},
	}
}

// guard compiles the avro guard the scorer checks every body with
// before goavro decodes it.
func guard(b *testing.B, schema string) *avroguard.Schema {
	g, err := avroguard.Compile(schema)
	if err != nil {
		b.Fatal(err)
	}
	return g
}

func codec(b *testing.B, schema string) *goavro.Codec {
	c, err := goavro.NewCodec(schema)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// encode generates stageRecords records, encodes them and decodes them
// again, as the scorer receives them.
func encode(b *testing.B, schema string, next func() (map[string]any, bool)) ([][]byte, []map[string]any) {
	c := codec(b, schema)
	bodies := make([][]byte, stageRecords)
	recs := make([]map[string]any, stageRecords)
	for i := range bodies {
		rec, _ := next()
		body, err := c.BinaryFromNative(nil, rec)
		if err != nil {
			b.Fatal(err)
		}
		native, _, err := c.NativeFromBinary(body)
		if err != nil {
			b.Fatal(err)
		}
		bodies[i], recs[i] = body, native.(map[string]any)
	}
	return bodies, recs
}

// BenchmarkStages measures, for each variant of the nested part, the
// scorer's stages apart, on one thread: the avro guard's walk of a body
// (with the default limits); goavro's decode of it and mapping the decoded
// record into a batch (paths, categories), the way a record is read when
// its features cannot be read straight from the body; project, reading
// them straight from the body into a batch, the way the scorer reads every
// other record; and ONNX Runtime's run of a full batch of the scorer's
// default 128 rows. Every op is one record, so guard, project and run add
// up to the scorer's own work per record (beside framing, fetching,
// producing and committing). The garbage
// collector runs at the scorer's target, unless GOGC is set, as in the
// scorer: at Go's default of 100 a record's decode, mostly allocation,
// costs up to half as much CPU again as it does in the scorer, and the
// stages would not add up to the scorer's CPU per record.
func BenchmarkStages(b *testing.B) {
	if err := model.Init(ortkit.Library()); err != nil {
		b.Fatal(err)
	}
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(scorer.DefaultConfig().GCPercent))
	}
	const batchRows = 128
	limits := avroguard.Limits{}.Resolve()
	for _, s := range stages(b) {
		b.Run(s.name+"/guard", func(b *testing.B) {
			b.ReportAllocs()
			cpu := startCPU()
			i := 0
			for b.Loop() {
				if _, err := s.guard.Check(s.bodies[i%stageRecords], limits); err != nil {
					b.Fatal(err)
				}
				i++
			}
			cpu.report(b, i)
		})
		b.Run(s.name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			cpu := startCPU()
			i := 0
			for b.Loop() {
				if _, _, err := s.codec.NativeFromBinary(s.bodies[i%stageRecords]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			cpu.report(b, i)
		})
		m, err := model.Load(s.onnx, model.Options{MaxBatch: batchRows})
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		batch := m.NewBatch()
		defer batch.Close()
		b.Run(s.name+"/map", func(b *testing.B) {
			b.ReportAllocs()
			cpu := startCPU()
			i := 0
			for b.Loop() {
				if batch.Full() {
					batch.Reset()
				}
				if err := batch.Add(s.recs[i%stageRecords]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			cpu.report(b, i)
		})
		tree, err := avropath.ParseSchema(s.schema)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(s.name+"/project", func(b *testing.B) {
			if batch.Reset(); !batch.AddBody(tree, s.bodies[0]) {
				b.Skipf("the %s model's features are not read from the body: its records are decoded and mapped", s.name)
			}
			b.ReportAllocs()
			cpu := startCPU()
			i := 0
			for b.Loop() {
				if batch.Full() {
					batch.Reset()
				}
				if !batch.AddBody(tree, s.bodies[i%stageRecords]) {
					b.Fatalf("record %d is not read from its body", i%stageRecords)
				}
				i++
			}
			cpu.report(b, i)
		})
		b.Run(s.name+"/run", func(b *testing.B) {
			// Each run scores other records, as the scorer's do: the
			// same batch run again would let the CPU learn its trees'
			// branches and cost a third of what the scorer sees.
			batches := make([]*model.Batch, stageRecords/batchRows)
			for k := range batches {
				batches[k] = m.NewBatch()
				defer batches[k].Close()
				for i := range batchRows {
					if err := batches[k].Add(s.recs[k*batchRows+i]); err != nil {
						b.Fatal(err)
					}
				}
			}
			cpu := startCPU()
			n := 0
			for b.Loop() {
				if _, err := m.Run(batches[n%len(batches)]); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*batchRows), "ns/record")
			cpu.report(b, n*batchRows)
		})
	}
}

// cpuClock is the process's CPU time at a start: on a machine shared with
// other work, a stage's CPU time per record is steadier than its wall time,
// and it counts the garbage collector's work its allocations cause.
type cpuClock time.Duration

func startCPU() cpuClock { return cpuClock(processCPU()) }

// report adds the CPU time per record since the start as cpu-ns/record.
func (c cpuClock) report(b *testing.B, records int) {
	b.ReportMetric(float64(processCPU()-time.Duration(c))/float64(records), "cpu-ns/record")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
