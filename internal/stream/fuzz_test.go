package stream

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/avroguard"
	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/testkit"
)

// FuzzHostileRecord is the scorer's decoding and scoring stages under a
// structure-aware fuzzer: each input drives testkit.GenerateAvro to a
// writer schema of every Avro type (recursion included), carrying the
// sensor model's features, and a body that is valid or bent as a hostile
// producer would bend it (block counts, lengths, negative and overflowing
// varints, union and enum indexes, nesting thousands deep). The schema is
// registered in the project's registry over HTTP, the record framed and
// handed to a processor with a real ONNX Runtime model. For every input:
// the process survives; the record ends as exactly one output or one dead
// letter; and handling it (its schema fetched and its output schema
// registered beforehand, as they are once per schema) allocates less than the avro guard's budget for
// its body plus 256 KiB (the guard's budget is min(64 KiB + the schema's
// fixed cost + 128 B per body byte, 16 MiB): about 8.5 MiB at most for the
// generator's 64 KiB bodies).
func FuzzHostileRecord(f *testing.F) {
	for seed := range 256 {
		f.Add(testkit.Seed(seed))
	}
	fx := newFixture(f, 1)
	m := fx.model(f, "1", smallModel(), 2000)
	var out *outcomes // this input's
	p := fx.processor(Config{}, m, sinkFunc(func(r result) { out.emit(r) }))
	go p.scoreJobs()
	f.Cleanup(p.close)
	n := 0
	f.Fuzz(func(t *testing.T, data []byte) {
		c := testkit.GenerateAvro(data, sample.SensorFeatures...)
		n++
		topic := fmt.Sprintf("fuzz%d", n)
		value := framed(t, fx.client, topic, c.Schema, c.Body)
		rec := &kgo.Record{Topic: topic, Value: value}
		// Fetching and compiling the schema and registering its output
		// schema happen once per schema, not per record: done first, so
		// that what is measured is the record's own cost.
		if s, err := fx.dec.Lookup(binary.BigEndian.Uint32(value[1:5])); err == nil {
			_, _ = fx.outputs.Output(topic, p.cfg.OutputFor(topic), s)
		}
		out = newOutcomes()
		ctx := context.Background()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := p.add(ctx, rec, nil); err != nil {
			t.Fatalf("add: %v", err)
		}
		p.flush()
		if err := p.idle(ctx); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		r := out.one(t, rec)
		if !c.Hostile && r.reason != "" && r.reason != deadletter.OverBudget {
			t.Fatalf("a valid record was dead-lettered %s: %s\nschema %s\nbody %x", r.reason, header(r.out, deadletter.HeaderErrorReason), c.Schema, c.Body)
		}
		if c.Deep && r.reason == "" {
			t.Fatalf("a record nested thousands deep was scored\nschema %s", c.Schema)
		}
		guard, err := avroguard.Compile(c.Schema)
		if err != nil {
			t.Fatalf("the guard refuses a generated schema: %v", err)
		}
		bound := guard.Budget(len(c.Body), avroguard.Limits{}) + 256<<10
		if grew := int64(after.TotalAlloc - before.TotalAlloc); grew > bound {
			t.Fatalf("handling a %d-byte record allocated %d bytes, over %d\nschema %s", len(c.Body), grew, bound, c.Schema)
		}
	})
}
