package jobs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/jobs"
)

func TestReadTopic(t *testing.T) {
	s := newStack(t)
	rows := sensorRows(1, 300)
	withBad := append(rows[:150:150], nil) // one record that is not Avro
	withBad = append(withBad, rows[150:]...)
	s.produce("history", withBad)
	ts := func(i int) time.Time { return rows[i]["ts"].(time.Time) }

	tests := []struct {
		name     string
		src      catalog.Source
		wantRows int
		skipped  int
		first    time.Time // the oldest row's timestamp
	}{
		{"whole topic", catalog.Source{Topic: "history"}, 300, 1, ts(0)},
		{"time window", catalog.Source{Topic: "history", From: ts(100), To: ts(200)}, 100, 0, ts(100)},
		// The record that is not Avro was stamped now: inside this window.
		{"open-ended window", catalog.Source{Topic: "history", From: ts(250)}, 50, 1, ts(250)},
		{"one partition's offsets", catalog.Source{Topic: "history", Ranges: []catalog.OffsetRange{{Partition: 1, Start: 10, End: 20}}}, 10, -1, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := jobs.Read(context.Background(), s.kafkaOpts(), s.decoder, tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if len(h.Rows) != tt.wantRows {
				t.Fatalf("read %d rows, want %d", len(h.Rows), tt.wantRows)
			}
			if tt.skipped >= 0 && h.Skipped["bad_magic"] != tt.skipped {
				t.Errorf("skipped %v, want %d bad_magic", h.Skipped, tt.skipped)
			}
			for i := 1; i < len(h.Rows); i++ {
				if h.Rows[i]["ts"].(time.Time).Before(h.Rows[i-1]["ts"].(time.Time)) {
					t.Fatalf("row %d is older than row %d: rows are not in time order", i, i-1)
				}
			}
			if !tt.first.IsZero() && !h.Rows[0]["ts"].(time.Time).Equal(tt.first) {
				t.Errorf("oldest row at %v, want %v", h.Rows[0]["ts"], tt.first)
			}
			var read int64
			for _, r := range h.Ranges {
				read += r.End - r.Start
			}
			if tt.src.From.IsZero() && read != int64(h.Records) {
				t.Errorf("ranges %v cover %d offsets, %d records read", h.Ranges, read, h.Records)
			}
		})
	}
}

func TestReadRefusesWhatCannotBeRead(t *testing.T) {
	s := newStack(t)
	s.produce("history", sensorRows(1, 10))
	tests := []struct {
		name string
		src  catalog.Source
	}{
		{"no topic", catalog.Source{}},
		{"a topic that does not exist", catalog.Source{Topic: "nowhere"}},
		{"a partition that does not exist", catalog.Source{Topic: "history", Ranges: []catalog.OffsetRange{{Partition: 9, End: 5}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := jobs.Read(ctx, s.kafkaOpts(), s.decoder, tt.src)
			if !errors.Is(err, fit.ErrInvalidOptions) {
				t.Fatalf("error %v, want ErrInvalidOptions", err)
			}
		})
	}
}
