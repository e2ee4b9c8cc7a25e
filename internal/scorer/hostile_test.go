package scorer_test

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/internal/stream"
	"github.com/streamscore/streamscore/internal/testkit"
)

// TestPoisonRecordDoesNotStopTheScorer is finding 1 of issue 10 on a real
// scorer: a 94-byte record whose array block claims 2^31-1 items, behind a
// good record of its partition and ahead of another, killed the scorer out
// of memory, and every restart, so the good record before it was never
// output. Now the poison record is dead-lettered naming the field and the
// claim, the records around it are scored, and the scorer goes on until
// told to stop. The other partitions carry the map and array-of-nulls
// variants.
func TestPoisonRecordDoesNotStopTheScorer(t *testing.T) {
	const topic = "poison"
	e := newEnv(t, topic)
	schema := testkit.SensorSchemaWith(
		`{"name":"junk","type":"string"}`,
		`{"name":"junkb","type":"bytes"}`,
		`{"name":"arr","type":{"type":"array","items":"long"}}`,
		`{"name":"m","type":{"type":"map","values":"null"}}`,
		`{"name":"nulls","type":{"type":"array","items":"null"}}`)
	id, _ := e.register(topic+"-value", schema)
	good := func(i int) []byte {
		// junk "", junkb "", arr [], m {}, nulls []
		return append(framedBody(id, testkit.SensorBody(i)), 0, 0, 0, 0, 0)
	}
	poisons := map[int32][]byte{
		0: append(framedBody(id, testkit.SensorBody(10)), 0, 0, 0xfe, 0xff, 0xff, 0xff, 0x0f, 0x02),    // arr claims 2^31-1 longs
		1: append(framedBody(id, testkit.SensorBody(11)), 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0x0f, 0x02), // m claims 2^31-1 entries
		2: append(append(framedBody(id, testkit.SensorBody(12)), 0, 0, 0, 0), append(binary.AppendVarint(nil, 20_000_000), 0)...),
	}
	wantReason := map[int32][]string{
		0: {deadletter.CorruptAvro, "field arr: array block claims 2147483647 items of long"},
		1: {deadletter.CorruptAvro, "field m: map block claims 2147483647 entries of null"},
		2: {deadletter.OverBudget, "field nulls: array block claims 20000000 items of null"},
	}
	var records []*kgo.Record
	for p := range int32(3) {
		records = append(records,
			&kgo.Record{Topic: topic, Partition: p, Value: good(int(p))},
			&kgo.Record{Topic: topic, Partition: p, Value: poisons[p]},
			&kgo.Record{Topic: topic, Partition: p, Value: good(int(p) + 3)})
	}
	cfg := e.config(topic)
	_, stop := e.start(cfg)
	e.produceTo(records...)
	results := e.consumeUntil(len(records), topic+".scored", cfg.Stream.DeadLetterTopic)
	bySource := map[string]*kgo.Record{}
	for _, r := range results {
		if bySource[sourceOf(r)] != nil {
			t.Fatalf("%s has two results", sourceOf(r))
		}
		bySource[sourceOf(r)] = r
	}
	for _, in := range records {
		r := bySource[coordinates(in)]
		if r == nil {
			t.Fatalf("%s has no result", coordinates(in))
		}
		if in.Offset != 1 {
			if r.Topic != topic+".scored" {
				t.Errorf("good record %s went to %s: %s", coordinates(in), r.Topic, header(r, deadletter.HeaderErrorReason))
			}
			continue
		}
		want := wantReason[in.Partition]
		if header(r, deadletter.HeaderErrorClass) != want[0] || !strings.Contains(header(r, deadletter.HeaderErrorReason), want[1]) {
			t.Errorf("poison record %s: class %q reason %q, want %s saying %q", coordinates(in),
				header(r, deadletter.HeaderErrorClass), header(r, deadletter.HeaderErrorReason), want[0], want[1])
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("the scorer stopped with %v", err)
	}
}

// TestVersionsInterleavedAcrossPartitions is finding 4 of issue 10 on a
// real scorer: the input subject's v1 has rssi int, v2 rssi long (BACKWARD
// allows it). A v2 record scored first, then a v1 record on another
// partition, sent the v1 record to the dead-letter topic
// (output_schema_rejected). Now both are scored, in either order.
func TestVersionsInterleavedAcrossPartitions(t *testing.T) {
	for _, newerFirst := range []bool{true, false} {
		name := "older first"
		if newerFirst {
			name = "newer first"
		}
		t.Run(name, func(t *testing.T) {
			topic := "evolving-" + strings.ReplaceAll(name, " ", "-")
			e := newEnv(t, topic)
			v1, codec1 := e.register(topic+"-value", sensorSchema)
			v2, codec2 := e.register(topic+"-value", strings.Replace(sensorSchema, `{"name": "rssi", "type": "int"`, `{"name": "rssi", "type": "long"`, 1))
			if v1 == v2 {
				t.Fatal("v2 is v1: the schema text did not change")
			}
			rec1, rec2 := sampleReading(t, 1), sampleReading(t, 2)
			rec2["rssi"] = int64(rec2["rssi"].(int32))
			older := &kgo.Record{Topic: topic, Partition: 1, Value: frame(t, v1, codec1, rec1)}
			newer := &kgo.Record{Topic: topic, Partition: 0, Value: frame(t, v2, codec2, rec2)}
			first, second := older, newer
			if newerFirst {
				first, second = newer, older
			}
			cfg := e.config(topic)
			e.start(cfg)
			e.produceTo(first)
			e.consumeUntil(1, topic+".scored", cfg.Stream.DeadLetterTopic)
			e.produceTo(second)
			for _, r := range e.consumeUntil(2, topic+".scored", cfg.Stream.DeadLetterTopic) {
				if r.Topic != topic+".scored" {
					t.Errorf("%s dead-lettered %s: %s", sourceOf(r), header(r, deadletter.HeaderErrorClass), header(r, deadletter.HeaderErrorReason))
				}
			}
		})
	}
}

// produceTo writes records to the partitions they name, synchronously.
func (e *env) produceTo(records ...*kgo.Record) {
	e.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.stack.Brokers()...), kgo.AllowAutoTopicCreation(), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		e.t.Fatalf("produce: %v", err)
	}
}

