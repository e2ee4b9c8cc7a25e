package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"

	"github.com/streamscore/streamscore/internal/catalog"
	"github.com/streamscore/streamscore/internal/fit"
	"github.com/streamscore/streamscore/internal/jobs"
)

// TestKafkaLabels trains jobs on history topics whose label field is of
// each Avro type, records produced to kfake and decoded through the
// registry, and checks the same rule as the REST API's TestLabelRule:
// whole numbers are one class however typed, booleans are false/true, a
// union that mixes kinds skips the rows of the minority kind, and a
// regressor's boolean label refuses the job before it reads.
func TestKafkaLabels(t *testing.T) {
	s := newStack(t)
	cat := s.catalog()
	runner := s.runner(cat)
	alternate := func(a, b any) []any {
		out := make([]any, 100)
		for i := range out {
			out[i] = map[bool]any{true: a, false: b}[i%2 == 0]
		}
		return out
	}
	union := func(branch string, v any) any { return goavro.Union(branch, v) }
	tests := []struct {
		name      string
		task      string
		labelType string // Avro, as JSON
		labels    []any  // goavro's native values
		want      []string
		skipped   int    // bad labels
		mixed     int    // labels of another kind than most rows
		err       error  // the training's, if it fails
		errSays   string // in err
	}{
		{name: "long", labelType: `"long"`, labels: alternate(int64(0), int64(1)), want: []string{"0", "1"}},
		{name: "int", labelType: `"int"`, labels: alternate(int32(1), int32(2)), want: []string{"1", "2"}},
		{name: "whole doubles and negative zero", labelType: `"double"`, labels: append([]any{math.Copysign(0, -1)}, alternate(0.0, 1.0)...), want: []string{"0", "1"}},
		{name: "string", labelType: `"string"`, labels: alternate("0", "1"), want: []string{"0", "1"}},
		{name: "boolean", labelType: `"boolean"`, labels: alternate(false, true), want: []string{"false", "true"}},
		{name: "enum", labelType: `{"type": "enum", "name": "Band", "symbols": ["cold", "hot"]}`, labels: alternate("cold", "hot"), want: []string{"cold", "hot"}},
		{name: "nullable long with nulls", labelType: `["null", "long"]`,
			labels: append([]any{nil, nil, nil}, alternate(union("long", int64(0)), union("long", int64(1)))...), want: []string{"0", "1"}, skipped: 3},
		// A label of another kind than most rows' comes from a record of
		// another schema: skipped and counted, not the training failed.
		{name: "a union of longs and strings", labelType: `["long", "string"]`,
			labels: append([]any{union("string", "1")}, alternate(union("long", int64(0)), union("long", int64(1)))...),
			want:   []string{"0", "1"}, mixed: 1},
		{name: "a union of booleans and longs", labelType: `["boolean", "long"]`,
			labels: append([]any{union("boolean", true)}, alternate(union("long", int64(0)), union("long", int64(1)))...),
			want:   []string{"0", "1"}, mixed: 1},
		{name: "a regressor's doubles", task: "regression", labelType: `"double"`, labels: alternate(1.5, 2.5)},
		// Refused before any record is read: the schema says what the
		// label is.
		{name: "a regressor's booleans", task: "regression", labelType: `"boolean"`, labels: alternate(false, true),
			err: fit.ErrInvalidOptions, errSays: "y: is boolean; a regressor's label is an int, a long, a float or a double (the label)"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topic := fmt.Sprintf("labels-%d", i)
			schema := `{"type": "record", "name": "Labelled", "fields": [
				{"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
				{"name": "x", "type": "double"},
				{"name": "y", "type": ` + tt.labelType + `}]}`
			produceLabelled(t, s, topic, schema, tt.labels)
			task := ""
			if tt.task != "" {
				task = `, "task": "` + tt.task + `"`
			}
			opts, err := fit.ParseOptions([]byte(`{"family": "gbdt", "features": ["x"], "label": "y", "params": {"num_trees": 3, "max_depth": 2}` + task + `}`))
			if err != nil {
				t.Fatal(err)
			}
			out, err := runner.Run(context.Background(), jobs.Job{Name: topic, Source: catalog.Source{Topic: topic}, Options: opts}, false, nil)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.errSays) {
					t.Fatalf("training = %v, want %v saying %q", err, tt.err, tt.errSays)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := out.Result.Spec.Labels; !slices.Equal(got, tt.want) {
				t.Errorf("classes %q, want %q", got, tt.want)
			}
			if got := out.Result.Skipped["bad_label"]; got != tt.skipped {
				t.Errorf("%d rows skipped for their label, want %d (skipped: %v)", got, tt.skipped, out.Result.Skipped)
			}
			if got := out.Result.Skipped["mixed_label_kind"]; got != tt.mixed {
				t.Errorf("%d rows skipped for their label's kind, want %d (skipped: %v)", got, tt.mixed, out.Result.Skipped)
			}
		})
	}
}

// produceLabelled registers schema for topic and produces one record per
// label, x its index and the timestamps in order, so the history's row i
// is labels[i].
func produceLabelled(t *testing.T, s *stack, topic, schema string, labels []any) {
	t.Helper()
	start := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	rows := make([]map[string]any, len(labels))
	for i, label := range labels {
		rows[i] = map[string]any{"ts": start.Add(time.Duration(i) * time.Millisecond), "x": float64(i % 7), "y": label}
	}
	s.produceTo(s.topic(topic, schema), rows)
}
