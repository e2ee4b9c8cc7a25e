package registry

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

// bigSchema is a record whose doc makes its text about size bytes, none of
// which JSON escapes; i makes it distinct.
func bigSchema(i, size int) string {
	doc := strings.Repeat(string(rune('a'+i%26)), size)
	return `{"type":"record","name":"Big` + strconv.Itoa(i) + `","doc":"` + doc + `","fields":[{"name":"id","type":"long"}]}`
}

// fileState is what a test remembers of one file in a data directory.
type fileState struct {
	info fs.FileInfo
	sum  [sha256.Size]byte // of its content
}

// dirFiles reads every regular file in dir.
func dirFiles(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]fileState{}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = fileState{info: info, sum: sha256.Sum256(data)}
	}
	return out
}

// dataFile returns the one file a registry keeps in dir.
func dataFile(t *testing.T, dir string) string {
	t.Helper()
	files := dirFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("%d files in %s, want one", len(files), dir)
	}
	for name := range files {
		return filepath.Join(dir, name)
	}
	panic("unreachable")
}

func totalSize(files map[string]fileState) int64 {
	var n int64
	for _, f := range files {
		n += f.info.Size()
	}
	return n
}

// TestEachWriteAppendsOnlyItsChange registers twelve schemas of about 1 MB.
// Each registration must leave every file in the directory in place (the
// same inode), its earlier bytes untouched, and add about the new schema's
// size, not the whole state's; the directory ends near the sum of the
// schemas, and a restart serves them all.
func TestEachWriteAppendsOnlyItsChange(t *testing.T) {
	dir := t.TempDir()
	srv, reg := newServer(t, Config{Dir: dir})
	const n, size = 12, 1_000_000
	schemas := make([]string, n)
	var sum int64
	for i := range schemas {
		schemas[i] = bigSchema(i, size)
		before := dirFiles(t, dir)
		if id := register(t, srv, "big-"+strconv.Itoa(i), schemas[i]); id != i+1 {
			t.Fatalf("schema %d got id %d", i, id)
		}
		after := dirFiles(t, dir)
		for name, old := range before {
			now, ok := after[name]
			switch {
			case !ok:
				t.Fatalf("write %d removed %s", i, name)
			case !os.SameFile(old.info, now.info):
				t.Fatalf("write %d replaced %s rather than appending to it", i, name)
			}
			f, err := os.Open(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			_, err = io.CopyN(h, f, old.info.Size())
			f.Close()
			if err != nil || !bytes.Equal(h.Sum(nil), old.sum[:]) {
				t.Fatalf("write %d changed the first %d bytes of %s (err %v)", i, old.info.Size(), name, err)
			}
		}
		grew := totalSize(after) - totalSize(before)
		if grew < int64(len(schemas[i])) || grew > int64(len(schemas[i]))+1024 {
			t.Errorf("write %d of a %d-byte schema grew the directory by %d bytes", i, len(schemas[i]), grew)
		}
		sum += int64(len(schemas[i]))
	}
	if total := totalSize(dirFiles(t, dir)); total > sum+n*1024 {
		t.Errorf("directory holds %d bytes for %d bytes of schemas", total, sum)
	}

	srv = restart(t, dir, srv, reg)
	for i, schema := range schemas {
		resp := call(t, srv, http.MethodGet, "/schemas/ids/"+strconv.Itoa(i+1)+"/schema", nil)
		if resp.status != http.StatusOK || string(resp.body) != schema {
			t.Errorf("after restart, schema %d: %d, %d bytes (want the %d registered)", i+1, resp.status, len(resp.body), len(schema))
		}
	}
}

// populateAndClose writes a few changes of every kind to a registry in dir
// and closes it.
func populateAndClose(t *testing.T, dir string) {
	t.Helper()
	srv, reg := newServer(t, Config{Dir: dir})
	register(t, srv, "s", userV1)
	register(t, srv, "s", userV2Default)
	register(t, srv, "t", `"string"`)
	runSteps(t, srv, []step{
		{name: "level", method: "PUT", path: "/config/t", body: map[string]string{"compatibility": "NONE"}, wantStatus: 200},
		{name: "soft delete", method: "DELETE", path: "/subjects/s/versions/1", wantStatus: 200},
	})
	srv.Close()
	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}
}

