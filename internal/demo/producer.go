package demo

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/serde"
)

// producer offers sample readings, and a message for every fourth reading,
// at a steady rate, with a bad record of each kind in turn mixed in, so the
// dead-letter topic has something to show. Each good reading also goes,
// with its label, to the history the trainer learns from, and its label
// alone to the labels topic labelDelay later: the truth comes late, as it
// does when someone checks the machine. After shiftAfter the readings
// shift (sample.Sensors.Shift).
type producer struct {
	client     *kgo.Client
	sensors    *sample.Sensors
	texts      *sample.Texts
	codecs     producerCodecs
	rate       int
	badEvery   int
	labelDelay time.Duration
	shiftAfter time.Duration
	// runID tells this run's keys from an earlier run's: the label join
	// joins on the key.
	runID       string
	n, messages int
	pending     []pendingLabel // oldest first

	// shiftedAt is when the readings shifted, in Unix nanoseconds; 0
	// before. The view reads it.
	shiftedAt atomic.Int64
	// acked counts the records offered for scoring, kept the labelled
	// copies written to the history, labels the labels; failed the
	// records of any kind the broker refused.
	acked, kept, labels, failed atomic.Int64
}

// Topics the producer writes to for scoring.
const (
	sensorTopic  = "sensors"
	messageTopic = "messages"
)

// shiftDegrees is how far the temperature shifts: about three standard
// deviations of a normal reading, so the model trained before the shift
// takes a fifth of the normal readings after it for overheating machines.
const shiftDegrees = 8.0

// producerCodecs are the schemas the producer writes, with their ids.
type producerCodecs struct {
	sensor, history, label, text codec
}

// codec is a compiled schema and the id the registry gave it.
type codec struct {
	*goavro.Codec
	id uint32
}

// pendingLabel is a reading's truth, waiting to be told.
type pendingLabel struct {
	key     []byte
	anomaly bool
	due     time.Time
}

func newProducer(brokers []string, codecs producerCodecs, cfg Config) (*producer, error) {
	client, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(0))
	if err != nil {
		return nil, fmt.Errorf("producer: %w", err)
	}
	now := time.Now()
	seed := uint64(now.UnixNano())
	return &producer{client: client, codecs: codecs,
		rate: cfg.Rate, badEvery: cfg.BadEvery, labelDelay: cfg.LabelDelay, shiftAfter: cfg.ShiftAfter,
		runID:   strconv.FormatInt(now.Unix(), 36),
		sensors: sample.NewSensors(seed, 200, 0.05), texts: sample.NewTexts(seed, 0.3)}, nil
}

// history writes n labelled readings to the history topic, and returns once
// they are stored: the first version's training data.
func (p *producer) history(ctx context.Context, n int) error {
	const batch = 1000
	for done := 0; done < n; {
		records := make([]*kgo.Record, 0, min(batch, n-done))
		for range cap(records) {
			p.n++
			rec, anomaly := p.sensors.Next()
			now := time.Now()
			rec["ts"], rec["anomaly"] = now, anomaly
			records = append(records, &kgo.Record{Topic: historyTopic, Key: p.key(rec), Value: frame(p.codecs.history, rec), Timestamp: now})
		}
		if err := p.client.ProduceSync(ctx, records...).FirstErr(); err != nil {
			return fmt.Errorf("history: %w", err)
		}
		done += len(records)
		p.kept.Add(int64(len(records)))
	}
	return nil
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
			if p.shiftedAt.Load() == 0 && now.Sub(start) >= p.shiftAfter {
				p.sensors.Shift(shiftDegrees)
				p.shiftedAt.Store(now.UnixNano())
			}
			due := int(now.Sub(start).Seconds() * float64(p.rate))
			for ; sent < due; sent++ {
				p.reading(ctx, now)
				if sent%4 == 0 {
					p.produce(ctx, p.nextMessage(now), &p.acked)
				}
			}
			p.tellLabels(ctx, now)
		}
	}
}

func (p *producer) produce(ctx context.Context, r *kgo.Record, acked *atomic.Int64) {
	p.client.Produce(ctx, r, func(_ *kgo.Record, err error) {
		if err != nil {
			p.failed.Add(1)
			return
		}
		acked.Add(1)
	})
}

// reading produces the next sensor record, now and then a bad one; a good
// one also to the history, and its label later.
func (p *producer) reading(ctx context.Context, now time.Time) {
	p.n++
	rec, anomaly := p.sensors.Next()
	rec["ts"] = now
	key := p.key(rec)
	r := &kgo.Record{Topic: sensorTopic, Key: key, Timestamp: now}
	if p.badEvery > 0 && p.n%p.badEvery == 0 {
		r.Value = p.badReading(rec, p.n/p.badEvery)
		p.produce(ctx, r, &p.acked)
		return
	}
	r.Value = frame(p.codecs.sensor, rec)
	p.produce(ctx, r, &p.acked)
	rec["anomaly"] = anomaly
	p.produce(ctx, &kgo.Record{Topic: historyTopic, Key: key, Value: frame(p.codecs.history, rec), Timestamp: now}, &p.kept)
	p.pending = append(p.pending, pendingLabel{key: key, anomaly: anomaly, due: now.Add(p.labelDelay)})
}

// key is a reading's record key, unique to it: the label join pairs a
// label with its prediction by key.
func (p *producer) key(rec map[string]any) []byte {
	return fmt.Appendf(nil, "%s-%s-%d", rec["device_id"], p.runID, p.n)
}

// tellLabels writes the labels that are due, stamped now: an online
// window counts a label at the time it arrived.
func (p *producer) tellLabels(ctx context.Context, now time.Time) {
	told := 0
	for _, l := range p.pending {
		if l.due.After(now) {
			break
		}
		p.produce(ctx, &kgo.Record{Topic: labelsTopic, Key: l.key, Value: frame(p.codecs.label, map[string]any{"label": l.anomaly}), Timestamp: now}, &p.labels)
		told++
	}
	p.pending = p.pending[told:]
}

// badReading returns a bad value of the kind'th kind, cycling through them.
func (p *producer) badReading(rec map[string]any, kind int) []byte {
	switch kind % 4 {
	case 0: // not written by a schema-registry serializer
		return []byte(fmt.Sprintf(`{"device_id":%q,"temperature":21.5}`, rec["device_id"]))
	case 1: // a schema id the registry never issued
		return frame(codec{p.codecs.sensor.Codec, p.codecs.sensor.id + 1000}, rec)
	case 2: // a sensor that reports NaN
		rec["temperature"] = math.NaN()
		return frame(p.codecs.sensor, rec)
	default: // cut off in transit
		v := frame(p.codecs.sensor, rec)
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
	return &kgo.Record{Topic: messageTopic, Key: []byte(rec["id"].(string)), Value: frame(p.codecs.text, rec), Timestamp: now}
}

// frame is rec in the schema registry's wire format.
func frame(c codec, rec map[string]any) []byte {
	b, err := c.BinaryFromNative(serde.AppendFrame(nil, c.id), rec)
	if err != nil {
		panic(fmt.Sprintf("sample record does not fit its own schema: %v", err)) // a bug in package sample or here
	}
	return b
}

func (p *producer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p.client.Flush(ctx)
	p.client.Close()
}
