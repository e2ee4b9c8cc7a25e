package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/connect"
	"github.com/streamscore/streamscore/internal/deadletter"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/serde"
)

// Decoder decodes a framed Avro value through the schema registry;
// *serde.Decoder is the one in use, as in the scorer.
type Decoder interface {
	Decode(value []byte) (serde.Decoded, error)
}

// History is what was read from a topic.
type History struct {
	// Rows are the decoded records, oldest first (by record timestamp, then
	// partition and offset), so the last ones make a time-ordered holdout.
	// Only Read keeps them; ReadTraining keeps a fit.Table instead.
	Rows []map[string]any
	// Ranges are the offsets that were read, per partition, to store with
	// the version trained on them.
	Ranges []catalog.OffsetRange
	// Records counts the records read; Skipped those that could not be
	// decoded, by dead-letter class, as the scorer would name them.
	Records int
	Skipped map[string]int
	// Unusable counts (ReadTraining) decoded records that a model cannot
	// train on, by reason (bad_label, missing_feature, mixed_label_kind,
	// ...); SampledOut the usable ones left out by the Sample budget.
	Unusable   map[string]int
	SampledOut int

	table *fit.Table
}

// Len is the number of rows kept: records, or mapped rows.
func (h *History) Len() int {
	if h.table != nil {
		return h.table.Len()
	}
	return len(h.Rows)
}

// ReadProgress is told how far a read is: records read so far (data
// records, in or out of the time window; not transaction markers), and
// passed of total, the offsets between the start and end offsets known
// when the read began. Offsets that hold no record to read (compaction
// gaps, aborted transactions, markers) are passed but not read, so
// records may end below total while passed ends at total.
type ReadProgress func(records, passed, total int64)

