package registry

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// step is one request and what it must answer. Exactly one of wantCode
// (a Confluent error_code), wantJSON (a JSON value) or wantRaw (a body
// byte for byte) is checked; wantStatus always is.
type step struct {
	name       string
	method     string
	path       string
	body       any
	wantStatus int
	wantCode   int
	wantJSON   string
	wantRaw    string
}

// run sends s and checks the answer.
func (s step) run(t *testing.T, srv *httptest.Server) {
	t.Helper()
	resp := call(t, srv, s.method, s.path, s.body)
	if resp.status != s.wantStatus {
		t.Fatalf("%s %s: status %d, want %d; body %s", s.method, s.path, resp.status, s.wantStatus, resp.body)
	}
	if resp.contentType != contentType {
		t.Errorf("Content-Type %q, want %q", resp.contentType, contentType)
	}
	switch {
	case s.wantCode != 0:
		if got := errorCode(t, resp); got != s.wantCode {
			t.Errorf("error_code %d, want %d; body %s", got, s.wantCode, resp.body)
		}
	case s.wantRaw != "":
		if string(resp.body) != s.wantRaw {
			t.Errorf("body %q, want %q", resp.body, s.wantRaw)
		}
	case s.wantJSON != "":
		if !jsonEqual(t, resp.body, s.wantJSON) {
			t.Errorf("body %s, want %s", resp.body, s.wantJSON)
		}
	}
}

// runSteps runs steps in order against one server; later steps see what
// earlier ones changed.
func runSteps(t *testing.T, srv *httptest.Server, steps []step) {
	t.Helper()
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.run(t, srv) }) {
			t.FailNow()
		}
	}
}

// populated returns a server holding:
//
//	users-value  v1 = userV1 (id 1), v2 = userV2Default (id 2)
//	other        v1 = userV1 (id 1)
//	gone         v1 = "string" (id 3), soft-deleted
func populated(t *testing.T) *httptest.Server {
	t.Helper()
	srv, _ := newServer(t, Config{})
	register(t, srv, "users-value", userV1)
	register(t, srv, "users-value", userV2Default)
	register(t, srv, "other", userV1)
	register(t, srv, "gone", `"string"`)
	if resp := call(t, srv, http.MethodDelete, "/subjects/gone", nil); resp.status != http.StatusOK {
		t.Fatalf("soft-delete gone: %d %s", resp.status, resp.body)
	}
	return srv
}

