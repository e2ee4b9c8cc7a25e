package main

import (
	"context"
	_ "embed"
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"
)

// historySchema is the value schema of the history topic: the ten features
// of drawRow as doubles, in order, and the 0/1 label as an int.
//
//go:embed testdata/history.avsc
var historySchema string

// historyFeatures name historySchema's features in drawRow's order.
var historyFeatures = [numFeatures]string{
	"amount", "past_events", "utilisation", "score", "season",
	"score_partner", "category", "age", "noise_normal", "noise_uniform",
}

const historyLabel = "label"

// historyEpoch is the timestamp of the history's first record; record i
// is i milliseconds later, whatever its partition, so the trainer's
// time-ordered holdout is the same rows at every run.
var historyEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// historyValueSize is the length of one framed value: magic byte, schema
// id, ten doubles and a one-byte label.
const historyValueSize = 1 + 4 + 8*numFeatures + 1

// appendHistoryValue appends one row as a Confluent-framed Avro value of
// historySchema: magic byte 0, the schema id big-endian, each double as 8
// bytes little-endian, the int label as a zig-zag varint. Written by hand
// because goavro would cost more than the broker for 10M rows; the test
// decodes it with goavro.
func appendHistoryValue(dst []byte, schemaID uint32, x *[numFeatures]float64, label float64) []byte {
	dst = append(dst, 0)
	dst = binary.BigEndian.AppendUint32(dst, schemaID)
	for _, v := range x {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
	}
	return binary.AppendVarint(dst, int64(label)) // Avro's int is Go's zig-zag varint
}

// produceHistory produces n rows to topic, round-robin over partitions:
// row i, drawn by partition i mod partitions from its own seeded generator,
// goes to that partition with timestamp historyEpoch + i ms. One goroutine
// per partition draws and encodes; franz-go batches and compresses.
func produceHistory(ctx context.Context, cl *kgo.Client, topic string, schemaID uint32, n, partitions int) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var once sync.Once
	var produceErr error
	promise := func(r *kgo.Record, err error) {
		if err != nil {
			once.Do(func() { produceErr = fmt.Errorf("produce to %s[%d]: %w", r.Topic, r.Partition, err) })
			cancel(err)
		}
	}
	// Records carry ctx, not the group's, which ends when the group does,
	// before they are all sent.
	var g errgroup.Group
	for p := range partitions {
		g.Go(func() error {
			rng := newRand(uint64(1000 + p))
			var x [numFeatures]float64
			var slab []byte // values are cut from slabs: one allocation per 4096 rows
			for i := p; i < n; i += partitions {
				if ctx.Err() != nil {
					return context.Cause(ctx)
				}
				label := drawRow(rng, &x, false)
				if cap(slab)-len(slab) < historyValueSize {
					slab = make([]byte, 0, 4096*historyValueSize)
				}
				start := len(slab)
				slab = appendHistoryValue(slab, schemaID, &x, label)
				cl.Produce(ctx, &kgo.Record{
					Topic:     topic,
					Partition: int32(p),
					Timestamp: historyEpoch.Add(time.Duration(i) * time.Millisecond),
					Value:     slab[start:len(slab):len(slab)],
				}, promise)
			}
			return nil
		})
	}
	err := g.Wait()
	if flushErr := cl.Flush(ctx); err == nil {
		err = flushErr
	}
	if produceErr != nil {
		return produceErr
	}
	return err
}
