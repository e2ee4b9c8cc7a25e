package registry

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/riferrei/srclient"
)

// subjectRoutes is every route that takes a subject, as a path format
// with %s for the escaped subject and the body it needs.
var subjectRoutes = []struct {
	name   string
	method string
	path   string
	body   any
}{
	{"register", http.MethodPost, "/subjects/%s/versions", map[string]string{"schema": userV1}},
	{"lookup", http.MethodPost, "/subjects/%s", map[string]string{"schema": userV1}},
	{"versions", http.MethodGet, "/subjects/%s/versions", nil},
	{"version", http.MethodGet, "/subjects/%s/versions/1", nil},
	{"raw version", http.MethodGet, "/subjects/%s/versions/latest/schema", nil},
	{"referenced by", http.MethodGet, "/subjects/%s/versions/1/referencedby", nil},
	{"delete subject", http.MethodDelete, "/subjects/%s", nil},
	{"delete version", http.MethodDelete, "/subjects/%s/versions/1", nil},
	{"get level", http.MethodGet, "/config/%s", nil},
	{"set level", http.MethodPut, "/config/%s", map[string]string{"compatibility": "NONE"}},
	{"delete level", http.MethodDelete, "/config/%s", nil},
	{"compatibility", http.MethodPost, "/compatibility/subjects/%s/versions", map[string]string{"schema": userV1}},
	{"compatibility with latest", http.MethodPost, "/compatibility/subjects/%s/versions/latest", map[string]string{"schema": userV1}},
}

// TestSubjectNamesRefused sends every route a subject that Confluent's
// rules, or this registry's where Confluent's are silent, refuse: each
// answers 422 with error code 42208 and a message saying which rule, and
// nothing is created.
func TestSubjectNamesRefused(t *testing.T) {
	srv, _ := newServer(t, Config{})
	tests := []struct {
		name    string
		escaped string // as it appears in the path
		reason  string
	}{
		{"empty", "", "empty or only white space"},
		{"a space", "%20", "empty or only white space"},
		{"white space", "%09%20%E3%80%80", "empty or only white space"},
		{"NUL", "a%00b", "control character U+0000 at byte 1"},
		{"newline", "a%0Ab", "control character U+000A at byte 1"},
		{"DEL", "ab%7F", "control character U+007F at byte 2"},
		{"C1 control", "a%C2%85", "control character U+0085 at byte 1"},
		{"invalid UTF-8", "a%FFb", "not valid UTF-8"},
		{"one byte too long", strings.Repeat("x", MaxSubjectBytes+1), "1025 bytes long, over the limit of 1024"},
		{"100 KB", strings.Repeat("y", 100<<10), "102400 bytes long"},
		{"Confluent's global subject", "__GLOBAL", "reserved"},
		{"Confluent's empty subject", "__EMPTY", "reserved"},
		{"Confluent's global context", ":.__GLOBAL:s", "reserved for global settings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, route := range subjectRoutes {
				path := strings.Replace(route.path, "%s", tt.escaped, 1)
				resp := call(t, srv, route.method, path, route.body)
				if resp.status != http.StatusUnprocessableEntity {
					t.Fatalf("%s %s: status %d, want 422; body %.200s", route.method, route.name, resp.status, resp.body)
				}
				var body errorBody
				decode(t, resp, &body)
				if body.ErrorCode != codeInvalidSubject {
					t.Errorf("%s: error_code %d, want %d", route.name, body.ErrorCode, codeInvalidSubject)
				}
				if !strings.Contains(body.Message, tt.reason) {
					t.Errorf("%s: message %q does not say %q", route.name, body.Message, tt.reason)
				}
				if len(body.Message) > 256 {
					t.Errorf("%s: message of %d bytes echoes too much of the name", route.name, len(body.Message))
				}
			}
		})
	}
	step{name: "nothing was created", method: http.MethodGet, path: "/subjects?deleted=true", wantStatus: 200, wantJSON: `[]`}.run(t, srv)
}