func TestReadEndpoints(t *testing.T) {
	srv := populated(t)
	v1 := `{"subject":"users-value","version":1,"id":1,"schema":` + quote(userV1) + `}`
	v2 := `{"subject":"users-value","version":2,"id":2,"schema":` + quote(userV2Default) + `}`
	tests := []step{
		{name: "root", method: "GET", path: "/", wantStatus: 200, wantJSON: `{}`},
		{name: "schema types", method: "GET", path: "/schemas/types", wantStatus: 200, wantJSON: `["AVRO"]`},
		{name: "schema by id", method: "GET", path: "/schemas/ids/1", wantStatus: 200, wantJSON: `{"schema":` + quote(userV1) + `}`},
		{name: "schema by unknown id", method: "GET", path: "/schemas/ids/99", wantStatus: 404, wantCode: 40403},
		{name: "schema by non-numeric id", method: "GET", path: "/schemas/ids/abc", wantStatus: 404, wantCode: 40403},
		{name: "schema of deleted subject stays resolvable", method: "GET", path: "/schemas/ids/3", wantStatus: 200, wantJSON: `{"schema":"\"string\""}`},
		{name: "raw schema by id", method: "GET", path: "/schemas/ids/2/schema", wantStatus: 200, wantRaw: userV2Default},
		{name: "raw schema by unknown id", method: "GET", path: "/schemas/ids/7/schema", wantStatus: 404, wantCode: 40403},
		{name: "versions of id", method: "GET", path: "/schemas/ids/1/versions", wantStatus: 200,
			wantJSON: `[{"subject":"other","version":1},{"subject":"users-value","version":1}]`},
		{name: "versions of id used only by deleted", method: "GET", path: "/schemas/ids/3/versions", wantStatus: 200, wantJSON: `[]`},
		{name: "versions of id with deleted", method: "GET", path: "/schemas/ids/3/versions?deleted=true", wantStatus: 200,
			wantJSON: `[{"subject":"gone","version":1}]`},
		{name: "versions of unknown id", method: "GET", path: "/schemas/ids/9/versions", wantStatus: 404, wantCode: 40403},
		{name: "subjects of id", method: "GET", path: "/schemas/ids/1/subjects", wantStatus: 200, wantJSON: `["other","users-value"]`},
		{name: "subjects", method: "GET", path: "/subjects", wantStatus: 200, wantJSON: `["other","users-value"]`},
		{name: "subjects with deleted", method: "GET", path: "/subjects?deleted=true", wantStatus: 200, wantJSON: `["gone","other","users-value"]`},
		{name: "subjects by prefix", method: "GET", path: "/subjects?subjectPrefix=us", wantStatus: 200, wantJSON: `["users-value"]`},
		{name: "versions", method: "GET", path: "/subjects/users-value/versions", wantStatus: 200, wantJSON: `[1,2]`},
		{name: "versions of unknown subject", method: "GET", path: "/subjects/nope/versions", wantStatus: 404, wantCode: 40401},
		{name: "versions of deleted subject", method: "GET", path: "/subjects/gone/versions", wantStatus: 404, wantCode: 40401},
		{name: "versions of deleted subject with deleted", method: "GET", path: "/subjects/gone/versions?deleted=true", wantStatus: 200, wantJSON: `[1]`},
		{name: "version 1", method: "GET", path: "/subjects/users-value/versions/1", wantStatus: 200, wantJSON: v1},
		{name: "version latest", method: "GET", path: "/subjects/users-value/versions/latest", wantStatus: 200, wantJSON: v2},
		{name: "version -1", method: "GET", path: "/subjects/users-value/versions/-1", wantStatus: 200, wantJSON: v2},
		{name: "missing version", method: "GET", path: "/subjects/users-value/versions/3", wantStatus: 404, wantCode: 40402},
		{name: "version of unknown subject", method: "GET", path: "/subjects/nope/versions/1", wantStatus: 404, wantCode: 40401},
		{name: "version zero", method: "GET", path: "/subjects/users-value/versions/0", wantStatus: 422, wantCode: 42202},
		{name: "version -2", method: "GET", path: "/subjects/users-value/versions/-2", wantStatus: 422, wantCode: 42202},
		{name: "version word", method: "GET", path: "/subjects/users-value/versions/first", wantStatus: 422, wantCode: 42202},
		{name: "version past int32", method: "GET", path: "/subjects/users-value/versions/2147483648", wantStatus: 422, wantCode: 42202},
		{name: "soft-deleted version", method: "GET", path: "/subjects/gone/versions/1", wantStatus: 404, wantCode: 40401},
		{name: "soft-deleted version with deleted", method: "GET", path: "/subjects/gone/versions/1?deleted=true", wantStatus: 200,
			wantJSON: `{"subject":"gone","version":1,"id":3,"schema":"\"string\""}`},
		{name: "raw version", method: "GET", path: "/subjects/users-value/versions/1/schema", wantStatus: 200, wantRaw: userV1},
		{name: "raw latest", method: "GET", path: "/subjects/users-value/versions/latest/schema", wantStatus: 200, wantRaw: userV2Default},
		{name: "raw missing version", method: "GET", path: "/subjects/users-value/versions/9/schema", wantStatus: 404, wantCode: 40402},
		{name: "referenced by", method: "GET", path: "/subjects/users-value/versions/1/referencedby", wantStatus: 200, wantJSON: `[]`},
		{name: "global config", method: "GET", path: "/config", wantStatus: 200, wantJSON: `{"compatibilityLevel":"BACKWARD"}`},
		{name: "mode", method: "GET", path: "/mode", wantStatus: 200, wantJSON: `{"mode":"READWRITE"}`},
		{name: "unknown route", method: "GET", path: "/nope", wantStatus: 404, wantCode: 404},
		{name: "wrong method", method: "PUT", path: "/subjects", wantStatus: 405, wantCode: 405},
		{name: "lookup", method: "POST", path: "/subjects/users-value", body: map[string]string{"schema": userV1Spaced},
			wantStatus: 200, wantJSON: v1},
		{name: "lookup unregistered schema", method: "POST", path: "/subjects/users-value", body: map[string]string{"schema": userNoID},
			wantStatus: 404, wantCode: 40403},
		{name: "lookup schema of another subject", method: "POST", path: "/subjects/other", body: map[string]string{"schema": userV2Default},
			wantStatus: 404, wantCode: 40403},
		{name: "lookup in unknown subject", method: "POST", path: "/subjects/nope", body: map[string]string{"schema": userV1},
			wantStatus: 404, wantCode: 40401},
		{name: "lookup in deleted subject", method: "POST", path: "/subjects/gone", body: map[string]string{"schema": `"string"`},
			wantStatus: 404, wantCode: 40401},
		{name: "lookup in deleted subject with deleted", method: "POST", path: "/subjects/gone?deleted=true", body: map[string]string{"schema": `"string"`},
			wantStatus: 200, wantJSON: `{"subject":"gone","version":1,"id":3,"schema":"\"string\""}`},
		{name: "lookup invalid schema", method: "POST", path: "/subjects/users-value", body: map[string]string{"schema": `{"type":"recrod"}`},
			wantStatus: 422, wantCode: 42201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, srv) })
	}
}

