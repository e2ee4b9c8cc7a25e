package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/model"
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

// TestNestedCosts checks the nested part's verdict: the grouped record
// beside the flat one against the target, as the ratio of the medians and
// with the run pairs' spread; the rich record's ratio and the split of its
// extra cost, for information.
func TestNestedCosts(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		flat, grouped        []measurement
		decode, rich         []measurement
		ratio, low, high     float64
		wallRatio, richRatio float64
		verdict, breakdown   string
	}{
		{
			name:    "within the target",
			flat:    []measurement{runOf(200_000, 10), runOf(190_000, 11), runOf(210_000, 9)},
			grouped: []measurement{runOf(180_000, 11), runOf(170_000, 12), runOf(190_000, 10.5)},
			decode:  []measurement{runOf(150_000, 13), runOf(140_000, 14), runOf(160_000, 12)},
			rich:    []measurement{runOf(110_000, 18), runOf(100_000, 19), runOf(120_000, 17)},
			// Medians: 10 and 11 us; run pairs 1.1, 12/11, 10.5/9.
			ratio: 1.1, low: 12.0 / 11, high: 10.5 / 9, wallRatio: 200.0 / 180, richRatio: 1.8,
			verdict: "target at most 1.15: PASS",
			// Medians: 10 flat, 13 the flat model on rich records, 18.
			breakdown: "of its extra 8.00 us per record: 3.00 the nested record's, read by the flat model; 5.00 the nested model's",
		},
		{
			name:    "over it",
			flat:    []measurement{runOf(200_000, 10), runOf(200_000, 10)},
			grouped: []measurement{runOf(150_000, 12), runOf(150_000, 13)},
			rich:    []measurement{runOf(100_000, 20), runOf(100_000, 20)},
			// Even counts: the mean of the middle two.
			ratio: 1.25, low: 1.2, high: 1.3, wallRatio: 200.0 / 150, richRatio: 2,
			verdict: "target at most 1.15: NOT MET",
		},
		{
			// The rich record far over the bound passes: the target is
			// the grouped record's.
			name:    "the rich record over it, the grouped one within",
			flat:    []measurement{runOf(200_000, 10)},
			grouped: []measurement{runOf(190_000, 11.4)},
			rich:    []measurement{runOf(100_000, 19)},
			ratio:   1.14, low: 1.14, high: 1.14, wallRatio: 200.0 / 190, richRatio: 1.9,
			verdict: "target at most 1.15: PASS",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := nestedReport{
				flatRuns: tc.flat, groupedRuns: tc.grouped, decodeRuns: tc.decode, richRuns: tc.rich,
				flat:    recordShape{bytes: 88, columns: 10},
				grouped: recordShape{bytes: 96, columns: 12, categorical: 2},
				rich:    recordShape{bytes: 167, columns: 21, categorical: 4},
			}
			c := r.costs()
			near := func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
			if g := c.grouped; !near(g.ratio, tc.ratio) || !near(g.pairLow, tc.low) || !near(g.pairHigh, tc.high) || !near(g.wallRatio, tc.wallRatio) {
				t.Fatalf("grouped %+v; want ratio %v, pairs %v to %v, wall %v", g, tc.ratio, tc.low, tc.high, tc.wallRatio)
			}
			if !near(c.rich.ratio, tc.richRatio) || !near(c.flat.ratio, 1) {
				t.Fatalf("rich ratio %v, flat %v; want %v and 1", c.rich.ratio, c.flat.ratio, tc.richRatio)
			}
			var out bytes.Buffer
			r.print(&out, len(tc.flat), 200_000)
			for _, want := range []string{
				"grouped / flat CPU per record: ", tc.verdict, "taken in turns",
				"GroupedSensorReading, paths, 2 categorical", "NestedSensorReading, paths, 4 categorical",
				fmt.Sprintf("1.9x the flat record's bytes, 21 columns to its 10; nested / flat CPU per record %.3f", tc.richRatio),
				tc.breakdown,
			} {
				if !strings.Contains(out.String(), want) {
					t.Fatalf("report lacks %q:\n%s", want, out.String())
				}
			}
			if tc.decode == nil && strings.Contains(out.String(), "the flat model") {
				t.Fatalf("a breakdown without runs of the flat model on nested records:\n%s", out.String())
			}
			if tc.ratio <= nestedTarget && strings.Contains(out.String(), "NOT MET") {
				t.Fatalf("a verdict other than the grouped record's:\n%s", out.String())
			}
		})
	}
}

// TestReportParts prints a report of the nested part alone: its section,
// none of the parts that did not run.
func TestReportParts(t *testing.T) {
	ps, _ := parseParts("nested")
	r := report{parts: ps, runs: 1, records: 1000, nested: nestedReport{
		flatRuns: []measurement{runOf(1000, 10)}, groupedRuns: []measurement{runOf(1000, 10.5)},
		decodeRuns: []measurement{runOf(1000, 13)}, richRuns: []measurement{runOf(1000, 18)},
	}}
	var out bytes.Buffer
	r.print(&out)
	got := out.String()
	for _, want := range []string{"Nested records beside flat ones", "parts: nested", "SensorReading, flat", "GroupedSensorReading", "NestedSensorReading, the flat model", "target at most 1.15: PASS"} {
		if !strings.Contains(got, want) {
			t.Fatalf("nested section lacks %q:\n%s", want, got)
		}
	}
	for _, absent := range []string{"Full speed", "Fixed rate", "Python"} {
		if strings.Contains(got, absent) {
			t.Fatalf("report of the nested part shows %q:\n%s", absent, got)
		}
	}
}

// TestNestedModels fits the grouped and the rich nested models as the
// benchmark does and checks each has the flat model's budget (every one
// of its trees, none deeper) and splits on categories, its spec naming
// paths and category tables: the grouped one the flat model's ten columns
// and two categories, the rich one more.
func TestNestedModels(t *testing.T) {
	for _, tc := range []struct {
		name               string
		spec               func(name, version string, rows int) (model.Spec, error)
		data               func(spec model.Spec, seed uint64, rows int) (*train.Dataset, error)
		width, categorical int
	}{
		{"grouped", sample.GroupedSensorSpec, sample.GroupedSensorData, len(sample.SensorFeatures) + 2, 2},
		{"nested", sample.NestedSensorSpec, sample.NestedSensorData, len(sample.SensorFeatures) + 2 + 4 + 1 + 4, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := tc.spec("sensor-anomaly-"+tc.name, "bench", trainRows)
			if err != nil {
				t.Fatal(err)
			}
			width, categorical := columns(spec.Inputs[0])
			if categorical != tc.categorical || width != tc.width {
				t.Fatalf("%d columns, %d categorical features; want %d and %d", width, categorical, tc.width, tc.categorical)
			}
			data, err := tc.data(spec, 1, trainRows)
			if err != nil {
				t.Fatal(err)
			}
			ens := fitBenchModel(t, data)
			byCategory := 0
			for _, tree := range ens.Trees {
				for _, n := range tree.Nodes {
					if !n.Leaf && data.Categories(int(n.Feature)) > 0 {
						byCategory++
					}
				}
			}
			if byCategory == 0 {
				t.Fatal("no split on a category: the model does not read what makes its record nested")
			}
			t.Logf("%d columns, %d categorical features; %d splits on categories", width, categorical, byCategory)
		})
	}
}
