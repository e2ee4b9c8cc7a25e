package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

// TestHistoryValueDecodes decodes hand-encoded values with goavro: the
// bytes the benchmark produces are the schema's.
func TestHistoryValueDecodes(t *testing.T) {
	codec, err := goavro.NewCodec(historySchema)
	if err != nil {
		t.Fatal(err)
	}
	rng := newRand(7)
	var x [numFeatures]float64
	for range 100 {
		label := drawRow(rng, &x, false)
		value := appendHistoryValue(nil, 42, &x, label)
		if len(value) != historyValueSize {
			t.Fatalf("value is %d bytes, want %d", len(value), historyValueSize)
		}
		if value[0] != 0 || binary.BigEndian.Uint32(value[1:5]) != 42 {
			t.Fatalf("framing % x, want magic 0 and schema id 42", value[:5])
		}
		native, rest, err := codec.NativeFromBinary(value[5:])
		if err != nil || len(rest) != 0 {
			t.Fatalf("decode: %v, %d bytes left", err, len(rest))
		}
		rec := native.(map[string]any)
		for i, name := range historyFeatures {
			if got := rec[name].(float64); got != x[i] || math.IsNaN(got) {
				t.Fatalf("%s = %v, want %v", name, got, x[i])
			}
		}
		if got := rec[historyLabel].(int32); float64(got) != label {
			t.Fatalf("label = %d, want %v", got, label)
		}
	}
}

// TestHistoryVerdicts checks the targets against figures on both sides of
// them: a failed or incomplete run fails its size whatever its figures.
func TestHistoryVerdicts(t *testing.T) {
	run := func(wall time.Duration, rss int64, records int) trainerRun {
		return trainerRun{wall: wall, peakRSS: rss, records: records, rows: records, auc: 0.86}
	}
	tests := []struct {
		name string
		size historySize
		want []bool
	}{
		{"10M within both", historySize{records: 10_000_000, runs: []trainerRun{run(100*time.Second, 1400<<20, 10_000_000)}}, []bool{true, true, true}},
		{"10M median too slow", historySize{records: 10_000_000, runs: []trainerRun{
			run(100*time.Second, 1<<30, 10_000_000), run(130*time.Second, 1<<30, 10_000_000), run(125*time.Second, 1<<30, 10_000_000),
		}}, []bool{true, false, true}},
		{"10M highest RSS counts", historySize{records: 10_000_000, runs: []trainerRun{
			run(60*time.Second, 1<<30, 10_000_000), run(60*time.Second, 1600<<20, 10_000_000),
		}}, []bool{true, true, false}},
		{"1M records missing", historySize{records: 1_000_000, runs: []trainerRun{run(5*time.Second, 300<<20, 999_999)}}, []bool{false, false}},
		{"1M killed", historySize{records: 1_000_000, runs: []trainerRun{{failure: "killed", peakRSS: 6 << 30}}}, []bool{false, false}},
		{"no target at 20k", historySize{records: 20_000, runs: []trainerRun{run(time.Second, 90<<20, 20_000)}}, []bool{true}},
		{"early stopped", historySize{records: 1_000_000, runs: []trainerRun{func() trainerRun {
			r := run(5*time.Second, 300<<20, 1_000_000)
			r.iterations = 37
			return r
		}()}}, []bool{false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.size.verdicts()
			if len(got) != len(tt.want) {
				t.Fatalf("%d verdicts (%v), want %d", len(got), got, len(tt.want))
			}
			for i, v := range got {
				if v.pass != tt.want[i] {
					t.Errorf("%s (%s): pass %v, want %v", v.what, v.measured, v.pass, tt.want[i])
				}
			}
		})
	}
}

// TestHistorySmoke runs the history part end to end on 20,000 records:
// the stack and the trainer built from this tree, real processes. It
// takes about ten seconds, most of it building.
func TestHistorySmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs cmd/stack and cmd/trainer")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	o := historyOptions{records: []int{20_000}, runs: 1, partitions: 4, compression: "lz4", rssLimit: 2 << 30, memoryLimitMiB: 1280}
	res, err := runHistory(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	pass := res.report(&out, o)
	t.Log(out.String())
	if !pass {
		t.Fatal("the smoke run failed a check")
	}
	r := res.sizes[0].runs[0]
	if r.records != 20_000 || r.skipped != 0 || r.rows != 20_000 {
		t.Errorf("the trainer read %d records, skipped %d, fitted %d rows; want 20000, 0, 20000", r.records, r.skipped, r.rows)
	}
	if r.iterations != 0 && r.iterations != historyIterations {
		t.Errorf("%d iterations grown, want %d", r.iterations, historyIterations)
	}
	if r.read <= 0 || r.fit <= 0 || r.read+r.fit > r.wall {
		t.Errorf("phases from the log: read %v, fit %v, of %v in all", r.read, r.fit, r.wall)
	}
	if !(r.auc > 0.8) {
		t.Errorf("holdout AUC %v, want above 0.8: the label follows the features", r.auc)
	}
	if r.peakRSS < 10<<20 || r.wall <= 0 || r.cpu <= 0 {
		t.Errorf("implausible figures: peak RSS %d, wall %v, CPU %v", r.peakRSS, r.wall, r.cpu)
	}
	if res.brokerPeak < r.peakRSS/100 || !strings.Contains(out.String(), "20,000") || !strings.Contains(out.String(), "-memory-limit-mb 1280") {
		t.Errorf("report or broker memory missing:\n%s", out.String())
	}
}