func framedBody(id uint32, body []byte) []byte {
	return append(serde.AppendFrame(nil, id), body...)
}

// sampleReading is sample sensor reading i, as goavro's native form.
func sampleReading(t *testing.T, i int) map[string]any {
	t.Helper()
	gen := sample.NewSensors(1, 10, 0.05)
	var rec map[string]any
	for range i + 1 {
		rec, _ = gen.Next()
	}
	return rec
}

// TestCompressionBombSkipped: a record batch of a few kilobytes that would
// decompress to 8 MB, after a good record of its partition, is not
// decompressed: one dead letter names its offsets (class oversize_batch),
// and the partition's committed offset moves past it, at least once and
// exactly once. A scorer started after a clean stop scores the next record
// and does not meet the batch again.
func TestCompressionBombSkipped(t *testing.T) {
	for _, exactlyOnce := range []bool{false, true} {
		name := map[bool]string{false: "at-least-once", true: "exactly-once"}[exactlyOnce]
		t.Run(name, func(t *testing.T) {
			topic := "bomb-" + name
			e := newEnv(t, topic)
			id, codec := e.register(topic+"-value", sensorSchema)
			cl, err := kgo.NewClient(kgo.SeedBrokers(e.stack.Brokers()...), kgo.AllowAutoTopicCreation(),
				kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(kgo.SnappyCompression()),
				kgo.ProducerBatchMaxBytes(16<<20), kgo.ProducerLinger(50*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			produce := func(recs ...*kgo.Record) {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
			good := func(i int) *kgo.Record {
				return &kgo.Record{Topic: topic, Value: frame(t, id, codec, sampleReading(t, i))}
			}
			var bomb []*kgo.Record
			for range 80 {
				bomb = append(bomb, &kgo.Record{Topic: topic, Value: make([]byte, 100<<10)})
			}
			produce(good(1))
			produce(bomb...) // offsets 1..80, the last batch of the partition

			cfg := e.config(topic)
			cfg.Stream.ExactlyOnce = exactlyOnce
			cfg.Stream.MaxDecompressedBatchBytes = stream.MaxProduceBytes
			consume := e.consumeUntil
			if exactlyOnce {
				consume = e.consumeCommitted
			}
			_, stop := e.start(cfg)
			results := consume(2, topic+".scored", cfg.Stream.DeadLetterTopic)
			var dead []*kgo.Record
			for _, r := range results {
				if r.Topic == cfg.Stream.DeadLetterTopic {
					dead = append(dead, r)
				}
			}
			if len(dead) != 1 {
				t.Fatalf("%d dead letters among the first two results, want 1", len(dead))
			}
			d := dead[0]
			if header(d, deadletter.HeaderErrorClass) != deadletter.OversizeBatch || d.Value != nil ||
				header(d, deadletter.HeaderSourceFirstOffset) != "1" || header(d, deadletter.HeaderSourceOffset) != "80" {
				t.Fatalf("dead letter: class %q, first offset %q, offset %q, %d bytes of value (%s)",
					header(d, deadletter.HeaderErrorClass), header(d, deadletter.HeaderSourceFirstOffset), header(d, deadletter.HeaderSourceOffset),
					len(d.Value), header(d, deadletter.HeaderErrorReason))
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if got := e.committed(cfg.Stream.Group, topic)[0]; got != 81 {
				t.Fatalf("committed offset %d after a clean stop, want 81, past the batch", got)
			}

			// Restarted where the commit says, the scorer starts after the
			// batch: the next record is scored, the batch not met again.
			produce(good(2)) // offset 81
			_, stop = e.start(cfg)
			testkit.WaitFor(t, "the record after the batch is scored", func() bool {
				for _, r := range consume(3, topic+".scored", cfg.Stream.DeadLetterTopic) {
					if sourceOf(r) == topic+"/0@81" {
						return true
					}
				}
				return false
			})
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if got := e.committed(cfg.Stream.Group, topic)[0]; got != 82 {
				t.Fatalf("committed offset %d after the second stop, want 82", got)
			}
		})
	}
}