// populatedSteps check what populateAndClose wrote.
var populatedSteps = []step{
	{name: "s versions", method: "GET", path: "/subjects/s/versions?deleted=true", wantStatus: 200, wantJSON: `[1,2]`},
	{name: "s live", method: "GET", path: "/subjects/s/versions", wantStatus: 200, wantJSON: `[2]`},
	{name: "t", method: "GET", path: "/subjects/t/versions/1", wantStatus: 200,
		wantJSON: `{"subject":"t","version":1,"id":3,"schema":"\"string\""}`},
	{name: "t level", method: "GET", path: "/config/t", wantStatus: 200, wantJSON: `{"compatibilityLevel":"NONE"}`},
}

// TestTornLastLineIsCutOff appends to the log what a crash during a write
// can leave: the registry starts, drops it, keeps everything before it and
// appends after it.
func TestTornLastLineIsCutOff(t *testing.T) {
	line, err := encodeLine(&change{Op: opVersion, Subject: "t", Version: 2, ID: 4, Schema: `"long"`})
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(line)
	flipped[len(flipped)/2] ^= 0x20
	tests := []struct {
		name string
		tail []byte
	}{
		{"half a line", line[:len(line)/2]},
		{"a line without its end", line[:len(line)-1]},
		{"a whole line with a damaged byte", flipped},
		{"zeros", make([]byte, 4096)},
		{"zeros and an end of line", append(make([]byte, 100), '\n')},
		{"one byte", []byte("0")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			populateAndClose(t, dir)
			path := dataFile(t, dir)
			intact := dirFiles(t, dir)[filepath.Base(path)]
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(tt.tail); err != nil {
				t.Fatal(err)
			}
			f.Close()

			srv, reg := newServer(t, Config{Dir: dir})
			if got := dirFiles(t, dir)[filepath.Base(path)]; got.info.Size() != intact.info.Size() || got.sum != intact.sum {
				t.Fatalf("log is %d bytes after the start, want the %d before the torn line", got.info.Size(), intact.info.Size())
			}
			runSteps(t, srv, populatedSteps)
			register(t, srv, "t", `"long"`)
			srv = restart(t, dir, srv, reg)
			runSteps(t, srv, append(slices.Clone(populatedSteps),
				step{name: "write after the cut", method: "GET", path: "/subjects/t/versions", wantStatus: 200, wantJSON: `[1,2]`}))
		})
	}
}

