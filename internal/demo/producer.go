package demo

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/schemas"
)

// producer offers sample readings, and a message for every fourth reading,
// at a steady rate, with a bad record of each kind in turn mixed in, so the
// dead-letter topic has something to show.
type producer struct {
	client           *kgo.Client
	sensorCodec      *goavro.Codec
	textCodec        *goavro.Codec
	sensorID, textID uint32
	rate             int
	badEvery         int
	sensors          *sample.Sensors
	texts            *sample.Texts
	n, messages      int
	acked            atomic.Int64
	failed           atomic.Int64
}

// Topics the producer writes to.
const (
	sensorTopic  = "sensors"
	messageTopic = "messages"
)

func newProducer(brokers []string, sensorID, textID uint32, rate, badEvery int) (*producer, error) {
	client, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(0))
	if err != nil {
		return nil, fmt.Errorf("producer: %w", err)
	}
	sensorCodec, err := goavro.NewCodec(schemas.SensorReading)
	if err != nil {
		return nil, err
	}
	textCodec, err := goavro.NewCodec(schemas.TextMessage)
	if err != nil {
		return nil, err
	}
	seed := uint64(time.Now().UnixNano())
	return &producer{client: client, sensorCodec: sensorCodec, textCodec: textCodec,
		sensorID: sensorID, textID: textID, rate: rate, badEvery: badEvery,
		sensors: sample.NewSensors(seed, 200, 0.05), texts: sample.NewTexts(seed, 0.3)}, nil
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
				p.produce(ctx, p.nextReading(now))
				if sent%4 == 0 {
					p.produce(ctx, p.nextMessage(now))
				}
			}
		}
	}
}

func (p *producer) produce(ctx context.Context, r *kgo.Record) {
	p.client.Produce(ctx, r, func(_ *kgo.Record, err error) {
		if err != nil {
			p.failed.Add(1)
			return
		}
		p.acked.Add(1)
	})
}

// nextReading returns the next sensor record, now and then a bad one.
func (p *producer) nextReading(now time.Time) *kgo.Record {
	p.n++
	rec, _ := p.sensors.Next()
	rec["ts"] = now
	r := &kgo.Record{Topic: sensorTopic, Key: []byte(rec["device_id"].(string)), Timestamp: now}
	if p.badEvery > 0 && p.n%p.badEvery == 0 {
		r.Value = p.badReading(rec, p.n/p.badEvery)
	} else {
		r.Value = frame(p.sensorCodec, p.sensorID, rec)
	}
	return r
}

// badReading returns a bad value of the kind'th kind, cycling through them.
func (p *producer) badReading(rec map[string]any, kind int) []byte {
	switch kind % 4 {
	case 0: // not written by a schema-registry serializer
		return []byte(fmt.Sprintf(`{"device_id":%q,"temperature":21.5}`, rec["device_id"]))
	case 1: // a schema id the registry never issued
		return frame(p.sensorCodec, p.sensorID+1000, rec)
	case 2: // a sensor that reports NaN
		rec["temperature"] = math.NaN()
		return frame(p.sensorCodec, p.sensorID, rec)
	default: // cut off in transit
		v := frame(p.sensorCodec, p.sensorID, rec)
		return v[:len(v)/2]
	}
}

// nextMessage returns the next text message; now and then one too long to
// classify.
func (p *producer) nextMessage(now time.Time) *kgo.Record {
	p.messages++
	rec, _ := p.texts.Next()
	rec["ts"] = now
	if p.badEvery > 0 && p.messages%p.badEvery == 0 {
		rec["text"] = strings.Repeat("an endless message ", 4000)
	}
	return &kgo.Record{Topic: messageTopic, Key: []byte(rec["id"].(string)), Value: frame(p.textCodec, p.textID, rec), Timestamp: now}
}

func frame(codec *goavro.Codec, id uint32, rec map[string]any) []byte {
	b := binary.BigEndian.AppendUint32([]byte{0}, id)
	b, err := codec.BinaryFromNative(b, rec)
	if err != nil {
		panic(fmt.Sprintf("sample record does not fit its own schema: %v", err)) // a bug in package sample
	}
	return b
}

func (p *producer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p.client.Flush(ctx)
	p.client.Close()
}
