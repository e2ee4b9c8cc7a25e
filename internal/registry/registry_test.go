package registry

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
)

// TestConcurrentRegistrationsAgreeOnIDs has goroutines register the same
// schemas under their own subjects at once: every schema must end up with
// one id everywhere and the ids must be exactly 1..n.
func TestConcurrentRegistrationsAgreeOnIDs(t *testing.T) {
	srv, _ := newServer(t, Config{Dir: t.TempDir(), DefaultCompatibility: None})
	const workers, schemas = 8, 10
	ids := make([][]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range schemas {
				// Workers go through the schemas in different orders.
				n := (i + w) % schemas
				schema := `{"type":"fixed","name":"F` + strconv.Itoa(n) + `","size":4}`
				resp := call(t, srv, http.MethodPost, fmt.Sprintf("/subjects/w%d/versions", w), map[string]string{"schema": schema})
				var out struct{ ID int }
				decode(t, resp, &out)
				if ids[w] == nil {
					ids[w] = make([]int, schemas)
				}
				ids[w][n] = out.ID
				// Readers run alongside the writers.
				call(t, srv, http.MethodGet, "/subjects", nil)
			}
		})
	}
	wg.Wait()
	seen := map[int]bool{}
	for n := range schemas {
		for w := range workers {
			if ids[w][n] != ids[0][n] {
				t.Errorf("schema %d: worker %d got id %d, worker 0 got %d", n, w, ids[w][n], ids[0][n])
			}
		}
		seen[ids[0][n]] = true
	}
	for id := 1; id <= schemas; id++ {
		if !seen[id] {
			t.Errorf("id %d not handed out; ids %v", id, ids[0])
		}
	}
}

// TestConcurrentDeletesAndReads runs one writer cycling a subject through
// register, soft delete and hard delete while readers list its versions.
// Under -race it catches a write that changes state readers can see; every
// answer must be a version list or "subject not found".
func TestConcurrentDeletesAndReads(t *testing.T) {
	srv, _ := newServer(t, Config{})
	const rounds = 30
	var wg sync.WaitGroup
	wg.Go(func() {
		for range rounds {
			register(t, srv, "s", userV1)
			call(t, srv, http.MethodDelete, "/subjects/s/versions/1", nil)
			call(t, srv, http.MethodDelete, "/subjects/s/versions/1?permanent=true", nil)
		}
	})
	for range 2 {
		wg.Go(func() {
			for range rounds * 3 {
				resp := call(t, srv, http.MethodGet, "/subjects/s/versions?deleted=true", nil)
				switch {
				case resp.status == http.StatusOK:
					var versions []int
					decode(t, resp, &versions)
					if len(versions) != 1 || versions[0] != 1 {
						t.Errorf("versions %v, want [1]", versions)
					}
				case resp.status != http.StatusNotFound || errorCode(t, resp) != codeSubjectNotFound:
					t.Errorf("read: %d %s", resp.status, resp.body)
				}
			}
		})
	}
	wg.Wait()
}

func TestServeStopsWithContext(t *testing.T) {
	reg, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- reg.Serve(ctx, ln) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/schemas/types")
	if err != nil {
		t.Fatalf("GET while serving: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !jsonEqual(t, body, `["AVRO"]`) {
		t.Fatalf("GET while serving: %d %s", resp.StatusCode, body)
	}

	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve after cancel: %v", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/"); err == nil {
		t.Errorf("server still answering after Serve returned")
	}
}

func TestServeReportsListenerFailure(t *testing.T) {
	reg, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if err := reg.Serve(t.Context(), ln); err == nil {
		t.Fatalf("Serve on a closed listener returned nil")
	}
}

// BenchmarkRegister measures registering a new version (the write path:
// clone, compatibility check, snapshot) in registries holding 10 and 1000
// other schemas, in memory and on disk, where the fsyncs dominate. Each
// iteration registers the one of two compatible schemas that is not live,
// then (untimed) deletes the previous version, so the state stays the same
// size across iterations.
func BenchmarkRegister(b *testing.B) {
	schemas := [2]string{userV1, userV2Default}
	for _, size := range []int{10, 1000} {
		for _, onDisk := range []bool{false, true} {
			name := fmt.Sprintf("schemas=%d/memory", size)
			if onDisk {
				name = fmt.Sprintf("schemas=%d/dir", size)
			}
			b.Run(name, func(b *testing.B) {
				cfg := Config{}
				if onDisk {
					cfg.Dir = b.TempDir()
				}
				srv, _ := newServer(b, cfg)
				for i := range size {
					register(b, srv, "other-"+strconv.Itoa(i), `{"type":"fixed","name":"F","size":`+strconv.Itoa(i+1)+`}`)
				}
				register(b, srv, "bench", schemas[0])
				b.ResetTimer()
				for i := range b.N {
					resp := call(b, srv, http.MethodPost, "/subjects/bench/versions", map[string]string{"schema": schemas[(i+1)%2]})
					if resp.status != http.StatusOK {
						b.Fatalf("register: %d %s", resp.status, resp.body)
					}
					b.StopTimer()
					previous := "/subjects/bench/versions/" + strconv.Itoa(i+1)
					call(b, srv, http.MethodDelete, previous, nil)
					if resp := call(b, srv, http.MethodDelete, previous+"?permanent=true", nil); resp.status != http.StatusOK {
						b.Fatalf("delete %s: %d %s", previous, resp.status, resp.body)
					}
					b.StartTimer()
				}
			})
		}
	}
}

// BenchmarkGetSchemaByID measures the read clients do for every unknown id.
func BenchmarkGetSchemaByID(b *testing.B) {
	srv, _ := newServer(b, Config{})
	register(b, srv, "s", userV1)
	b.ResetTimer()
	for range b.N {
		if resp := call(b, srv, http.MethodGet, "/schemas/ids/1", nil); resp.status != http.StatusOK {
			b.Fatalf("get: %d", resp.status)
		}
	}
}