func TestRegister(t *testing.T) {
	tests := []struct {
		name  string
		setup map[string][]string // subject -> schemas registered first, in order
		step
		// wantVersions, when set, is GET /subjects/{subject}/versions after.
		subject      string
		wantVersions string
	}{
		{
			name: "first schema gets id 1", subject: "s",
			step:         step{method: "POST", path: "/subjects/s/versions", body: map[string]string{"schema": userV1}, wantStatus: 200, wantJSON: `{"id":1}`},
			wantVersions: `[1]`,
		},
		{
			name: "same schema again keeps its id and version", subject: "s",
			setup:        map[string][]string{"s": {userV1}},
			step:         step{method: "POST", path: "/subjects/s/versions", body: map[string]string{"schema": userV1}, wantStatus: 200, wantJSON: `{"id":1}`},
			wantVersions: `[1]`,
		},
		{
			name: "same schema with other whitespace is the same", subject: "s",
			setup:        map[string][]string{"s": {userV1}},
			step:         step{method: "POST", path: "/subjects/s/versions", body: map[string]string{"schema": userV1Spaced}, wantStatus: 200, wantJSON: `{"id":1}`},
			wantVersions: `[1]`,
		},
		{
			name: "same schema as an older version is not added again", subject: "s",
			setup:        map[string][]string{"s": {userV1, userV2Default}},
			step:         step{method: "POST", path: "/subjects/s/versions", body: map[string]string{"schema": userV1}, wantStatus: 200, wantJSON: `{"id":1}`},
			wantVersions: `[1,2]`,
		},
		{
			name: "identical schema under another subject reuses the id", subject: "t",
			setup:        map[string][]string{"s": {userV1, userV2Default}},
			step:         step{method: "POST", path: "/subjects/t/versions", body: map[string]string{"schema": userV2Default}, wantStatus: 200, wantJSON: `{"id":2}`},
			wantVersions: `[1]`,
		},
		{
			name: "new schema gets the next id and version", subject: "s",
			setup:        map[string][]string{"s": {userV1}},
			step:         step{method: "POST", path: "/subjects/s/versions", body: map[string]string{"schema": userV2Default}, wantStatus: 200, wantJSON: `{"id":2}`},
			wantVersions: `[1,2]`,
		},
		{
			name: "a default differing is a different schema", subject: "s",
			setup: map[string][]string{"s": {userV2Default}},
			step: step{method: "POST", path: "/subjects/s/versions", wantStatus: 200, wantJSON: `{"id":2}`,
				body: map[string]string{"schema": strings.Replace(userV2Default, `"default":""`, `"default":"none"`, 1)}},
			wantVersions: `[1,2]`,
		},
		{
			name: "explicit AVRO type", subject: "s",
			step:         step{method: "POST", path: "/subjects/s/versions", body: map[string]string{"schema": userV1, "schemaType": "AVRO"}, wantStatus: 200, wantJSON: `{"id":1}`},
			wantVersions: `[1]`,
		},
		{
			name: "primitive schema", subject: "key",
			step:         step{method: "POST", path: "/subjects/key/versions", body: map[string]string{"schema": `"string"`}, wantStatus: 200, wantJSON: `{"id":1}`},
			wantVersions: `[1]`,
		},
		{
			name: "subject with an encoded slash", subject: "a%2Fb",
			step:         step{method: "POST", path: "/subjects/a%2Fb/versions", body: map[string]string{"schema": userV1}, wantStatus: 200, wantJSON: `{"id":1}`},
			wantVersions: `[1]`,
		},
		{
			name: "incompatible under BACKWARD", subject: "s",
			setup:        map[string][]string{"s": {userV1}},
			step:         step{method: "POST", path: "/subjects/s/versions", body: map[string]string{"schema": userV2NoDefault}, wantStatus: 409, wantCode: 409},
			wantVersions: `[1]`,
		},
		{name: "malformed Avro JSON", step: step{method: "POST", path: "/subjects/s/versions",
			body: map[string]string{"schema": `{"type":"record",`}, wantStatus: 422, wantCode: 42201}},
		{name: "unknown Avro type", step: step{method: "POST", path: "/subjects/s/versions",
			body: map[string]string{"schema": `{"type":"record","name":"R","fields":[{"name":"a","type":"Missing"}]}`}, wantStatus: 422, wantCode: 42201}},
		{name: "record without name", step: step{method: "POST", path: "/subjects/s/versions",
			body: map[string]string{"schema": `{"type":"record","fields":[]}`}, wantStatus: 422, wantCode: 42201}},
		{name: "default of the wrong type", step: step{method: "POST", path: "/subjects/s/versions",
			body: map[string]string{"schema": `{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]}`}, wantStatus: 422, wantCode: 42201}},
		{name: "empty schema", step: step{method: "POST", path: "/subjects/s/versions",
			body: map[string]string{"schema": ""}, wantStatus: 422, wantCode: 42201}},
		{name: "PROTOBUF refused", step: step{method: "POST", path: "/subjects/s/versions",
			body: map[string]string{"schema": `syntax = "proto3";`, "schemaType": "PROTOBUF"}, wantStatus: 422, wantCode: 42201}},
		{name: "JSON schema refused", step: step{method: "POST", path: "/subjects/s/versions",
			body: map[string]string{"schema": `{"type":"object"}`, "schemaType": "JSON"}, wantStatus: 422, wantCode: 42201}},
		{name: "references refused", step: step{method: "POST", path: "/subjects/s/versions",
			body: map[string]any{"schema": userV1, "references": []map[string]any{{"name": "x.Y", "subject": "y", "version": 1}}}, wantStatus: 422, wantCode: 42201}},
		{name: "body not JSON", step: step{method: "POST", path: "/subjects/s/versions",
			body: `schema=string`, wantStatus: 400, wantCode: 400}},
		{name: "body empty", step: step{method: "POST", path: "/subjects/s/versions",
			body: ``, wantStatus: 400, wantCode: 400}},
		{name: "body with trailing data", step: step{method: "POST", path: "/subjects/s/versions",
			body: `{"schema":"\"int\""} {}`, wantStatus: 400, wantCode: 400}},
		{name: "body over 4 MiB", step: step{method: "POST", path: "/subjects/s/versions",
			body: `{"schema":"` + strings.Repeat(" ", MaxRequestBytes) + `\"int\""}`, wantStatus: 413, wantCode: 413}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newServer(t, Config{})
			for _, subject := range []string{"s", "t"} {
				for _, schema := range tt.setup[subject] {
					register(t, srv, subject, schema)
				}
			}
			tt.step.run(t, srv)
			if tt.wantVersions != "" {
				step{method: "GET", path: "/subjects/" + tt.subject + "/versions", wantStatus: 200, wantJSON: tt.wantVersions}.run(t, srv)
			}
		})
	}
}

