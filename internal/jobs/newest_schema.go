package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/serde"
)

// newestSchema is the writer schema of the newest record at the end of a
// topic's partitions ("" when none can be decoded): what a runner without
// a registry client checks a job against.
func newestSchema(ctx context.Context, kafkaOpts []kgo.Opt, dec Decoder, src catalog.Source, field string) (string, uint32, error) {
	topic := src.Topic
	admin, err := kgo.NewClient(kafkaOpts...)
	if err != nil {
		return "", 0, err
	}
	ends, err := kadm.NewClient(admin).ListCommittedOffsets(ctx, topic)
	admin.Close()
	if err == nil {
		err = ends.Error()
	}
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return "", 0, fmt.Errorf("%w: %s.topic: %q does not exist", fit.ErrInvalidOptions, field, topic)
	}
	if err != nil {
		return "", 0, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	var last []catalog.OffsetRange
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			last = append(last, catalog.OffsetRange{Partition: o.Partition, Start: o.Offset - 1, End: o.Offset})
		}
	})
	if len(last) == 0 {
		return "", 0, nil
	}
	var (
		newest time.Time
		text   string
		id     uint32
	)
	_, err = scan(ctx, kafkaOpts, dec, catalog.Source{Topic: topic, Ranges: last}, field, nil, nil, func(rec *kgo.Record, d serde.Decoded) error {
		if text == "" || rec.Timestamp.After(newest) {
			newest, text, id = rec.Timestamp, d.Checked.Schema.Text, d.Checked.SchemaID
		}
		return nil
	})
	if err != nil {
		return "", 0, err
	}
	return text, id, nil
}
