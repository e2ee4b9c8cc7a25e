package api_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/streamscore/streamscore/internal/api"
)

// TestLabelRule sends labels as JSON writes them, slice by slice, and
// checks the one rule of docs/api.md (fit.ClassLabel): whole numbers
// however written are one class in shortest decimal form, strings are
// their own text, booleans are "false"/"true", and one model's labels never
// mix kinds (finding 8 of issue 10: 1 and "1" merged silently while true
// became a class apart). A regressor's label is a number.
func TestLabelRule(t *testing.T) {
	type step struct {
		// labels are one slice's, as raw JSON; none drops the rows held.
		labels []string
		status int
		field  string // of a refused slice
		msg    string
	}
	ok := func(labels ...string) step { return step{labels: labels, status: http.StatusOK} }
	refused := func(status int, field, msg string, labels ...string) step {
		return step{labels: labels, status: status, field: field, msg: msg}
	}
	drop := step{}
	tests := []struct {
		name  string
		task  string
		steps []step
		rows  int      // held at the end
		want  []string // the trained model's classes; nil: regression
	}{
		{name: "whole numbers however written are one class",
			steps: []step{ok(`0`, `1`, `1.0`, `1e0`, `0.0`, `-0`, `-0.0`, `1.000`, `10e-1`, `0`)},
			rows:  10, want: []string{"0", "1"}},
		{name: "integers stay exact past 2^53",
			steps: []step{ok(`9007199254740993`, `0`, `9007199254740993`, `0`, `9007199254740993`, `0`, `9007199254740993`, `0`, `9007199254740993`, `0`)},
			rows:  10, want: []string{"0", "9007199254740993"}},
		{name: "strings are their own text",
			steps: []step{ok(`"0"`, `"1"`, `"1"`, `"0"`, `"1"`, `"0"`, `"1"`, `"0"`, `"1"`, `"0"`)},
			rows:  10, want: []string{"0", "1"}},
		{name: "booleans are false and true",
			steps: []step{ok(`true`, `false`, `true`, `false`, `true`, `false`, `true`, `false`, `true`, `false`)},
			rows:  10, want: []string{"false", "true"}},
		{name: "a number and a string in one slice",
			steps: []step{refused(422, "rows[1].y", `is a string ("1") but rows[0].y is a number (1)`, `1`, `"1"`, `0`)},
			rows:  0},
		{name: "a boolean and a number in one slice",
			steps: []step{refused(422, "rows[2].y", "is a number", `true`, `false`, `1`)},
			rows:  0},
		{name: "a boolean and a string in one slice",
			steps: []step{refused(422, "rows[1].y", "is a string", `true`, `"true"`)},
			rows:  0},
		{name: "strings after numbers",
			steps: []step{ok(`0`, `1`, `0`, `1`, `0`, `1`, `0`, `1`, `0`, `1`), refused(422, "rows[0].y", "have numbers", `"1"`, `"0"`)},
			rows:  10, want: []string{"0", "1"}},
		{name: "booleans after strings",
			steps: []step{ok(`"a"`, `"b"`, `"a"`, `"b"`, `"a"`, `"b"`, `"a"`, `"b"`, `"a"`, `"b"`), refused(422, "rows[0].y", "have strings", `true`)},
			rows:  10, want: []string{"a", "b"}},
		{name: "another kind once the rows are dropped",
			steps: []step{ok(`0`, `1`), drop, ok(`"no"`, `"yes"`, `"no"`, `"yes"`, `"no"`, `"yes"`, `"no"`, `"yes"`, `"no"`, `"yes"`)},
			rows:  10, want: []string{"no", "yes"}},
		{name: "a fraction is no class",
			steps: []step{refused(400, "rows[1].y", "whole number", `1`, `0.5`)}},
		{name: "a whole number past 2^53 with an exponent",
			steps: []step{refused(400, "rows[0].y", "2^53", `1e16`)}},
		{name: "an empty string",
			steps: []step{refused(400, "rows[0].y", "empty", `""`)}},
		{name: "a regressor's numbers",
			task:  "regression",
			steps: []step{ok(`1.5`, `2`, `3.25`, `-1`, `0`, `7`, `2.5`, `3`, `1`, `4`)},
			rows:  10},
		{name: "a regressor's boolean",
			task:  "regression",
			steps: []step{refused(400, "rows[1].y", "a regressor's label must be a number", `1.5`, `true`)}},
		{name: "a regressor's numeric string",
			task:  "regression",
			steps: []step{refused(400, "rows[0].y", "is a string, want a number", `"1"`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newServer(t, api.Config{}, api.Deps{})
			opts := numericModel(1)
			if tt.task != "" {
				opts["task"] = tt.task
			}
			c.must(http.StatusCreated, "PUT", "/models/m", opts, nil)
			for i, s := range tt.steps {
				if s.labels == nil {
					c.must(http.StatusOK, "DELETE", "/models/m/data/train", nil, nil)
					continue
				}
				rows := make([]string, len(s.labels))
				for j, l := range s.labels {
					rows[j] = `{"f0": ` + strconv.Itoa(j%10) + `, "y": ` + l + `}`
				}
				r := c.do("PUT", "/models/m/data/train", "["+strings.Join(rows, ",")+"]")
				if r.status != s.status {
					t.Fatalf("slice %d (%s) = %d %s, want %d", i, strings.Join(s.labels, " "), r.status, r.body, s.status)
				}
				if s.status == http.StatusOK {
					continue
				}
				if e := r.err(t); e.Field != s.field || !strings.Contains(e.Error, s.field) || !strings.Contains(e.Error, s.msg) {
					t.Errorf("slice %d refused with %q (field %q), want the field %q and %q", i, e.Error, e.Field, s.field, s.msg)
				}
			}
			if got := heldRows(t, c, "m"); got != tt.rows {
				t.Fatalf("model holds %d rows, want %d", got, tt.rows)
			}
			if tt.rows == 0 {
				return
			}
			var res api.TrainResult
			c.must(http.StatusOK, "PUT", "/models/m/train", nil, &res)
			if !slices.Equal(res.Labels, tt.want) {
				t.Errorf("classes %q, want %q", res.Labels, tt.want)
			}
		})
	}
}

// TestTooManyClasses trains on more classes than a model takes: the rows'
// fault, answered 422 saying so, not a 500 fault of the trainer.
func TestTooManyClasses(t *testing.T) {
	c := newServer(t, api.Config{}, api.Deps{})
	c.must(http.StatusCreated, "PUT", "/models/m", numericModel(1), nil)
	rows := make([]string, 3000)
	for i := range rows {
		rows[i] = `{"f0": ` + strconv.Itoa(i) + `, "y": "class-` + strconv.Itoa(i%1500) + `"}`
	}
	c.must(http.StatusOK, "PUT", "/models/m/data/train", "["+strings.Join(rows, ",")+"]", nil)
	r := c.do("PUT", "/models/m/train", nil)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.err(t).Error, "at most 1000 classes") {
		t.Fatalf("training on 1500 classes = %d %s, want 422 naming the number of classes", r.status, r.body)
	}
}
