package scorer_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/sample"
)

// TestNearMegabyteRecordIsDeadLetteredWithoutStalling sends a record that
// Kafka accepts but that is over the scorer's limit, then a good one: the
// big one must be dead-lettered, without its value (which would not fit
// again with headers), and the stream must go on.
func TestNearMegabyteRecordIsDeadLetteredWithoutStalling(t *testing.T) {
	const topic = "large"
	e := newEnv(t, topic)
	id, codec := e.register(topic+"-value", sensorSchema)
	rec, _ := sample.NewSensors(8, 1, 0).Next()
	big := make([]byte, 990_000)
	e.produce(
		&kgo.Record{Topic: topic, Key: []byte("k"), Value: big},
		&kgo.Record{Topic: topic, Key: []byte("k"), Value: frame(t, id, codec, rec)},
	)
	_, stop := e.start(e.config(topic))
	results := e.consumeUntil(2, topic+".scored", topic+".dlq")
	if err := stop(); err != nil {
		t.Fatalf("scorer stopped with %v", err)
	}
	for _, r := range results {
		if r.Topic != topic+".dlq" {
			continue
		}
		if header(r, deadletter.HeaderErrorClass) != deadletter.Oversize || len(r.Value) != 0 ||
			header(r, deadletter.HeaderValueDropped) != "990000" {
			t.Fatalf("dead letter: class %q, %d value bytes, dropped %q", header(r, deadletter.HeaderErrorClass),
				len(r.Value), header(r, deadletter.HeaderValueDropped))
		}
		return
	}
	t.Fatal("the large record was not dead-lettered")
}
