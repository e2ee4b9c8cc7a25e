package registry

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// record builds a record schema named test.R from field JSON snippets.
func record(fields ...string) string {
	return `{"type":"record","name":"R","namespace":"test","fields":[` + strings.Join(fields, ",") + `]}`
}

const (
	fieldA        = `{"name":"a","type":"string"}`
	fieldADefault = `{"name":"a","type":"string","default":""}`
	fieldB        = `{"name":"b","type":"int"}`
	fieldBDefault = `{"name":"b","type":"int","default":0}`
	fieldBLong    = `{"name":"b","type":"long"}`
	fieldC        = `{"name":"c","type":"int"}`
	fieldCDefault = `{"name":"c","type":"int","default":1}`
)

// TestCompatibilityLevels registers history under NONE, switches the
// subject to level and registers candidate. The answer must agree with
// POST /compatibility/subjects/{s}/versions, which checks the same set.
func TestCompatibilityLevels(t *testing.T) {
	tests := []struct {
		name      string
		level     Compatibility
		history   []string
		candidate string
		want      bool
	}{
		{"NONE accepts a type change", None, []string{record(fieldA)}, record(`{"name":"a","type":"int"}`), true},

		{"BACKWARD adding a field with default", Backward, []string{record(fieldA)}, record(fieldA, fieldBDefault), true},
		{"BACKWARD adding a field without default", Backward, []string{record(fieldA)}, record(fieldA, fieldB), false},
		{"BACKWARD removing a field", Backward, []string{record(fieldA, fieldB)}, record(fieldA), true},
		{"BACKWARD promoting int to long", Backward, []string{record(fieldA, fieldB)}, record(fieldA, fieldBLong), true},
		{"BACKWARD narrowing long to int", Backward, []string{record(fieldA, fieldBLong)}, record(fieldA, fieldB), false},
		{"BACKWARD renaming the record", Backward, []string{record(fieldA)},
			`{"type":"record","name":"Other","namespace":"test","fields":[` + fieldA + `]}`, false},
		{"BACKWARD adding an enum symbol", Backward,
			[]string{`{"type":"enum","name":"E","symbols":["X"]}`}, `{"type":"enum","name":"E","symbols":["X","Y"]}`, true},
		{"BACKWARD removing an enum symbol", Backward,
			[]string{`{"type":"enum","name":"E","symbols":["X","Y"]}`}, `{"type":"enum","name":"E","symbols":["X"]}`, false},
		{"BACKWARD making a field nullable", Backward, []string{record(fieldA)},
			record(`{"name":"a","type":["null","string"],"default":null}`), true},
		{"BACKWARD checks only the latest", Backward,
			[]string{record(fieldA), record(fieldA, fieldBDefault)}, record(fieldB), true},

		{"BACKWARD_TRANSITIVE checks every version", BackwardTransitive,
			[]string{record(fieldA), record(fieldA, fieldBDefault)}, record(fieldB), false},
		{"BACKWARD_TRANSITIVE compatible with all", BackwardTransitive,
			[]string{record(fieldA), record(fieldA, fieldBDefault)}, record(fieldA, fieldBDefault, fieldCDefault), true},

		{"FORWARD removing a field without default", Forward, []string{record(fieldA, fieldB)}, record(fieldA), false},
		{"FORWARD removing a field with default", Forward, []string{record(fieldA, fieldBDefault)}, record(fieldA), true},
		{"FORWARD adding a field without default", Forward, []string{record(fieldA)}, record(fieldA, fieldB), true},
		{"FORWARD checks only the latest", Forward, []string{record(fieldA), record(fieldB)}, record(fieldB, fieldC), true},

		{"FORWARD_TRANSITIVE checks every version", ForwardTransitive,
			[]string{record(fieldA), record(fieldB)}, record(fieldB, fieldC), false},

		{"FULL adding a field with default", Full, []string{record(fieldA)}, record(fieldA, fieldBDefault), true},
		{"FULL adding a field without default", Full, []string{record(fieldA)}, record(fieldA, fieldB), false},
		{"FULL removing a field without default", Full, []string{record(fieldA, fieldB)}, record(fieldA), false},
		{"FULL removing a field with default", Full, []string{record(fieldADefault, fieldB)}, record(fieldB), true},
		{"FULL checks only the latest", Full,
			[]string{record(fieldA), record(fieldBDefault)}, record(fieldBDefault, fieldCDefault), true},

		{"FULL_TRANSITIVE checks every version", FullTransitive,
			[]string{record(fieldA), record(fieldBDefault)}, record(fieldBDefault, fieldCDefault), false},
		{"FULL_TRANSITIVE compatible with all", FullTransitive,
			[]string{record(fieldADefault), record(fieldADefault, fieldBDefault)}, record(fieldADefault, fieldBDefault, fieldCDefault), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newServer(t, Config{})
			setLevel(t, srv, "s", None)
			for _, schema := range tt.history {
				register(t, srv, "s", schema)
			}
			setLevel(t, srv, "s", tt.level)

			check := call(t, srv, http.MethodPost, "/compatibility/subjects/s/versions?verbose=true", map[string]string{"schema": tt.candidate})
			var verdict compatibilityResponse
			decode(t, check, &verdict)
			if verdict.IsCompatible != tt.want {
				t.Errorf("compatibility check: is_compatible %v, want %v; messages %q", verdict.IsCompatible, tt.want, verdict.Messages)
			}
			if !tt.want && len(verdict.Messages) == 0 {
				t.Errorf("compatibility check: no messages explain the refusal")
			}

			resp := call(t, srv, http.MethodPost, "/subjects/s/versions", map[string]string{"schema": tt.candidate})
			switch {
			case tt.want && resp.status != http.StatusOK:
				t.Errorf("register: %d %s, want 200", resp.status, resp.body)
			case !tt.want && resp.status != http.StatusConflict:
				t.Errorf("register: %d %s, want 409", resp.status, resp.body)
			case !tt.want && errorCode(t, resp) != codeIncompatibleSchema:
				t.Errorf("register: body %s, want error_code 409", resp.body)
			}
		})
	}
}