func TestRegisterInvalidSchemaMessageComesFromParser(t *testing.T) {
	srv, _ := newServer(t, Config{})
	resp := call(t, srv, "POST", "/subjects/s/versions",
		map[string]string{"schema": `{"type":"record","name":"R","fields":[{"name":"a","type":"Missing"}]}`})
	var body errorBody
	decode(t, resp, &body)
	if !strings.Contains(body.Message, "unknown type: Missing") {
		t.Errorf("message %q does not carry the parser's reason", body.Message)
	}
}

func TestRegisterIncompatibleMessageSaysWhy(t *testing.T) {
	srv, _ := newServer(t, Config{})
	register(t, srv, "s", userV1)
	resp := call(t, srv, "POST", "/subjects/s/versions", map[string]string{"schema": userV2NoDefault})
	var body errorBody
	decode(t, resp, &body)
	for _, want := range []string{"BACKWARD", "version 1", "email", "no default"} {
		if !strings.Contains(body.Message, want) {
			t.Errorf("message %q lacks %q", body.Message, want)
		}
	}
}

func TestRequestContentTypes(t *testing.T) {
	srv, _ := newServer(t, Config{})
	tests := []struct {
		contentType string
		wantStatus  int
	}{
		{"application/vnd.schemaregistry.v1+json", 200},
		{"application/vnd.schemaregistry+json", 200},
		{"application/json", 200},
		{"application/json; charset=utf-8", 200},
		{"", 200},
		{"text/plain", 415},
		{"application/x-www-form-urlencoded", 415},
	}
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			req, err := http.NewRequest("POST", srv.URL+"/subjects/s/versions", strings.NewReader(`{"schema":"\"int\""}`))
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	srv, _ := newServer(t, Config{})
	register(t, srv, "s", userV1)
	register(t, srv, "s", userV2Default)
	register(t, srv, "u", userV1)
	runSteps(t, srv, []step{
		{name: "missing version", method: "DELETE", path: "/subjects/s/versions/3", wantStatus: 404, wantCode: 40402},
		{name: "invalid version", method: "DELETE", path: "/subjects/s/versions/x", wantStatus: 422, wantCode: 42202},
		{name: "unknown subject", method: "DELETE", path: "/subjects/nope/versions/1", wantStatus: 404, wantCode: 40401},
		{name: "permanent before soft", method: "DELETE", path: "/subjects/s/versions/1?permanent=true", wantStatus: 404, wantCode: 40407},
		{name: "soft delete version 1", method: "DELETE", path: "/subjects/s/versions/1", wantStatus: 200, wantJSON: `1`},
		{name: "soft delete twice", method: "DELETE", path: "/subjects/s/versions/1", wantStatus: 404, wantCode: 40406},
		{name: "live versions", method: "GET", path: "/subjects/s/versions", wantStatus: 200, wantJSON: `[2]`},
		{name: "all versions", method: "GET", path: "/subjects/s/versions?deleted=true", wantStatus: 200, wantJSON: `[1,2]`},
		{name: "id 1 still used by u", method: "GET", path: "/schemas/ids/1/versions", wantStatus: 200, wantJSON: `[{"subject":"u","version":1}]`},
		{name: "hard delete version 1", method: "DELETE", path: "/subjects/s/versions/1?permanent=true", wantStatus: 200, wantJSON: `1`},
		{name: "gone even with deleted", method: "GET", path: "/subjects/s/versions?deleted=true", wantStatus: 200, wantJSON: `[2]`},
		{name: "subject permanent before soft", method: "DELETE", path: "/subjects/s?permanent=true", wantStatus: 404, wantCode: 40405},
		{name: "soft delete subject", method: "DELETE", path: "/subjects/s", wantStatus: 200, wantJSON: `[2]`},
		{name: "soft delete subject twice", method: "DELETE", path: "/subjects/s", wantStatus: 404, wantCode: 40404},
		{name: "subject hidden", method: "GET", path: "/subjects", wantStatus: 200, wantJSON: `["u"]`},
		{name: "subject listed with deleted", method: "GET", path: "/subjects?deleted=true", wantStatus: 200, wantJSON: `["s","u"]`},
		{name: "hard delete subject", method: "DELETE", path: "/subjects/s?permanent=true", wantStatus: 200, wantJSON: `[2]`},
		{name: "subject forgotten", method: "GET", path: "/subjects?deleted=true", wantStatus: 200, wantJSON: `["u"]`},
		{name: "delete forgotten subject", method: "DELETE", path: "/subjects/s", wantStatus: 404, wantCode: 40401},
		{name: "ids outlive their subjects", method: "GET", path: "/schemas/ids/2", wantStatus: 200, wantJSON: `{"schema":` + quote(userV2Default) + `}`},
		{name: "re-register keeps the id and restarts versions", method: "POST", path: "/subjects/s/versions",
			body: map[string]string{"schema": userV2Default}, wantStatus: 200, wantJSON: `{"id":2}`},
		{name: "restarted at version 1", method: "GET", path: "/subjects/s/versions/latest", wantStatus: 200,
			wantJSON: `{"subject":"s","version":1,"id":2,"schema":` + quote(userV2Default) + `}`},
		{name: "soft delete latest", method: "DELETE", path: "/subjects/u/versions/latest", wantStatus: 200, wantJSON: `1`},
		{name: "a new schema gets the next id", method: "POST", path: "/subjects/u/versions",
			body: map[string]string{"schema": userNoID}, wantStatus: 200, wantJSON: `{"id":3}`},
	})
}

