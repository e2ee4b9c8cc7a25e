package registry

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// nestedArrays is a schema whose JSON nests depth objects.
func nestedArrays(depth int) string {
	return strings.Repeat(`{"type":"array","items":`, depth) + `"int"` + strings.Repeat(`}`, depth)
}

// wideRecord is a record named name with n int fields.
func wideRecord(name string, n int) string {
	fields := make([]string, n)
	for i := range fields {
		fields[i] = fmt.Sprintf(`{"name":"f%d","type":"int"}`, i)
	}
	return `{"type":"record","name":"` + name + `","fields":[` + strings.Join(fields, ",") + `]}`
}

// wideUnion is a union of n distinct fixed types.
func wideUnion(n int) string {
	branches := make([]string, n)
	for i := range branches {
		branches[i] = fmt.Sprintf(`{"type":"fixed","name":"F%d","size":1}`, i)
	}
	return "[" + strings.Join(branches, ",") + "]"
}

// wideEnum is an enum of n symbols.
func wideEnum(n int) string {
	symbols := make([]string, n)
	for i := range symbols {
		symbols[i] = fmt.Sprintf(`"S%d"`, i)
	}
	return `{"type":"enum","name":"E","symbols":[` + strings.Join(symbols, ",") + `]}`
}

// schemaOfSize is bigSchema padded to exactly n bytes.
func schemaOfSize(n int) string {
	return bigSchema(0, n-len(bigSchema(0, 0)))
}

// TestSchemaLimits registers schemas at and just over each limit on what
// one schema may cost: at the limit they are taken, over it they get 422
// with Confluent's "schema too large" code and a message naming the limit
// and the part over it.
func TestSchemaLimits(t *testing.T) {
	tests := []struct {
		name     string
		schema   string
		wantCode int    // 0: registered
		contains string // in the message
	}{
		{"1 MiB", schemaOfSize(MaxSchemaBytes), 0, ""},
		{"1 MiB and a byte", schemaOfSize(MaxSchemaBytes + 1), codeSchemaTooLarge, "1048577 bytes, over the registry's limit of 1048576"},
		{"nesting at the limit", nestedArrays(MaxSchemaDepth), 0, ""},
		{"nesting over the limit", nestedArrays(MaxSchemaDepth + 1), codeSchemaTooLarge, "nests 129 levels, over the registry's limit of 128"},
		{"record of 4096 fields", wideRecord("R", 4096), 0, ""},
		{"record of 4097 fields", wideRecord("R", 4097), codeSchemaTooLarge, `record "R" with 4097 fields`},
		{"two records of 3000 fields", `{"type":"record","name":"Top","fields":[{"name":"a","type":` + wideRecord("A", 3000) +
			`},{"name":"b","type":` + wideRecord("B", 3000) + `}]}`, codeSchemaTooLarge, "with 3000 fields"},
		{"enum of 4096 symbols", wideEnum(4096), 0, ""},
		{"enum of 4097 symbols", wideEnum(4097), codeSchemaTooLarge, `enum "E" with 4097 symbols`},
		{"union of 512 branches", wideUnion(512), 0, ""},
		{"union of 513 branches", wideUnion(513), codeSchemaTooLarge, "a union of 513 branches"},
		{"a parser error quoting a long name", `"` + strings.Repeat("n", 500_000) + `"`, codeInvalidSchema, "bytes in all)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newServer(t, Config{})
			resp := call(t, srv, http.MethodPost, "/subjects/s/versions", map[string]string{"schema": tt.schema})
			if tt.wantCode == 0 {
				if resp.status != http.StatusOK {
					t.Fatalf("register: %d %.300s", resp.status, resp.body)
				}
				return
			}
			if resp.status != http.StatusUnprocessableEntity {
				t.Fatalf("register: status %d, want 422; body %.300s", resp.status, resp.body)
			}
			var body errorBody
			decode(t, resp, &body)
			if body.ErrorCode != tt.wantCode || !strings.Contains(body.Message, tt.contains) {
				t.Errorf("answer %d %q, want code %d and a message containing %q", body.ErrorCode, body.Message, tt.wantCode, tt.contains)
			}
			if len(body.Message) > 2*maxMessageBytes {
				t.Errorf("message of %d bytes", len(body.Message))
			}
		})
	}
}

