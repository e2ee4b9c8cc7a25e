package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/trainer"
)

// TestSensorHoldout checks that trainer.Split, given sensorHoldout's
// fraction, starts the holdout exactly at the median anomalous row.
func TestSensorHoldout(t *testing.T) {
	for _, tc := range []struct {
		name      string
		n         int
		anomalous []int
		from      int
	}{
		{"two", 10, []int{3, 4}, 4},
		{"odd count", 18914, []int{9000, 9001, 9002, 9003, 9004}, 9002},
		{"first half", 7, []int{0, 1, 2, 3}, 2},
		{"last row", 5, []int{3, 4}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := make([]map[string]any, tc.n)
			for i := range rows {
				rows[i] = map[string]any{"anomaly": false}
			}
			for _, i := range tc.anomalous {
				rows[i]["anomaly"] = true
			}
			holdout, err := sensorHoldout(rows)
			if err != nil {
				t.Fatal(err)
			}
			train, hold := trainer.Split(rows, holdout)
			if len(train) != tc.from || len(hold) != tc.n-tc.from {
				t.Fatalf("split %d/%d, want the holdout from row %d", len(train), len(hold), tc.from)
			}
		})
	}
	if _, err := sensorHoldout([]map[string]any{{"anomaly": true}, {"anomaly": false}}); err == nil {
		t.Fatal("one anomaly split without an error")
	}
}

func TestReportTolerance(t *testing.T) {
	both := func(auc, f1 float64) side { return side{auc: auc, f1: f1, hasAUC: true, duration: time.Second} }
	for _, tc := range []struct {
		name         string
		ours, theirs side
		fails        string
	}{
		{"within", both(0.95, 0.80), both(0.945, 0.809), ""},
		{"AUC over", both(0.95, 0.80), both(0.939, 0.80), "AUC +0.0110"},
		{"F1 over", both(0.95, 0.80), both(0.95, 0.789), "F1 +0.0110"},
		{"AUC on one side only", side{f1: 0.5}, both(0.9, 0.5), "AUC defined on one side only"},
		{"AUC on neither side", side{f1: 0.5}, side{f1: 0.5}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := report(&out, []result{{set: dataSets["sensors"], ours: tc.ours, theirs: tc.theirs}}, 0.01)
			if tc.fails == "" {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				return
			}
			if !errors.Is(err, errTolerance) || !strings.Contains(err.Error(), tc.fails) {
				t.Fatalf("error %v, want errTolerance naming %q", err, tc.fails)
			}
		})
	}
}
