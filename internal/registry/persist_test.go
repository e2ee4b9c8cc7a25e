package registry

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// restart opens a second registry on dir, as a restarted process would.
func restart(t *testing.T, dir string, first *httptest.Server, reg *Registry) *httptest.Server {
	t.Helper()
	first.Close()
	if err := reg.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	srv, _ := newServer(t, Config{Dir: dir})
	return srv
}

func TestRestartKeepsIDsVersionsAndConfig(t *testing.T) {
	dir := t.TempDir()
	srv, reg := newServer(t, Config{Dir: dir})
	register(t, srv, "s", userV1)        // id 1, s v1
	register(t, srv, "s", userV2Default) // id 2, s v2
	register(t, srv, "u", userV1)        // id 1, u v1
	register(t, srv, "gone", `"string"`) // id 3, gone v1
	runSteps(t, srv, []step{
		{name: "set global", method: "PUT", path: "/config", body: map[string]string{"compatibility": "FULL"}, wantStatus: 200},
		{name: "set subject", method: "PUT", path: "/config/u", body: map[string]string{"compatibility": "NONE"}, wantStatus: 200},
		{name: "soft delete s v1", method: "DELETE", path: "/subjects/s/versions/1", wantStatus: 200},
		{name: "soft delete gone", method: "DELETE", path: "/subjects/gone", wantStatus: 200},
		{name: "hard delete gone", method: "DELETE", path: "/subjects/gone?permanent=true", wantStatus: 200},
	})

	srv = restart(t, dir, srv, reg)
	runSteps(t, srv, []step{
		{name: "schema 1", method: "GET", path: "/schemas/ids/1", wantStatus: 200, wantJSON: `{"schema":` + quote(userV1) + `}`},
		{name: "schema 3 outlives its subject", method: "GET", path: "/schemas/ids/3", wantStatus: 200, wantJSON: `{"schema":"\"string\""}`},
		{name: "s live versions", method: "GET", path: "/subjects/s/versions", wantStatus: 200, wantJSON: `[2]`},
		{name: "s soft-deleted version kept", method: "GET", path: "/subjects/s/versions/1?deleted=true", wantStatus: 200,
			wantJSON: `{"subject":"s","version":1,"id":1,"schema":` + quote(userV1) + `}`},
		{name: "u version", method: "GET", path: "/subjects/u/versions/latest", wantStatus: 200,
			wantJSON: `{"subject":"u","version":1,"id":1,"schema":` + quote(userV1) + `}`},
		{name: "subjects", method: "GET", path: "/subjects?deleted=true", wantStatus: 200, wantJSON: `["s","u"]`},
		{name: "global level", method: "GET", path: "/config", wantStatus: 200, wantJSON: `{"compatibilityLevel":"FULL"}`},
		{name: "subject level", method: "GET", path: "/config/u", wantStatus: 200, wantJSON: `{"compatibilityLevel":"NONE"}`},
		{name: "same schema, same id", method: "POST", path: "/subjects/s/versions",
			body: map[string]string{"schema": userV2Default}, wantStatus: 200, wantJSON: `{"id":2}`},
		{name: "new schema gets a new id", method: "POST", path: "/subjects/u/versions",
			body: map[string]string{"schema": `"int"`}, wantStatus: 200, wantJSON: `{"id":4}`},
		{name: "and the next version", method: "GET", path: "/subjects/u/versions", wantStatus: 200, wantJSON: `[1,2]`},
		{name: "global level still enforced", method: "POST", path: "/subjects/s/versions",
			body: map[string]string{"schema": userNoID}, wantStatus: 409, wantCode: 409},
	})
}

func TestRestartDoesNotReuseIDs(t *testing.T) {
	dir := t.TempDir()
	srv, reg := newServer(t, Config{Dir: dir})
	register(t, srv, "s", `"int"`)
	srv = restart(t, dir, srv, reg)
	if id := register(t, srv, "t", `"long"`); id != 2 {
		t.Errorf("id after restart %d, want 2", id)
	}
}