func TestSoftDeletedVersionsDoNotConstrainNewOnes(t *testing.T) {
	srv, _ := newServer(t, Config{})
	register(t, srv, "s", userV1)
	runSteps(t, srv, []step{
		{name: "refused while v1 is live", method: "POST", path: "/subjects/s/versions",
			body: map[string]string{"schema": userV2NoDefault}, wantStatus: 409, wantCode: 409},
		{name: "soft delete v1", method: "DELETE", path: "/subjects/s/versions/1", wantStatus: 200, wantJSON: `1`},
		{name: "accepted once v1 is deleted", method: "POST", path: "/subjects/s/versions",
			body: map[string]string{"schema": userV2NoDefault}, wantStatus: 200, wantJSON: `{"id":2}`},
		{name: "numbering continues past the deleted version", method: "GET", path: "/subjects/s/versions", wantStatus: 200, wantJSON: `[2]`},
	})
}

func TestConfig(t *testing.T) {
	srv, _ := newServer(t, Config{})
	register(t, srv, "s", userV1)
	runSteps(t, srv, []step{
		{name: "default global", method: "GET", path: "/config", wantStatus: 200, wantJSON: `{"compatibilityLevel":"BACKWARD"}`},
		{name: "set global, lower case", method: "PUT", path: "/config", body: map[string]string{"compatibility": "full"},
			wantStatus: 200, wantJSON: `{"compatibility":"FULL"}`},
		{name: "global set", method: "GET", path: "/config", wantStatus: 200, wantJSON: `{"compatibilityLevel":"FULL"}`},
		{name: "invalid global", method: "PUT", path: "/config", body: map[string]string{"compatibility": "SIDEWAYS"}, wantStatus: 422, wantCode: 42203},
		{name: "missing level", method: "PUT", path: "/config", body: map[string]string{}, wantStatus: 422, wantCode: 42203},
		{name: "malformed body", method: "PUT", path: "/config", body: `{`, wantStatus: 400, wantCode: 400},
		{name: "subject without own level", method: "GET", path: "/config/s", wantStatus: 404, wantCode: 40408},
		{name: "subject defaulting to global", method: "GET", path: "/config/s?defaultToGlobal=true", wantStatus: 200, wantJSON: `{"compatibilityLevel":"FULL"}`},
		{name: "set subject", method: "PUT", path: "/config/s", body: map[string]string{"compatibility": "NONE"}, wantStatus: 200, wantJSON: `{"compatibility":"NONE"}`},
		{name: "subject set", method: "GET", path: "/config/s", wantStatus: 200, wantJSON: `{"compatibilityLevel":"NONE"}`},
		{name: "subject level governs registration", method: "POST", path: "/subjects/s/versions",
			body: map[string]string{"schema": `"string"`}, wantStatus: 200, wantJSON: `{"id":2}`},
		{name: "set subject with compatibilityLevel field", method: "PUT", path: "/config/s", body: map[string]string{"compatibilityLevel": "FORWARD"},
			wantStatus: 200, wantJSON: `{"compatibility":"FORWARD"}`},
		{name: "invalid subject level", method: "PUT", path: "/config/s", body: map[string]string{"compatibility": "x"}, wantStatus: 422, wantCode: 42203},
		{name: "set level of a subject with no schema yet", method: "PUT", path: "/config/fresh", body: map[string]string{"compatibility": "FULL_TRANSITIVE"},
			wantStatus: 200, wantJSON: `{"compatibility":"FULL_TRANSITIVE"}`},
		{name: "such a subject is not listed", method: "GET", path: "/subjects", wantStatus: 200, wantJSON: `["s"]`},
		{name: "delete subject level", method: "DELETE", path: "/config/s", wantStatus: 200, wantJSON: `{"compatibilityLevel":"FORWARD"}`},
		{name: "delete it again", method: "DELETE", path: "/config/s", wantStatus: 404, wantCode: 40408},
		{name: "reset global", method: "DELETE", path: "/config", wantStatus: 200, wantJSON: `{"compatibilityLevel":"FULL"}`},
		{name: "global back to default", method: "GET", path: "/config", wantStatus: 200, wantJSON: `{"compatibilityLevel":"BACKWARD"}`},
		{name: "deleting a subject drops its level", method: "PUT", path: "/config/s", body: map[string]string{"compatibility": "NONE"}, wantStatus: 200},
		{name: "delete subject", method: "DELETE", path: "/subjects/s", wantStatus: 200, wantJSON: `[1,2]`},
		{name: "level gone", method: "GET", path: "/config/s", wantStatus: 404, wantCode: 40408},
	})
}

