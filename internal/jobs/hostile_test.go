package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/jobs"
	"github.com/streamscore/streamscore/internal/serde"
	"github.com/streamscore/streamscore/internal/testkit"
	"github.com/streamscore/streamscore/internal/testkit/stackkit"
)

// TestHostileRecordsInHistorySkipped is finding 2 of issue 10: the hostile
// records that killed the scorer, in a history topic, killed the trainer
// too (its REST API and every job with it). Now each is skipped and
// counted by its dead-letter class, and the training succeeds on the good
// rows around them. A compression bomb (a batch of a few kilobytes that
// decompresses to 40 MB) is skipped and counted too, undecompressed.
func TestHostileRecordsInHistorySkipped(t *testing.T) {
	s := newStack(t)
	s.produce("history", sensorRows(1, 600))
	want := map[string]int{}
	var records []*kgo.Record
	for i, h := range testkit.HostileRecords(4, 100_000) {
		if h.Class == testkit.ClassUnsupported {
			continue // the project's registry refuses these schemas
		}
		rs, err := s.registry.CreateSchema(fmt.Sprintf("hostile%d-value", i), h.Schema, srclient.Avro)
		if err != nil {
			t.Fatal(err)
		}
		value := append(serde.AppendFrame(nil, uint32(rs.ID())), h.Body...)
		for range 3 {
			records = append(records, &kgo.Record{Topic: "history", Value: value, Timestamp: time.Now()})
			want[h.Class]++
		}
	}
	stackkit.ProduceSync(t, s.client, records...)
	bomber := s.s.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.ZstdCompression()), kgo.ProducerBatchMaxBytes(64<<20), kgo.ProducerLinger(50*time.Millisecond))
	var bomb []*kgo.Record
	for range 40 {
		bomb = append(bomb, &kgo.Record{Topic: "history", Partition: 1, Value: make([]byte, 1<<20), Timestamp: time.Now()})
	}
	stackkit.ProduceSync(t, bomber, bomb...)
	want["oversize_batch"] = 1

	h, err := jobs.Read(context.Background(), s.kafkaOpts(), s.decoder, catalog.Source{Topic: "history"})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Rows) != 600 {
		t.Errorf("read %d rows, want the 600 good ones", len(h.Rows))
	}
	for class, n := range want {
		if h.Skipped[class] != n {
			t.Errorf("skipped %v, want %d %s", h.Skipped, n, class)
		}
	}

	runner := s.runner(s.catalog())
	out, err := runner.Run(context.Background(), jobs.Job{Name: "sensors", Source: catalog.Source{Topic: "history"},
		Options: gbdtOptions(t, `{"num_trees": 5, "max_depth": 3}`)}, false, nil)
	if err != nil {
		t.Fatalf("training over a history with hostile records: %v", err)
	}
	if out.Version.Version != 1 || out.Records != 600+len(records)+1 {
		t.Fatalf("published version %d from %d records, want version 1 from %d (the bomb counting as one)", out.Version.Version, out.Records, 600+len(records)+1)
	}
}