// TestPersistFailureLeavesStateUnchanged removes the directory under a
// running registry: the write must fail with 50001 and leave no trace.
func TestPersistFailureLeavesStateUnchanged(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reg")
	srv, _ := newServer(t, Config{Dir: dir})
	register(t, srv, "s", userV1)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	runSteps(t, srv, []step{
		{name: "write fails", method: "POST", path: "/subjects/s/versions",
			body: map[string]string{"schema": userV2Default}, wantStatus: 500, wantCode: 50001},
		{name: "no new version", method: "GET", path: "/subjects/s/versions", wantStatus: 200, wantJSON: `[1]`},
		{name: "no new id", method: "GET", path: "/schemas/ids/2", wantStatus: 404, wantCode: 40403},
		{name: "delete fails", method: "DELETE", path: "/subjects/s/versions/1", wantStatus: 500, wantCode: 50001},
		{name: "version still live", method: "GET", path: "/subjects/s/versions", wantStatus: 200, wantJSON: `[1]`},
		{name: "level change fails", method: "PUT", path: "/config/s", body: map[string]string{"compatibility": "NONE"}, wantStatus: 500, wantCode: 50001},
		{name: "no level", method: "GET", path: "/config/s", wantStatus: 404, wantCode: 40408},
	})
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	step{name: "next write takes the id the failed one did not", method: "POST", path: "/subjects/s/versions",
		body: map[string]string{"schema": userV2Default}, wantStatus: 200, wantJSON: `{"id":2}`}.run(t, srv)
}

func TestLoadRemovesStaleTempFiles(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, snapshotName+".123.tmp")
	if err := os.WriteFile(stale, []byte(`{"format":1,"ne`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Dir: dir}); err != nil {
		t.Fatalf("New: %v", err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temp file still there (stat: %v)", err)
	}
}

func TestLoadRejectsBadSnapshots(t *testing.T) {
	tests := []struct {
		name        string
		snapshot    string
		errContains string
	}{
		{"truncated", `{"format":1,"next_id":2,"schemas":[{"id":1,"sch`, "decode snapshot"},
		{"unknown format", `{"format":9,"next_id":1}`, "unsupported format 9"},
		{"next id below 1", `{"format":1,"next_id":0}`, "next_id 0"},
		{"id not below next id", `{"format":1,"next_id":2,"schemas":[{"id":2,"schema":"\"int\""}]}`, "schema id 2 outside"},
		{"duplicate id", `{"format":1,"next_id":3,"schemas":[{"id":1,"schema":"\"int\""},{"id":1,"schema":"\"long\""}]}`, "appears twice"},
		{"unparsable schema", `{"format":1,"next_id":2,"schemas":[{"id":1,"schema":"{"}]}`, "schema id 1"},
		{"version of unknown id", `{"format":1,"next_id":2,"schemas":[{"id":1,"schema":"\"int\""}],
			"subjects":[{"name":"s","versions":[{"version":1,"id":5}]}]}`, "unknown schema id 5"},
		{"versions out of order", `{"format":1,"next_id":2,"schemas":[{"id":1,"schema":"\"int\""}],
			"subjects":[{"name":"s","versions":[{"version":2,"id":1},{"version":1,"id":1}]}]}`, "out of order"},
		{"bad level", `{"format":1,"next_id":1,"compatibility":"SOMETIMES"}`, "global level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, snapshotName), []byte(tt.snapshot), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := New(Config{Dir: dir})
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("New: %v, want error containing %q", err, tt.errContains)
			}
		})
	}
}

func TestClosedRegistryRefusesWrites(t *testing.T) {
	srv, reg := newServer(t, Config{})
	register(t, srv, "s", userV1)
	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}
	runSteps(t, srv, []step{
		{name: "write refused", method: "POST", path: "/subjects/s/versions",
			body: map[string]string{"schema": userV2Default}, wantStatus: http.StatusInternalServerError, wantCode: 50001},
		{name: "reads still served", method: "GET", path: "/subjects/s/versions", wantStatus: 200, wantJSON: `[1]`},
	})
}