// TestSubjectNamesAccepted registers names at the edges of the rules and
// reads each back under the same name.
func TestSubjectNamesAccepted(t *testing.T) {
	srv, _ := newServer(t, Config{})
	names := []string{
		"a b",                                // inner white space: Confluent allows it
		" padded ",                           // and surrounding white space
		"ünïcödé-value",                      // any printable Unicode
		"a/b",                                // a slash, escaped in the path
		"+",                                  // srclient sends "+" for a space
		":.ctx:s",                            // a context-qualified name
		"__GLOBALS",                          // near a reserved name
		strings.Repeat("z", MaxSubjectBytes), // exactly the limit
	}
	for _, name := range names {
		register(t, srv, url.PathEscape(name), userV1)
		resp := call(t, srv, http.MethodGet, "/subjects/"+url.PathEscape(name)+"/versions", nil)
		if resp.status != http.StatusOK || !jsonEqual(t, resp.body, `[1]`) {
			t.Errorf("versions of %.40q: %d %s", name, resp.status, resp.body)
		}
	}
	var listed []string
	decode(t, call(t, srv, http.MethodGet, "/subjects", nil), &listed)
	want := slices.Sorted(slices.Values(names))
	if !slices.Equal(listed, want) {
		t.Errorf("GET /subjects = %.200q, want %.200q", listed, want)
	}
}

// TestSubjectNamesRefusedWithSrclient checks that the client the scorer
// uses gets the 42208 code back.
func TestSubjectNamesRefusedWithSrclient(t *testing.T) {
	srv, _ := newServer(t, Config{})
	client := srclient.NewSchemaRegistryClient(srv.URL)
	client.CachingEnabled(false)
	for _, subject := range []string{"a\x00b", "\xff", strings.Repeat("s", MaxSubjectBytes+1), "__GLOBAL"} {
		_, err := client.CreateSchema(subject, userV1, srclient.Avro)
		var srErr srclient.Error
		if !errors.As(err, &srErr) || srErr.Code != codeInvalidSubject {
			t.Errorf("CreateSchema(%.20q): %v, want error code %d", subject, err, codeInvalidSubject)
		}
	}
	if subjects, err := client.GetSubjects(); err != nil || len(subjects) != 0 {
		t.Errorf("GetSubjects: %q, %v; want none", subjects, err)
	}
}

// TestSubjectRefusedNowStaysReadable opens a data directory written before
// the rules, holding a subject named " ": it can still be read, checked
// against and deleted, but not written to.
func TestSubjectRefusedNowStaysReadable(t *testing.T) {
	dir := t.TempDir()
	snapshot := `{"format":1,"next_id":2,"schemas":[{"id":1,"schema":` + quote(quote("string")) + `}],` +
		`"subjects":[{"name":" ","versions":[{"version":1,"id":1}]}]}`
	if err := os.WriteFile(filepath.Join(dir, snapshotName), []byte(snapshot), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, _ := newServer(t, Config{Dir: dir})
	runSteps(t, srv, []step{
		{name: "read", method: "GET", path: "/subjects/%20/versions/1", wantStatus: 200,
			wantJSON: `{"subject":" ","version":1,"id":1,"schema":"\"string\""}`},
		{name: "lookup", method: "POST", path: "/subjects/%20", body: map[string]string{"schema": `"string"`}, wantStatus: 200,
			wantJSON: `{"subject":" ","version":1,"id":1,"schema":"\"string\""}`},
		{name: "compatibility", method: "POST", path: "/compatibility/subjects/%20/versions/latest",
			body: map[string]string{"schema": `"string"`}, wantStatus: 200, wantJSON: `{"is_compatible":true}`},
		{name: "no new version", method: "POST", path: "/subjects/%20/versions",
			body: map[string]string{"schema": `"string"`}, wantStatus: 422, wantCode: codeInvalidSubject},
		{name: "no level", method: "PUT", path: "/config/%20", body: map[string]string{"compatibility": "NONE"},
			wantStatus: 422, wantCode: codeInvalidSubject},
		{name: "soft delete", method: "DELETE", path: "/subjects/%20", wantStatus: 200, wantJSON: `[1]`},
		{name: "hard delete", method: "DELETE", path: "/subjects/%20?permanent=true", wantStatus: 200, wantJSON: `[1]`},
		{name: "gone, and now refused", method: "GET", path: "/subjects/%20/versions", wantStatus: 422, wantCode: codeInvalidSubject},
	})
}