// setLevel sets subject's own compatibility level.
func setLevel(t *testing.T, srv *httptest.Server, subject string, level Compatibility) {
	t.Helper()
	resp := call(t, srv, http.MethodPut, "/config/"+subject, map[string]string{"compatibility": string(level)})
	if resp.status != http.StatusOK {
		t.Fatalf("set level: %d %s", resp.status, resp.body)
	}
}

func TestCompatibilityEndpoint(t *testing.T) {
	srv, _ := newServer(t, Config{})
	setLevel(t, srv, "s", None)
	register(t, srv, "s", record(fieldA))
	register(t, srv, "s", record(fieldA, fieldBDefault))
	setLevel(t, srv, "s", BackwardTransitive)
	// A record of b alone reads v2 data, which has b, but not v1 data,
	// which lacks b, and b has no default.
	candidate := map[string]string{"schema": record(fieldB)}
	runSteps(t, srv, []step{
		{name: "against every version", method: "POST", path: "/compatibility/subjects/s/versions", body: candidate,
			wantStatus: 200, wantJSON: `{"is_compatible":false}`},
		{name: "against latest only", method: "POST", path: "/compatibility/subjects/s/versions/latest", body: candidate,
			wantStatus: 200, wantJSON: `{"is_compatible":true}`},
		{name: "against version 2", method: "POST", path: "/compatibility/subjects/s/versions/2", body: candidate,
			wantStatus: 200, wantJSON: `{"is_compatible":true}`},
		{name: "against version 1", method: "POST", path: "/compatibility/subjects/s/versions/1", body: candidate,
			wantStatus: 200, wantJSON: `{"is_compatible":false}`},
		{name: "verbose", method: "POST", path: "/compatibility/subjects/s/versions/1?verbose=true", body: candidate,
			wantStatus: 200, wantJSON: `{"is_compatible":false,"messages":["the new schema cannot read data written with version 1: reader field b is missing in writer schema and has no default"]}`},
		{name: "verbose and compatible", method: "POST", path: "/compatibility/subjects/s/versions/2?verbose=true", body: candidate,
			wantStatus: 200, wantJSON: `{"is_compatible":true,"messages":[]}`},
		{name: "missing version", method: "POST", path: "/compatibility/subjects/s/versions/3", body: candidate, wantStatus: 404, wantCode: 40402},
		{name: "invalid version", method: "POST", path: "/compatibility/subjects/s/versions/zero", body: candidate, wantStatus: 422, wantCode: 42202},
		{name: "unknown subject, latest", method: "POST", path: "/compatibility/subjects/new/versions/latest", body: candidate,
			wantStatus: 200, wantJSON: `{"is_compatible":true}`},
		{name: "unknown subject, version 1", method: "POST", path: "/compatibility/subjects/new/versions/1", body: candidate, wantStatus: 404, wantCode: 40401},
		{name: "invalid schema", method: "POST", path: "/compatibility/subjects/s/versions/latest", body: map[string]string{"schema": "{"},
			wantStatus: 422, wantCode: 42201},
		{name: "nothing was registered", method: "GET", path: "/subjects/s/versions", wantStatus: 200, wantJSON: `[1,2]`},
	})
}

// TestCompatibilityVerdictIgnoresEarlierChecks guards against caching
// verdicts by Parsing Canonical Form, which cannot tell a field with a
// default from one without.
func TestCompatibilityVerdictIgnoresEarlierChecks(t *testing.T) {
	srv, _ := newServer(t, Config{})
	register(t, srv, "s", record(fieldA))
	for _, tt := range []struct {
		candidate string
		want      bool
	}{
		{record(fieldA, fieldB), false},
		{record(fieldA, fieldBDefault), true},
		{record(fieldA, fieldB), false},
	} {
		resp := call(t, srv, http.MethodPost, "/compatibility/subjects/s/versions/latest", map[string]string{"schema": tt.candidate})
		var verdict compatibilityResponse
		if err := json.Unmarshal(resp.body, &verdict); err != nil {
			t.Fatalf("decode %s: %v", resp.body, err)
		}
		if verdict.IsCompatible != tt.want {
			t.Errorf("%s: is_compatible %v, want %v", tt.candidate, verdict.IsCompatible, tt.want)
		}
	}
}
