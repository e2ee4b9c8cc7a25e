package scorer_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/sample"
)

// TestRebalanceAndRestartLoseNothing runs a stream through membership
// changes: a second scorer joins mid-stream (partitions move), the first one
// stops (SIGTERM-like: its context ends), and a third starts later from the
// committed offsets. Every input must have an output, and since each
// hand-over drains and commits, none may have two.
func TestRebalanceAndRestartLoseNothing(t *testing.T) {
	// Waves are large enough that the first scorer is still scoring when
	// the second joins, so the revocation finds results in flight.
	const topic, perWave = "handover", 20000
	e := newEnv(t, topic)
	id, codec := e.register(topic+"-value", sensorSchema)
	gen := sample.NewSensors(11, 40, 0.05)
	wave := func() {
		records := make([]*kgo.Record, perWave)
		for i := range records {
			rec, _ := gen.Next()
			records[i] = &kgo.Record{Topic: topic, Key: []byte(rec["device_id"].(string)), Value: frame(t, id, codec, rec)}
		}
		e.produce(records...)
	}
	cfg := e.config(topic)

	wave()
	_, stopFirst := e.start(cfg)
	e.consumeUntil(perWave/4, topic+".scored") // the first scorer is mid-stream
	_, stopSecond := e.start(cfg)              // joins: partitions are revoked and reassigned
	wave()
	if err := stopFirst(); err != nil {
		t.Fatalf("first scorer: %v", err)
	}
	wave()
	e.consumeUntil(3*perWave, topic+".scored")
	if err := stopSecond(); err != nil {
		t.Fatalf("second scorer: %v", err)
	}
	wave() // nobody is consuming: these wait for the next scorer
	_, stopThird := e.start(cfg)
	outputs := e.consumeUntil(4*perWave, topic+".scored")
	if err := stopThird(); err != nil {
		t.Fatalf("third scorer: %v", err)
	}

	seen := map[string]int{}
	for _, out := range outputs {
		seen[sourceOf(out)]++
	}
	if got := e.consumeAvailable(topic + ".scored"); len(got) != 4*perWave {
		t.Fatalf("output topic holds %d records for %d inputs", len(got), 4*perWave)
	}
	for src, n := range seen {
		if n != 1 {
			t.Errorf("input %s has %d outputs", src, n)
		}
	}
	if len(seen) != 4*perWave {
		t.Fatalf("%d of %d inputs have an output", len(seen), 4*perWave)
	}
}
