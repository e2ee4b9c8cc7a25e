package stream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streamscore/streamscore/internal/deadletter"
)

// A compression bomb is a record batch of a few kilobytes that inflates to
// gigabytes when decompressed. franz-go refuses to decompress a batch past
// Config.MaxDecompressedBatchBytes: it returns ErrDecompressTooLarge and
// stops fetching the partition until its offset is moved past the batch.
// The scorer turns such a batch into one input of its own: a record with
// no value, the batch's last offset and the error, which goes down the
// partition's run like any record (held back behind the registry with the
// others, inside the transaction, through the tracker), so its dead letter
// is produced in order and its offsets commit only once it is
// acknowledged.

// oversizeKey marks, in a record's context, the batch it stands for.
type oversizeKey struct{}

// oversizeBatches returns a record standing for each batch of fetches
// that was too large to decompress.
func oversizeBatches(fetches kgo.Fetches, at time.Time) []*kgo.Record {
	var out []*kgo.Record
	fetches.EachError(func(_ string, _ int32, err error) {
		var big *kgo.ErrDecompressTooLarge
		if errors.As(err, &big) {
			out = append(out, &kgo.Record{
				Topic: big.Topic, Partition: big.Partition, Offset: big.NextOffset - 1, LeaderEpoch: big.Epoch,
				Timestamp: at, Context: context.WithValue(context.Background(), oversizeKey{}, big),
			})
		}
	})
	return out
}

// hasOversizeBatch reports whether fetches hold a batch too large to
// decompress.
func hasOversizeBatch(fetches kgo.Fetches) bool {
	found := false
	fetches.EachError(func(_ string, _ int32, err error) {
		var big *kgo.ErrDecompressTooLarge
		found = found || errors.As(err, &big)
	})
	return found
}

// oversizeBatchOf returns the batch a record stands for, if it stands for
// one.
func oversizeBatchOf(rec *kgo.Record) *kgo.ErrDecompressTooLarge {
	if rec.Context == nil {
		return nil
	}
	big, _ := rec.Context.Value(oversizeKey{}).(*kgo.ErrDecompressTooLarge)
	return big
}

// oversizeDeadLetter is the dead letter of a batch: no value, the source
// coordinates of its last offset, and its first offset in a header.
func oversizeDeadLetter(topic string, rec *kgo.Record, seg *segment, big *kgo.ErrDecompressTooLarge, limit int) result {
	res := deadLetter(topic, rec, seg, fmt.Errorf("%w: the record batch at offsets %d to %d would decompress to more than %d bytes (max-decompressed-batch-bytes); it was skipped without decompressing",
		deadletter.ErrOversizeBatch, big.Offset, big.NextOffset-1, limit))
	res.out.Headers = append(res.out.Headers, kgo.RecordHeader{Key: deadletter.HeaderSourceFirstOffset, Value: []byte(strconv.FormatInt(big.Offset, 10))})
	return res
}

// resumeAfter is where fetching resumes for each batch skipped.
func resumeAfter(skipped []*kgo.Record) map[string]map[int32]kgo.EpochOffset {
	resume := map[string]map[int32]kgo.EpochOffset{}
	for _, rec := range skipped {
		big := oversizeBatchOf(rec)
		if resume[big.Topic] == nil {
			resume[big.Topic] = map[int32]kgo.EpochOffset{}
		}
		resume[big.Topic][big.Partition] = kgo.EpochOffset{Epoch: big.Epoch, Offset: big.NextOffset}
	}
	return resume
}

// commitSkipped makes a transaction's offset commit carry each skipped
// batch's end. Exactly once the partition is moved past a batch only once
// the transaction holding its dead letter commits (an abort must meet the
// batch again), so without this the transaction would commit the batch's
// first offset, and a scorer stopped before the partition's next record
// would dead-letter the batch twice.
func commitSkipped(skipped []*kgo.Record) func(*kmsg.TxnOffsetCommitRequest) error {
	return func(req *kmsg.TxnOffsetCommitRequest) error {
		for _, rec := range skipped {
			big := oversizeBatchOf(rec)
			t := slices.IndexFunc(req.Topics, func(t kmsg.TxnOffsetCommitRequestTopic) bool { return t.Topic == big.Topic })
			if t < 0 {
				topic := kmsg.NewTxnOffsetCommitRequestTopic()
				topic.Topic = big.Topic
				req.Topics = append(req.Topics, topic)
				t = len(req.Topics) - 1
			}
			parts := &req.Topics[t].Partitions
			p := slices.IndexFunc(*parts, func(p kmsg.TxnOffsetCommitRequestTopicPartition) bool { return p.Partition == big.Partition })
			if p < 0 {
				part := kmsg.NewTxnOffsetCommitRequestTopicPartition()
				part.Partition = big.Partition
				*parts = append(*parts, part)
				p = len(*parts) - 1
			}
			(*parts)[p].Offset, (*parts)[p].LeaderEpoch = big.NextOffset, big.Epoch
		}
		return nil
	}
}