// TestSchemaLimitsOnEveryRoute: lookups and compatibility tests parse and
// check the schema too, so they are held to the same limits.
func TestSchemaLimitsOnEveryRoute(t *testing.T) {
	srv, _ := newServer(t, Config{})
	register(t, srv, "s", userV1)
	body := map[string]string{"schema": wideRecord("test.User", 4097)}
	for _, path := range []string{"/subjects/s/versions", "/subjects/s", "/compatibility/subjects/s/versions", "/compatibility/subjects/s/versions/1"} {
		step{name: path, method: http.MethodPost, path: path, body: body, wantStatus: 422, wantCode: codeSchemaTooLarge}.run(t, srv)
	}
}

func TestHTTPServerLimits(t *testing.T) {
	tests := []struct {
		name   string
		limits ServerLimits
		want   ServerLimits
	}{
		{"defaults", ServerLimits{}, ServerLimits{
			ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second,
			IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
		}},
		{"set", ServerLimits{ReadHeaderTimeout: 1, ReadTimeout: 2, WriteTimeout: 3, IdleTimeout: 4, MaxHeaderBytes: 5},
			ServerLimits{ReadHeaderTimeout: 1, ReadTimeout: 2, WriteTimeout: 3, IdleTimeout: 4, MaxHeaderBytes: 5}},
		{"some set", ServerLimits{ReadTimeout: time.Minute}, ServerLimits{
			ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: 60 * time.Second,
			IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, err := New(Config{Server: tt.limits})
			if err != nil {
				t.Fatal(err)
			}
			srv := reg.HTTPServer()
			got := ServerLimits{srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes}
			if got != tt.want {
				t.Errorf("server limits %+v, want %+v", got, tt.want)
			}
			if srv.Handler == nil || srv.ErrorLog == nil {
				t.Errorf("server without handler or error log")
			}
		})
	}
}

// serve runs reg.Serve on a fresh listener for the test's lifetime and
// returns the address.
func serve(t *testing.T, reg *Registry) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- reg.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// dialServer connects to addr; failAfter bounds how long the test waits
// for the server, so a server that never acts fails it rather than hangs.
func dialServer(t *testing.T, addr string) net.Conn {
	t.Helper()
	const failAfter = 20 * time.Second
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(failAfter)); err != nil {
		t.Fatal(err)
	}
	return conn
}

// TestServerCutsASlowBody sends headers promising a body and then only part
// of it: the server must give up on the body and close the connection.
func TestServerCutsASlowBody(t *testing.T) {
	reg, err := New(Config{Server: ServerLimits{ReadTimeout: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	conn := dialServer(t, serve(t, reg))
	if _, err := io.WriteString(conn, "POST /subjects/s/versions HTTP/1.1\r\nHost: registry\r\n"+
		"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"schema\":"); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(conn); err != nil {
		t.Fatalf("the server kept the connection with a stalled body open: %v", err)
	}
	if got := reg.subjects(true, ""); len(got) != 0 {
		t.Errorf("subjects %q after a cut request", got)
	}
}

// TestServerClosesIdleConnections answers one request on a keep-alive
// connection and then must close it once idle.
func TestServerClosesIdleConnections(t *testing.T) {
	reg, err := New(Config{Server: ServerLimits{IdleTimeout: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	conn := dialServer(t, serve(t, reg))
	if _, err := io.WriteString(conn, "GET /schemas/types HTTP/1.1\r\nHost: registry\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("first answer %d, close %v; want a kept-alive 200", resp.StatusCode, resp.Close)
	}
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Fatalf("idle connection not closed by the server: read %q, %v", rest, err)
	}
}

// TestServerRefusesHugeHeaders sends a request line of 100 KB (a subject
// that long): the server answers 431 before any handler sees it.
func TestServerRefusesHugeHeaders(t *testing.T) {
	reg, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, reg)
	resp, err := http.Get("http://" + addr + "/subjects/" + strings.Repeat("x", 100<<10) + "/versions")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status %d, want 431", resp.StatusCode)
	}
}
