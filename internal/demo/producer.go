package demo

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/schemas"
)

// producer offers sample readings at a steady rate, with a bad record of
// each kind in turn mixed in, so the dead-letter topic has something to show.
type producer struct {
	client   *kgo.Client
	codec    *goavro.Codec
	schemaID uint32
	rate     int
	badEvery int
	gen      *sample.Sensors
	n        int
	acked    atomic.Int64
	failed   atomic.Int64
}

func newProducer(brokers []string, schemaID uint32, rate, badEvery int) (*producer, error) {
	client, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(SensorTopic), kgo.ProducerLinger(0))
	if err != nil {
		return nil, fmt.Errorf("producer: %w", err)
	}
	codec, err := goavro.NewCodec(schemas.SensorReading)
	if err != nil {
		return nil, err
	}
	return &producer{client: client, codec: codec, schemaID: schemaID, rate: rate, badEvery: badEvery,
		gen: sample.NewSensors(uint64(time.Now().UnixNano()), 200, 0.05)}, nil
}

// run produces until ctx ends, in ticks of 10 ms.
func (p *producer) run(ctx context.Context) error {
	const tick = 10 * time.Millisecond
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	start, sent := time.Now(), 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-ticker.C:
			due := int(now.Sub(start).Seconds() * float64(p.rate))
			for ; sent < due; sent++ {
				p.client.Produce(ctx, p.next(now), func(_ *kgo.Record, err error) {
					if err != nil {
						p.failed.Add(1)
						return
					}
					p.acked.Add(1)
				})
			}
		}
	}
}

// next returns the next record, now and then a bad one.
func (p *producer) next(now time.Time) *kgo.Record {
	p.n++
	rec, _ := p.gen.Next()
	rec["ts"] = now
	key := []byte(rec["device_id"].(string))
	if p.badEvery > 0 && p.n%p.badEvery == 0 {
		return &kgo.Record{Key: key, Value: p.bad(rec, p.n/p.badEvery), Timestamp: now}
	}
	return &kgo.Record{Key: key, Value: p.frame(p.schemaID, rec), Timestamp: now}
}

// bad returns a bad value of the kind'th kind, cycling through them.
func (p *producer) bad(rec map[string]any, kind int) []byte {
	switch kind % 4 {
	case 0: // not written by a schema-registry serializer
		return []byte(fmt.Sprintf(`{"device_id":%q,"temperature":21.5}`, rec["device_id"]))
	case 1: // a schema id the registry never issued
		return p.frame(p.schemaID+1000, rec)
	case 2: // a sensor that reports NaN
		rec["temperature"] = math.NaN()
		return p.frame(p.schemaID, rec)
	default: // cut off in transit
		v := p.frame(p.schemaID, rec)
		return v[:len(v)/2]
	}
}

func (p *producer) frame(id uint32, rec map[string]any) []byte {
	b := binary.BigEndian.AppendUint32([]byte{0}, id)
	b, err := p.codec.BinaryFromNative(b, rec)
	if err != nil {
		panic(fmt.Sprintf("sample reading does not fit its own schema: %v", err)) // a bug in package sample
	}
	return b
}

func (p *producer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p.client.Flush(ctx)
	p.client.Close()
}
