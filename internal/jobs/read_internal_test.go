package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/embedded"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/model"
	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/internal/testkit/stackkit"
)

// jsonDecoder decodes JSON values: these tests are about offsets and
// columns, not Avro.
type jsonDecoder struct{}

func (jsonDecoder) Decode(value []byte) (serde.Decoded, error) {
	var rec map[string]any
	if err := json.Unmarshal(value, &rec); err != nil {
		return serde.Decoded{}, fmt.Errorf("%w: %w", serde.ErrBadMagic, err)
	}
	return serde.Decoded{Record: rec}, nil
}

// oneBroker is an embedded broker with one partition a topic.
func oneBroker(t *testing.T) []kgo.Opt {
	t.Helper()
	return stackkit.Start(t, embedded.Config{Partitions: 1}).KafkaOpts()
}

var base = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// at is the time of reading i: one a second.
func at(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }

// produceJSON writes one record a row, stamped as the row's "i" says.
func produceJSON(t *testing.T, kafkaOpts []kgo.Opt, topic string, rows ...map[string]any) {
	t.Helper()
	client, err := kgo.NewClient(append(kafkaOpts, kgo.AllowAutoTopicCreation())...)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	records := make([]*kgo.Record, len(rows))
	for i, row := range rows {
		value, err := json.Marshal(row)
		if err != nil {
			t.Fatal(err)
		}
		records[i] = &kgo.Record{Topic: topic, Value: value, Timestamp: at(int(row["i"].(float64)))}
	}
	stackkit.ProduceSync(t, client, records...)
}

func readings(from, to int) []map[string]any {
	var rows []map[string]any
	for i := from; i < to; i++ {
		rows = append(rows, map[string]any{"i": float64(i), "a": float64(i), "y": float64(2 * i)})
	}
	return rows
}

// TestReadReservesTheWindow reads time windows of a topic whose last
// record was written late, stamped inside the window: the room reserved
// is the window's offsets (capped by the sample), and the late record is
// still read.
func TestReadReservesTheWindow(t *testing.T) {
	kafkaOpts := oneBroker(t)
	produceJSON(t, kafkaOpts, "ordered", readings(0, 300)...)
	produceJSON(t, kafkaOpts, "late", readings(0, 300)...)
	produceJSON(t, kafkaOpts, "late", readings(150, 151)...) // offset 300
	opts := fit.Options{Family: fit.GBDT, Features: []string{"a"}, Label: "y", Task: model.Regression}

	tests := []struct {
		name     string
		src      catalog.Source
		sample   int
		expect   int64 // readBounds' bound
		reserved int   // rows of room
		rows     int
	}{
		{"whole topic", catalog.Source{Topic: "ordered"}, 0, 300, 300, 300},
		{"to", catalog.Source{Topic: "ordered", To: at(200)}, 0, 200, 200, 200},
		{"from and to", catalog.Source{Topic: "ordered", From: at(100), To: at(200)}, 0, 100, 100, 100},
		{"to past the end", catalog.Source{Topic: "ordered", To: at(1000)}, 0, 300, 300, 300},
		{"to before the start", catalog.Source{Topic: "ordered", To: at(-5)}, 0, 0, 0, 0},
		{"sample below the window", catalog.Source{Topic: "ordered", From: at(100), To: at(200)}, 30, 100, 30, 30},
		{"ranges and to", catalog.Source{Topic: "ordered", To: at(200), Ranges: []catalog.OffsetRange{{Partition: 0, Start: 150, End: 250}}}, 0, 50, 50, 50},
		// The late record is past To's offset: read, but not reserved for.
		{"a late record", catalog.Source{Topic: "late", From: at(100), To: at(200)}, 0, 100, 0, 101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			admin, err := kgo.NewClient(kafkaOpts...)
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close()
			_, expect, err := readBounds(ctx, kadm.NewClient(admin), tt.src, sourceField)
			if err != nil {
				t.Fatal(err)
			}
			if expect != tt.expect {
				t.Errorf("bound of %d rows, want %d", expect, tt.expect)
			}
			o := opts
			if tt.sample > 0 {
				o.Sample = &fit.Sample{MaxRows: tt.sample}
			}
			h, err := ReadTraining(ctx, kafkaOpts, jsonDecoder{}, tt.src, o, ReadConfig{})
			if err != nil {
				t.Fatal(err)
			}
			if h.Len() != tt.rows {
				t.Errorf("%d rows, want %d (unusable %v)", h.Len(), tt.rows, h.Unusable)
			}
			if got := h.table.Reserved(); tt.reserved > 0 && got != tt.reserved {
				t.Errorf("room for %d rows, want %d", got, tt.reserved)
			}
		})
	}
}

// TestReadCountsRecordsRead reads a partition with a committed and an
// aborted transaction: their markers and the aborted records are offsets
// passed, not records read.
func TestReadCountsRecordsRead(t *testing.T) {
	kafkaOpts := oneBroker(t)
	ctx := context.Background()
	produceJSON(t, kafkaOpts, "txn", readings(0, 5)...)
	for _, commit := range []kgo.TransactionEndTry{kgo.TryCommit, kgo.TryAbort} {
		client, err := kgo.NewClient(append(kafkaOpts, kgo.TransactionalID(fmt.Sprint("txn-", commit)), kgo.AllowAutoTopicCreation())...)
		if err != nil {
			t.Fatal(err)
		}
		if err := client.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for _, row := range readings(5, 8) {
			value, _ := json.Marshal(row)
			if err := client.ProduceSync(ctx, &kgo.Record{Topic: "txn", Value: value, Timestamp: at(5)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := client.EndTransaction(ctx, commit); err != nil {
			t.Fatal(err)
		}
		client.Close()
	}
	produceJSON(t, kafkaOpts, "txn", readings(8, 10)...)
	// 5 records, 3 committed and a marker, 3 aborted and a marker, 2.
	const offsets, read = 5 + 4 + 4 + 2, 5 + 3 + 2

	meters := &readMeters{records: prometheus.NewCounter(prometheus.CounterOpts{Name: "records"}), ratio: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ratio"})}
	log := newReadLog(slog.New(slog.DiscardHandler), meters, "source", time.Now)
	var last [3]int64
	cfg := ReadConfig{Progress: func(records, passed, total int64) {
		last = [3]int64{records, passed, total}
		log.report(records, passed, total)
	}}
	opts := fit.Options{Family: fit.GBDT, Features: []string{"a"}, Label: "y", Task: model.Regression}
	h, err := ReadTraining(ctx, kafkaOpts, jsonDecoder{}, catalog.Source{Topic: "txn"}, opts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if h.Records != read || h.Len() != read {
		t.Errorf("%d records, %d rows; want %d", h.Records, h.Len(), read)
	}
	if last != [3]int64{read, offsets, offsets} {
		t.Errorf("last progress (records, passed, total) %v, want %v", last, [3]int64{read, offsets, offsets})
	}
	var counted, ratio dto.Metric
	if err := meters.records.Write(&counted); err != nil {
		t.Fatal(err)
	}
	if err := meters.ratio.Write(&ratio); err != nil {
		t.Fatal(err)
	}
	if got := counted.GetCounter().GetValue(); got != read {
		t.Errorf("records counter %v, want %d", got, read)
	}
	if got := ratio.GetGauge().GetValue(); got != 1 {
		t.Errorf("ratio %v, want 1", got)
	}
}
