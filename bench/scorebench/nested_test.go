package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/sample"
	"github.com/streamscore/streamscore/internal/train"
)

func TestParseParts(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "all", want: "full,eos,rate,python,nested"},
		{in: "nested", want: "nested"},
		{in: "nested, full", want: "full,nested"},
		{in: "rate,all", want: "full,eos,rate,python,nested"},
		{in: "nested,nested", want: "nested"},
		{in: "", err: `unknown part ""`},
		{in: "nested,flat", err: `unknown part "flat"; want full,eos,rate,python,nested or all`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			ps, err := parseParts(tc.in)
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
					t.Fatalf("parseParts(%q) = %v, %v; want an error starting %q", tc.in, ps, err, tc.err)
				}
				return
			}
			if err != nil || ps.String() != tc.want {
				t.Fatalf("parseParts(%q) = %v, %v; want %s", tc.in, ps, err, tc.want)
			}
		})
	}
}

// runOf is a measurement of records over a second of wall time with cpuUs
// microseconds of CPU per record.
func runOf(records int, cpuUs float64) measurement {
	return measurement{records: records, wall: time.Second, cpu: time.Duration(cpuUs * float64(records) * float64(time.Microsecond))}
}

func TestNestedCosts(t *testing.T) {
	for _, tc := range []struct {
		name               string
		flat, decode       []measurement
		nested             []measurement
		ratio, low, high   float64
		wallRatio, flatCPU float64
		verdict, breakdown string
	}{
		{
			name:   "within the target",
			flat:   []measurement{runOf(200_000, 10), runOf(190_000, 11), runOf(210_000, 9)},
			decode: []measurement{runOf(190_000, 10.6), runOf(180_000, 10.4), runOf(200_000, 10.2)},
			nested: []measurement{runOf(180_000, 11), runOf(170_000, 12), runOf(190_000, 10.5)},
			// Medians: 10 and 11 us; run pairs 1.1, 12/11, 10.5/9.
			ratio: 1.1, low: 12.0 / 11, high: 10.5 / 9, wallRatio: 200.0 / 180, flatCPU: 10,
			verdict: "target at most 1.15: met",
			// Medians: 10 flat, 10.4 the flat model on nested records, 11.
			breakdown: "of the extra 1.00 us per record: 0.40 the nested record's, read by the flat model; 0.60 the nested model's",
		},
		{
			name:   "over it",
			flat:   []measurement{runOf(200_000, 10), runOf(200_000, 10)},
			nested: []measurement{runOf(150_000, 12), runOf(150_000, 13)},
			// Even counts: the mean of the middle two.
			ratio: 1.25, low: 1.2, high: 1.3, wallRatio: 200.0 / 150, flatCPU: 10,
			verdict: "target at most 1.15: NOT MET",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := nestedReport{flatRuns: tc.flat, decodeRuns: tc.decode, nestedRuns: tc.nested, flatBytes: 82, nestedBytes: 160, flatColumns: 10, nestedColumns: 20, nestedCategorical: 4}
			c := r.costs()
			near := func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
			if !near(c.ratio, tc.ratio) || !near(c.pairLow, tc.low) || !near(c.pairHigh, tc.high) || !near(c.wallRatio, tc.wallRatio) || !near(c.flatCPU, tc.flatCPU) {
				t.Fatalf("costs %+v; want ratio %v, pairs %v to %v, wall %v, flat CPU %v", c, tc.ratio, tc.low, tc.high, tc.wallRatio, tc.flatCPU)
			}
			var out bytes.Buffer
			r.print(&out, len(tc.flat), 200_000)
			for _, want := range []string{tc.verdict, "NestedSensorReading, paths, 4 categorical", "taken in turns", tc.breakdown} {
				if !strings.Contains(out.String(), want) {
					t.Fatalf("report lacks %q:\n%s", want, out.String())
				}
			}
			if tc.decode == nil && strings.Contains(out.String(), "the flat model") {
				t.Fatalf("a breakdown without runs of the flat model on nested records:\n%s", out.String())
			}
		})
	}
}

// TestReportParts prints a report of the nested part alone: its section,
// none of the parts that did not run.
func TestReportParts(t *testing.T) {
	ps, _ := parseParts("nested")
	r := report{parts: ps, runs: 1, records: 1000, nested: nestedReport{
		flatRuns: []measurement{runOf(1000, 10)}, nestedRuns: []measurement{runOf(1000, 11)},
	}}
	var out bytes.Buffer
	r.print(&out)
	got := out.String()
	if !strings.Contains(got, "Nested records beside flat ones") || !strings.Contains(got, "parts: nested") {
		t.Fatalf("no nested section:\n%s", got)
	}
	for _, absent := range []string{"Full speed", "Fixed rate", "Python"} {
		if strings.Contains(got, absent) {
			t.Fatalf("report of the nested part shows %q:\n%s", absent, got)
		}
	}
}

// TestNestedModel fits the nested model as the benchmark does and checks
// it has the flat model's budget (every one of its trees, none deeper)
// and splits on categories, its spec naming paths and category tables.
func TestNestedModel(t *testing.T) {
	spec, err := sample.NestedSensorSpec("sensor-anomaly-nested", "bench", trainRows)
	if err != nil {
		t.Fatal(err)
	}
	width, categorical := columns(spec.Inputs[0])
	if categorical != 4 || width != len(sample.SensorFeatures)+2+4+1+4 {
		t.Fatalf("%d columns, %d categorical features", width, categorical)
	}
	data, err := sample.NestedSensorData(spec, 1, trainRows)
	if err != nil {
		t.Fatal(err)
	}
	ens, err := train.Fit(context.Background(), modelConfig(), data)
	if err != nil {
		t.Fatal(err)
	}
	if len(ens.Trees) != modelTrees || ens.Stats.EarlyStopped {
		t.Fatalf("%d trees (early stopped: %v), want %d", len(ens.Trees), ens.Stats.EarlyStopped, modelTrees)
	}
	byCategory := 0
	for i, tree := range ens.Trees {
		if d := depth(tree, 0); d > modelDepth {
			t.Fatalf("tree %d has depth %d, over %d", i, d, modelDepth)
		}
		for _, n := range tree.Nodes {
			if !n.Leaf && data.Categories(int(n.Feature)) > 0 {
				byCategory++
			}
		}
	}
	if byCategory == 0 {
		t.Fatal("no split on a category: the nested model does not read what makes it nested")
	}
	t.Logf("%d columns, %d categorical features; %d splits on categories", width, categorical, byCategory)
}