// Read reads a bounded slice of a topic: every record from the start
// offsets to the end offsets as they are when Read begins, so a topic that
// keeps growing still gives a finite history. Committed records only: a
// transaction still open is waited for, an aborted one is left out.
//
// src's window and ranges combine. Kafka turns src.From into the offset
// reading starts at: every record before the first stamped at or after
// From is older than From. To cannot end the read so: a record written
// after the first stamped at or after To may still be stamped before To
// (producers' clocks differ), so the records after it are read and each is
// held to the window; only the room reserved for rows is bounded by To's
// offset (readBounds).
//
// Read keeps every decoded record, about 1 KB each: it is for tools that
// need the records themselves. A training reads with ReadTraining.
func Read(ctx context.Context, kafkaOpts []kgo.Opt, dec Decoder, src catalog.Source) (*History, error) {
	type read struct {
		row       map[string]any
		ts        time.Time
		partition int32
		offset    int64
	}
	var rows []read
	h, err := scan(ctx, kafkaOpts, dec, src, sourceField, nil, nil, func(rec *kgo.Record, decoded serde.Decoded) error {
		rows = append(rows, read{decoded.Record, rec.Timestamp, rec.Partition, rec.Offset})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(rows, func(a, b read) int {
		return cmp.Or(a.ts.Compare(b.ts), cmp.Compare(a.partition, b.partition), cmp.Compare(a.offset, b.offset))
	})
	h.Rows = make([]map[string]any, len(rows))
	for i, r := range rows {
		h.Rows[i] = r.row
	}
	return h, nil
}

// ReadConfig tunes ReadTraining.
type ReadConfig struct {
	// Extra are features of another model (the champion) to keep raw
	// beside the model's own, so that it can be judged on the same rows:
	// those the model does not read the same way (see fit.ExtraFeatures).
	Extra []model.Feature
	// ExtraAllowNonFinite is that model's Spec.AllowNonFinite: whether its
	// scorer takes a NaN or infinite value of Extra or refuses the record.
	ExtraAllowNonFinite bool
	// Progress, when set, is told how far the read is after every fetch.
	Progress ReadProgress
	// labelKind, when set, is the label kind rows must have (a test
	// source's rows are held to the training rows' kind).
	labelKind fit.LabelKind
	// field is how errors name the source: sourceField when empty.
	field string
}

// How errors name a job's sources.
const (
	sourceField     = "source"
	testSourceField = "test_source"
)

// ReadTraining reads src as Read does, but maps each record as it arrives
// into the columns opts train on (a fit.Table), through the same mapping
// the scorer serves with, and keeps no record. Records that cannot be
// mapped are counted in Unusable; with opts.Sample, at most MaxRows rows
// are kept while reading. Rows are in Read's order. A classifier's label
// with more distinct values than a model takes (MaxClasses) stops the
// read with an error.
func ReadTraining(ctx context.Context, kafkaOpts []kgo.Opt, dec Decoder, src catalog.Source, opts fit.Options, cfg ReadConfig) (*History, error) {
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	var t *fit.Table
	ready := func(expect int) (err error) {
		tc := fit.TableConfig{Extra: cfg.Extra, ExtraAllowNonFinite: cfg.ExtraAllowNonFinite, LabelKind: cfg.labelKind}
		t, err = fit.NewTable(opts, tc, expect)
		return err
	}
	field := cmp.Or(cfg.field, sourceField)
	h, err := scan(ctx, kafkaOpts, dec, src, field, cfg.Progress, ready, func(rec *kgo.Record, decoded serde.Decoded) error {
		return t.Add(decoded.Record, rec.Timestamp.UnixMilli(), rec.Partition, rec.Offset)
	})
	if err != nil {
		return nil, err
	}
	t.Finish()
	h.table, h.Unusable, h.SampledOut = t, t.Unusable(), t.SampledOut()
	return h, nil
}

// FitHistory is fit.FitTable on histories read by ReadTraining, which it
// consumes: see there.
func FitHistory(ctx context.Context, name string, opts fit.Options, h, test *History, progress fit.Progress) (*fit.Result, error) {
	if h.table == nil || (test != nil && test.table == nil) {
		return nil, errors.New("fit: the history was not read by ReadTraining")
	}
	var tt *fit.Table
	if test != nil {
		tt = test.table
	}
	return fit.FitTable(ctx, name, opts, h.table, tt, progress)
}

// scan reads src's bounded slice and hands every decoded record to visit,
// which may stop the read with an error; before the first, ready (if not
// nil) learns how many records of the window there are at most, bar
// records stamped out of order (readBounds). Errors name src as field
// ("source", "test_source").
// Records that cannot be decoded are counted in the History.
func scan(ctx context.Context, kafkaOpts []kgo.Opt, dec Decoder, src catalog.Source, field string, progress ReadProgress,
	ready func(expect int) error, visit func(*kgo.Record, serde.Decoded) error) (*History, error) {
	if src.Topic == "" {
		return nil, fmt.Errorf("%w: %s.topic: is required", fit.ErrInvalidOptions, field)
	}
	admin, err := kgo.NewClient(kafkaOpts...)
	if err != nil {
		return nil, err
	}
	bounds, expect, err := readBounds(ctx, kadm.NewClient(admin), src, field)
	admin.Close()
	if err != nil {
		return nil, err
	}
	h := &History{Skipped: map[string]int{}}
	offsets := map[int32]kgo.Offset{}
	pending := map[int32]int64{} // partition -> end offset still to reach
	next := map[int32]int64{}    // partition -> the offset after those passed
	// records are the data records read; passed the offsets gone past, of
	// total.
	var records, passed, total int64
	for _, r := range bounds {
		if r.End > r.Start {
			offsets[r.Partition] = kgo.NewOffset().At(r.Start)
			pending[r.Partition] = r.End
			next[r.Partition] = r.Start
			h.Ranges = append(h.Ranges, r)
			total += r.End - r.Start
		}
	}
	if ready != nil {
		if err := ready(int(expect)); err != nil {
			return nil, err
		}
	}
	report := func() {
		if progress != nil {
			progress(records, passed, total)
		}
	}
	// pass moves partition p's position to offset to, finishing the
	// partition at its end offset.
	pass := func(p int32, to int64) {
		end := pending[p]
		to = min(to, end)
		passed += to - next[p]
		next[p] = to
		if to >= end {
			delete(pending, p)
		}
	}
	if len(pending) == 0 {
		report()
		return h, nil
	}

	opts := append(slices.Clone(kafkaOpts),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{src.Topic: offsets}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Control records mark transactions' ends; keeping them lets a
		// partition whose last offset is a marker be seen to be finished.
		kgo.KeepControlRecords(),
		// A batch that would decompress past this (a compression bomb)
		// is skipped and counted, as the scorer skips it.
		kgo.MaxDecompressBatchBytes(connect.DefaultMaxDecompressedBatchBytes),
	)
	client, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	defer client.Close()

	for len(pending) > 0 {
		fetches := client.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, big := range oversizeBatches(fetches) {
			if _, wanted := pending[big.Partition]; !wanted {
				continue
			}
			h.Records++ // the batch counts as one record, as in the scorer
			h.Skipped[deadletter.OversizeBatch]++
			records++
			pass(big.Partition, big.NextOffset)
			if _, wanted := pending[big.Partition]; wanted {
				client.SetOffsets(map[string]map[int32]kgo.EpochOffset{big.Topic: {big.Partition: {Epoch: big.Epoch, Offset: big.NextOffset}}})
			}
		}
		if err := fetchError(fetches); err != nil {
			return nil, fmt.Errorf("read %s: %w", src.Topic, err)
		}
		for rec := range fetches.RecordsAll() {
			if _, wanted := pending[rec.Partition]; !wanted {
				continue
			}
			// A record at or past the end (the offsets before it compacted
			// away) finishes its partition without being read.
			pass(rec.Partition, rec.Offset+1)
			if rec.Offset >= next[rec.Partition] {
				continue
			}
			if rec.Attrs.IsControl() {
				continue
			}
			records++
			if !inWindow(rec.Timestamp, src) {
				continue
			}
			h.Records++
			var decoded serde.Decoded
			err := deadletter.Guard(func() (err error) {
				decoded, err = dec.Decode(rec.Value)
				return err
			})
			if errors.Is(err, serde.ErrRegistryUnavailable) {
				return nil, fmt.Errorf("read %s: %w", src.Topic, err)
			}
			if err != nil {
				h.Skipped[deadletter.Classify(err)]++
				continue
			}
			if err := visit(rec, decoded); err != nil {
				return nil, fmt.Errorf("read %s: %w", src.Topic, err)
			}
		}
		report()
	}
	return h, nil
}

func inWindow(ts time.Time, src catalog.Source) bool {
	return (src.From.IsZero() || !ts.Before(src.From)) && (src.To.IsZero() || ts.Before(src.To))
}

// fetchError returns the first fetch error that is not a passing state or
// a batch too large to decompress (oversizeBatches).
func fetchError(fetches kgo.Fetches) error {
	var first error
	fetches.EachError(func(_ string, _ int32, err error) {
		if first == nil && !errors.Is(err, context.Canceled) && !errors.Is(err, kgo.ErrMaxDecompress) {
			first = err
		}
	})
	return first
}

// oversizeBatches returns the batches of fetches that would decompress
// past the bound; franz-go fetches their partitions no more until moved
// past them.
func oversizeBatches(fetches kgo.Fetches) []*kgo.ErrDecompressTooLarge {
	var out []*kgo.ErrDecompressTooLarge
	fetches.EachError(func(_ string, _ int32, err error) {
		var big *kgo.ErrDecompressTooLarge
		if errors.As(err, &big) {
			out = append(out, big)
		}
	})
	return out
}

// readBounds turns a Source into the offset range to read per partition:
// the committed log's start and end, narrowed by the start of the time
// window and by explicit ranges. expect is how many of those offsets can
// hold a record of the window, as tightly as Kafka can tell: the ranges
// cut at the first offset stamped at or after To. A read reserves room
// for that many rows (fit.NewTable); only records stamped before To but
// written after that offset are past it.
func readBounds(ctx context.Context, admin *kadm.Client, src catalog.Source, field string) (ranges []catalog.OffsetRange, expect int64, err error) {
	starts, err := admin.ListStartOffsets(ctx, src.Topic)
	if err == nil {
		err = starts.Error()
	}
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return nil, 0, fmt.Errorf("%w: %s.topic: %q does not exist", fit.ErrInvalidOptions, field, src.Topic)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("list offsets of %s: %w", src.Topic, err)
	}
	ends, err := admin.ListCommittedOffsets(ctx, src.Topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, 0, fmt.Errorf("list offsets of %s: %w", src.Topic, err)
	}
	if len(starts[src.Topic]) == 0 {
		return nil, 0, fmt.Errorf("%w: %s.topic: %q does not exist", fit.ErrInvalidOptions, field, src.Topic)
	}
	// The first offset stamped at or after From starts the read: no record
	// before it is that recent. The first stamped at or after To bounds
	// the window's records, bar those stamped out of order (see Read).
	fromOffsets, err := offsetsAt(ctx, admin, src.Topic, src.From)
	if err != nil {
		return nil, 0, err
	}
	toOffsets, err := offsetsAt(ctx, admin, src.Topic, src.To)
	if err != nil {
		return nil, 0, err
	}

	for p, start := range starts[src.Topic] {
		r := catalog.OffsetRange{Partition: p, Start: start.Offset, End: ends[src.Topic][p].Offset}
		// A time past the last record lists as -1, or as the end offset
		// (kadm's fallback), which may be past the committed end.
		if o, ok := fromOffsets.Lookup(src.Topic, p); ok {
			r.Start = max(r.Start, orEnd(o.Offset, r.End))
		}
		if len(src.Ranges) > 0 {
			i := slices.IndexFunc(src.Ranges, func(x catalog.OffsetRange) bool { return x.Partition == p })
			if i < 0 {
				continue
			}
			r.Start, r.End = max(r.Start, src.Ranges[i].Start), min(r.End, src.Ranges[i].End)
		}
		windowEnd := r.End
		if o, ok := toOffsets.Lookup(src.Topic, p); ok {
			windowEnd = min(windowEnd, orEnd(o.Offset, r.End))
		}
		expect += max(0, windowEnd-r.Start)
		ranges = append(ranges, r)
	}
	for _, want := range src.Ranges {
		if _, ok := starts[src.Topic][want.Partition]; !ok {
			return nil, 0, fmt.Errorf("%w: %s.ranges: %s has no partition %d", fit.ErrInvalidOptions, field, src.Topic, want.Partition)
		}
	}
	slices.SortFunc(ranges, func(a, b catalog.OffsetRange) int { return cmp.Compare(a.Partition, b.Partition) })
	return ranges, expect, nil
}

// offsetsAt lists the first offset stamped at or after t in each of
// topic's partitions; nothing for a zero t.
func offsetsAt(ctx context.Context, admin *kadm.Client, topic string, t time.Time) (kadm.ListedOffsets, error) {
	if t.IsZero() {
		return nil, nil
	}
	listed, err := admin.ListOffsetsAfterMilli(ctx, t.UnixMilli(), topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list offsets of %s after %s: %w", topic, t, err)
	}
	return listed, nil
}

func orEnd(offset, end int64) int64 {
	if offset < 0 {
		return end
	}
	return offset
}

// ClassCounts counts a classifier's rows by class name (ReadTraining's;
// nil for a regressor or a history of records): what a Sample kept.
func (h *History) ClassCounts() map[string]int {
	if h.table == nil {
		return nil
	}
	return h.table.ClassCounts()
}
