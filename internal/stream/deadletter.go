package stream

// Dead letters: a record that cannot be scored goes to the dead-letter
// topic unchanged, with headers naming why and where it came from.

import (
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/deadletter"
)

// deadLetter returns the record unchanged, bound for the dead-letter topic,
// with headers naming the error class, the reason and the source. A value
// too large to produce again (only an oversize record can be) is left out,
// and its size noted, and the reason is cut to deadletter.MaxReasonBytes, so the dead
// letter itself cannot fail and always carries its class.
func deadLetter(topic string, rec *kgo.Record, seg *segment, err error) result {
	reason := deadletter.Classify(err)
	headers, _ := appendSourceHeaders(make([]kgo.RecordHeader, 0, len(rec.Headers)+6), nil, rec)
	headers = append(headers,
		kgo.RecordHeader{Key: deadletter.HeaderErrorClass, Value: []byte(reason)},
		kgo.RecordHeader{Key: deadletter.HeaderErrorReason, Value: []byte(deadletter.CapReason(err.Error()))},
	)
	value := rec.Value
	if len(value) > DefaultMaxRecordBytes {
		headers = append(headers, kgo.RecordHeader{Key: deadletter.HeaderValueDropped, Value: []byte(strconv.Itoa(len(value)))})
		value = nil
	}
	return result{source: rec, seg: seg, reason: reason, out: &kgo.Record{
		Topic:     topic,
		Key:       rec.Key,
		Value:     value,
		Headers:   headers,
		Timestamp: rec.Timestamp,
	}}
}