// TestDamagedLineBeforeTheLastIsAnError damages a line that other lines
// follow, which no crash does: the registry refuses to start, names the
// line and its offset, and leaves the file as it was.
func TestDamagedLineBeforeTheLastIsAnError(t *testing.T) {
	// populateAndClose's log: header, s v1, s v2, t v1, t's level, the
	// deletion of s v1.
	tests := []struct {
		name   string
		damage func(lines [][]byte) [][]byte // lines end with '\n'
		line   int                           // the line named
		want   string
	}{
		{"a flipped byte", func(lines [][]byte) [][]byte {
			lines[2][len(lines[2])/2] ^= 0x01
			return lines
		}, 3, "damaged line: checksum"},
		{"a line cut short", func(lines [][]byte) [][]byte {
			lines[2] = append(lines[2][:len(lines[2])/2], '\n')
			return lines
		}, 3, "damaged line"},
		{"a line of garbage", func(lines [][]byte) [][]byte {
			return slices.Insert(lines, 2, []byte("garbage\n"))
		}, 3, "damaged line: no checksum"},
		{"a line missing", func(lines [][]byte) [][]byte {
			return slices.Delete(lines, 1, 2) // s v1, which the last line deletes
		}, 5, `change does not apply: delete unknown version 1 of subject "s"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			populateAndClose(t, dir)
			path := dataFile(t, dir)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			lines := tt.damage(bytes.SplitAfter(data, []byte("\n")))
			damaged := bytes.Join(lines, nil)
			if err := os.WriteFile(path, damaged, 0o644); err != nil {
				t.Fatal(err)
			}
			offset := 0
			for _, l := range lines[:tt.line-1] {
				offset += len(l)
			}
			_, err = New(Config{Dir: dir})
			want := fmt.Sprintf("%s line %d (byte offset %d): %s", path, tt.line, offset, tt.want)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("New: %v, want an error containing %q", err, want)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, damaged) {
				t.Errorf("the refused start changed the log")
			}
		})
	}
}

// olderSnapshot is a registry.json as versions before the log wrote it:
// a global and a subject level, a soft-deleted version, an id whose
// versions were deleted for good, and next_id past the last id.
const olderSnapshot = `{
  "format": 1,
  "next_id": 6,
  "compatibility": "FULL",
  "schemas": [
    {"id": 1, "schema": "{\"type\":\"record\",\"name\":\"User\",\"namespace\":\"test\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"}]}"},
    {"id": 2, "schema": "{\"type\":\"record\",\"name\":\"User\",\"namespace\":\"test\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"},{\"name\":\"email\",\"type\":\"string\",\"default\":\"\"}]}"},
    {"id": 4, "schema": "\"bytes\""}
  ],
  "subjects": [
    {"name": "s", "versions": [{"version": 1, "id": 1, "deleted": true}, {"version": 2, "id": 2}]},
    {"name": "u", "compatibility": "NONE", "versions": [{"version": 1, "id": 1}]}
  ]
}`

// olderSnapshotSteps check what olderSnapshot holds.
var olderSnapshotSteps = []step{
	{name: "global level", method: "GET", path: "/config", wantStatus: 200, wantJSON: `{"compatibilityLevel":"FULL"}`},
	{name: "subject level", method: "GET", path: "/config/u", wantStatus: 200, wantJSON: `{"compatibilityLevel":"NONE"}`},
	{name: "soft-deleted version", method: "GET", path: "/subjects/s/versions?deleted=true", wantStatus: 200, wantJSON: `[1,2]`},
	{name: "live version", method: "GET", path: "/subjects/s/versions", wantStatus: 200, wantJSON: `[2]`},
	{name: "id without versions", method: "GET", path: "/schemas/ids/4", wantStatus: 200, wantJSON: `{"schema":"\"bytes\""}`},
	{name: "same schema, same id", method: "POST", path: "/subjects/u/versions",
		body: map[string]string{"schema": userV1}, wantStatus: 200, wantJSON: `{"id":1}`},
}

// TestOlderSnapshotIsMigrated opens a data directory an older version
// wrote: its snapshot becomes the log, once, and is kept aside for a
// rollback; later writes append, and a restart replays them.
func TestOlderSnapshotIsMigrated(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, snapshotName), []byte(olderSnapshot), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, reg := newServer(t, Config{Dir: dir})
	runSteps(t, srv, olderSnapshotSteps)
	files := dirFiles(t, dir)
	if _, ok := files[snapshotName]; ok {
		t.Errorf("%s still in place after the migration", snapshotName)
	}
	if kept, ok := files[snapshotName+".migrated"]; !ok || kept.sum != sha256.Sum256([]byte(olderSnapshot)) {
		t.Errorf("the snapshot was not kept, unchanged, as %s.migrated", snapshotName)
	}
	if _, ok := files[logName]; !ok {
		t.Fatalf("no %s after the migration", logName)
	}
	step{name: "a new id after next_id", method: "POST", path: "/subjects/v/versions",
		body: map[string]string{"schema": `"int"`}, wantStatus: 200, wantJSON: `{"id":6}`}.run(t, srv)

	srv = restart(t, dir, srv, reg)
	runSteps(t, srv, append(slices.Clone(olderSnapshotSteps),
		step{name: "written after the migration", method: "GET", path: "/subjects/v/versions/1", wantStatus: 200,
			wantJSON: `{"subject":"v","version":1,"id":6,"schema":"\"int\""}`}))
}

// TestSnapshotBesideTheLog covers a start that finds both files: the
// snapshot the log was made from (a crash between writing the log and
// moving the snapshot aside) is moved aside now; any other is an error
// naming both files, since which one to keep is the operator's call.
func TestSnapshotBesideTheLog(t *testing.T) {
	tests := []struct {
		name        string
		snapshot    string
		errContains string
	}{
		{name: "the migrated one", snapshot: olderSnapshot},
		{name: "a later one", snapshot: strings.Replace(olderSnapshot, `"FULL"`, `"NONE"`, 1), errContains: "is not the one the log was made from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			snapshotPath := filepath.Join(dir, snapshotName)
			if err := os.WriteFile(snapshotPath, []byte(olderSnapshot), 0o644); err != nil {
				t.Fatal(err)
			}
			reg, err := New(Config{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			reg.Close()
			if err := os.WriteFile(snapshotPath, []byte(tt.snapshot), 0o644); err != nil {
				t.Fatal(err)
			}
			reg, err = New(Config{Dir: dir})
			if tt.errContains != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errContains) ||
					!strings.Contains(err.Error(), snapshotPath) || !strings.Contains(err.Error(), filepath.Join(dir, logName)) {
					t.Fatalf("New: %v, want an error naming both files containing %q", err, tt.errContains)
				}
				if _, err := os.Stat(snapshotPath); err != nil {
					t.Errorf("the refused start moved the snapshot: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			reg.Close()
			if _, err := os.Stat(snapshotPath); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("snapshot still in place (stat: %v)", err)
			}
		})
	}
}

// TestLogRemovedUnderARunningRegistry removes the log file: the next write
// puts it back from memory, whole, and a restart sees everything.
func TestLogRemovedUnderARunningRegistry(t *testing.T) {
	dir := t.TempDir()
	srv, reg := newServer(t, Config{Dir: dir})
	register(t, srv, "s", userV1)
	if err := os.Remove(filepath.Join(dir, logName)); err != nil {
		t.Fatal(err)
	}
	register(t, srv, "s", userV2Default)
	srv = restart(t, dir, srv, reg)
	step{name: "both versions", method: "GET", path: "/subjects/s/versions", wantStatus: 200, wantJSON: `[1,2]`}.run(t, srv)
}

// TestStartRewritesALogOfMostlyReplacedLines writes a log where one level
// was set thousands of times: the start replays it to the last value and
// rewrites it to the few lines the state needs.
func TestStartRewritesALogOfMostlyReplacedLines(t *testing.T) {
	dir := t.TempDir()
	var log bytes.Buffer
	changes := []*change{
		{Op: opHeader, Format: logFormat, NextID: 1},
		{Op: opVersion, Subject: "s", Version: 1, ID: 1, Schema: userV1},
	}
	levels := []Compatibility{None, Full}
	for i := range 3 * compactSlack {
		changes = append(changes, &change{Op: opLevel, Subject: "s", Level: levels[i%2]})
	}
	for _, c := range changes {
		line, err := encodeLine(c)
		if err != nil {
			t.Fatal(err)
		}
		log.Write(line)
	}
	if err := os.WriteFile(filepath.Join(dir, logName), log.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, _ := newServer(t, Config{Dir: dir})
	runSteps(t, srv, []step{
		{name: "last level", method: "GET", path: "/config/s", wantStatus: 200, wantJSON: `{"compatibilityLevel":"FULL"}`},
		{name: "version", method: "GET", path: "/subjects/s/versions", wantStatus: 200, wantJSON: `[1]`},
	})
	data, err := os.ReadFile(filepath.Join(dir, logName))
	if err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Count(data, []byte("\n")); lines != 3 {
		t.Errorf("log has %d lines after the start, want 3 (header, version, level)", lines)
	}
}