func TestConfiguredDefaultCompatibility(t *testing.T) {
	srv, _ := newServer(t, Config{DefaultCompatibility: "forward_transitive"})
	step{method: "GET", path: "/config", wantStatus: 200, wantJSON: `{"compatibilityLevel":"FORWARD_TRANSITIVE"}`}.run(t, srv)
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name        string
		cfg         Config
		errContains string
	}{
		{name: "zero value", cfg: Config{}},
		{name: "level and auth", cfg: Config{DefaultCompatibility: Full, BasicAuth: BasicAuth{User: "u", Password: "p"}}},
		{name: "unknown level", cfg: Config{DefaultCompatibility: "SOMETIMES"}, errContains: "DefaultCompatibility"},
		{name: "user without password", cfg: Config{BasicAuth: BasicAuth{User: "u"}}, errContains: "Password is empty"},
		{name: "password without user", cfg: Config{BasicAuth: BasicAuth{Password: "p"}}, errContains: "without BasicAuth.User"},
		{name: "server limits", cfg: Config{Server: ServerLimits{ReadTimeout: time.Second, MaxHeaderBytes: 4096}}},
		{name: "negative read header timeout", cfg: Config{Server: ServerLimits{ReadHeaderTimeout: -1}}, errContains: "Server.ReadHeaderTimeout is negative"},
		{name: "negative read timeout", cfg: Config{Server: ServerLimits{ReadTimeout: -time.Second}}, errContains: "Server.ReadTimeout is negative"},
		{name: "negative write timeout", cfg: Config{Server: ServerLimits{WriteTimeout: -1}}, errContains: "Server.WriteTimeout is negative"},
		{name: "negative idle timeout", cfg: Config{Server: ServerLimits{IdleTimeout: -1}}, errContains: "Server.IdleTimeout is negative"},
		{name: "negative header cap", cfg: Config{Server: ServerLimits{MaxHeaderBytes: -1}}, errContains: "Server.MaxHeaderBytes is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.errContains == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("Validate: %v, want error containing %q", err, tt.errContains)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("Validate: %v does not wrap ErrInvalidConfig", err)
			}
			if _, err := New(tt.cfg); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("New: %v, want ErrInvalidConfig", err)
			}
		})
	}
}
