package httpserve_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"testing"
	"time"

	"github.com/streamscore/streamscore/internal/httpserve"
)

// failSafe bounds how long a test waits for the server to act before it
// fails. The limits under test are a few hundred milliseconds; failSafe is
// below every default (10 s for headers, 30 s for a request, 2 min idle),
// so a test passes only if the configured limit, not a default, acted.
const failSafe = 8 * time.Second

// serve runs Serve with cfg on a port of its own until the test ends, and
// checks that it then shuts down cleanly.
func serve(t *testing.T, cfg httpserve.Config, h http.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- httpserve.Serve(ctx, l, h, cfg, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return l.Addr().String()
}

// dial connects a raw TCP client, closed when the test ends.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// dribble writes one byte of b at a time, every interval, until the
// connection refuses one or stop closes: a client that keeps a request
// going as slowly as it can.
func dribble(conn net.Conn, b []byte, interval time.Duration, stop <-chan struct{}) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for i := 0; ; i = (i + 1) % len(b) {
		select {
		case <-stop:
			return
		case <-ticker.C:
		}
		if _, err := conn.Write(b[i : i+1]); err != nil {
			return
		}
	}
}

// waitClosed reads, discarding, until the server closes the connection,
// and fails the test if it is still open after failSafe.
func waitClosed(t *testing.T, conn net.Conn) {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(failSafe)); err != nil {
		t.Fatal(err)
	}
	_, err := io.Copy(io.Discard, conn)
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		t.Fatalf("the server kept the connection open for %s", failSafe)
	}
	// io.Copy's nil is EOF: closed. A reset is closed too.
}

// TestServeCutsOffSlowClients has a real TCP client hold a connection each
// way a slow or idle client can, and waits for the server to close it.
func TestServeCutsOffSlowClients(t *testing.T) {
	const limit = 300 * time.Millisecond
	big := make([]byte, 32<<20) // more than loopback's socket buffers hold

	cases := []struct {
		name string
		cfg  httpserve.Config
		// client holds the connection; handled reports what the handler
		// saw, if it ran.
		client func(t *testing.T, conn net.Conn, stop <-chan struct{})
		// handlerErr says the handler must have seen its read or write
		// fail; false: the handler must not have run at all.
		handlerErr bool
	}{
		{
			name: "headers sent slowly",
			cfg:  httpserve.Config{ReadHeaderTimeout: limit, ReadTimeout: time.Hour},
			client: func(t *testing.T, conn net.Conn, stop <-chan struct{}) {
				if _, err := io.WriteString(conn, "GET /read HTTP/1.1\r\nHost: x\r\n"); err != nil {
					t.Fatal(err)
				}
				go dribble(conn, []byte("X-Slow: aaaa\r\n"), 10*time.Millisecond, stop)
			},
		},
		{
			name: "body sent slowly",
			cfg:  httpserve.Config{ReadHeaderTimeout: limit, ReadTimeout: limit},
			client: func(t *testing.T, conn net.Conn, stop <-chan struct{}) {
				if _, err := io.WriteString(conn, "PUT /read HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n"); err != nil {
					t.Fatal(err)
				}
				go dribble(conn, []byte("{"), 10*time.Millisecond, stop)
			},
			handlerErr: true,
		},
		{
			name: "response read slowly",
			cfg:  httpserve.Config{WriteTimeout: limit},
			client: func(t *testing.T, conn net.Conn, stop <-chan struct{}) {
				if _, err := io.WriteString(conn, "GET /write HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
					t.Fatal(err)
				}
				// and reads nothing: the server must give up writing.
			},
			handlerErr: true,
		},
		{
			name: "idle after a request",
			cfg:  httpserve.Config{IdleTimeout: limit},
			client: func(t *testing.T, conn net.Conn, stop <-chan struct{}) {
				if _, err := io.WriteString(conn, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
					t.Fatal(err)
				}
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || resp.Close {
					t.Fatalf("status %d, close %v: want a kept-alive 200", resp.StatusCode, resp.Close)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			handled := make(chan error, 1)
			mux := http.NewServeMux()
			mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
				_, err := io.ReadAll(r.Body)
				handled <- err
			})
			mux.HandleFunc("/write", func(w http.ResponseWriter, r *http.Request) {
				_, err := w.Write(big)
				handled <- err
			})
			mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "hello")
			})
			conn := dial(t, serve(t, c.cfg, mux))
			stop := make(chan struct{})
			defer close(stop)

			c.client(t, conn, stop)
			if c.handlerErr {
				select {
				case err := <-handled:
					var netErr net.Error
					if !errors.As(err, &netErr) || !netErr.Timeout() {
						t.Fatalf("the handler saw %v, want a timeout", err)
					}
				case <-time.After(failSafe):
					t.Fatalf("the handler was not cut off within %s", failSafe)
				}
			}
			waitClosed(t, conn)
			if !c.handlerErr {
				select {
				case err := <-handled:
					t.Fatalf("the handler ran (err %v) for a request that never arrived", err)
				default:
				}
			}
		})
	}
}

// TestServeLetsLongResponsesFinish checks that the limits bound a client's
// pace, not a handler's: with every limit far shorter than the work, a
// handler that works, writes part of its answer, works again and writes a
// body larger than one write step still gets it all to the client, and so
// does a CPU profile (the scorer's -pprof).
func TestServeLetsLongResponsesFinish(t *testing.T) {
	const limit = 100 * time.Millisecond
	cfg := httpserve.Config{ReadHeaderTimeout: limit, ReadTimeout: limit, WriteTimeout: limit, IdleTimeout: time.Minute}
	tail := strings.Repeat("x", 1<<20)
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// The work is what must outlast the limits: a training answered
		// synchronously takes minutes.
		time.Sleep(3 * limit)
		io.WriteString(w, "head\n")
		w.(http.Flusher).Flush()
		time.Sleep(3 * limit)
		io.WriteString(w, tail)
	})
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	addr := serve(t, cfg, mux)
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)

	cases := []struct {
		name, method, path, body string
		check                    func(body string) bool
	}{
		{"slow handler", http.MethodPut, "/slow", `{"rows": []}`, func(b string) bool { return b == "head\n"+tail }},
		{"one-second CPU profile", http.MethodGet, "/debug/pprof/profile?seconds=1", "", func(b string) bool { return len(b) > 0 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, "http://"+addr+c.path, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("reading the response: %v", err)
			}
			if resp.StatusCode != http.StatusOK || !c.check(string(body)) {
				t.Fatalf("status %d, %d bytes: %.200s", resp.StatusCode, len(body), body)
			}
		})
	}
}

func TestServeRefusesOversizedHeaders(t *testing.T) {
	addr := serve(t, httpserve.Config{MaxHeaderBytes: 4 << 10}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	cases := []struct {
		name   string
		header int
		want   int
	}{
		{"within the limit", 2 << 10, http.StatusOK},
		// net/http allows 4 KiB over MaxHeaderBytes.
		{"over it", 16 << 10, http.StatusRequestHeaderFieldsTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Big", strings.Repeat("a", c.header))
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*httpserve.Config)
		want string // empty: valid
	}{
		{"defaults", func(*httpserve.Config) {}, ""},
		{"no header timeout", func(c *httpserve.Config) { c.ReadHeaderTimeout = 0 }, "http-read-header-timeout: 0s is not positive"},
		{"negative read timeout", func(c *httpserve.Config) { c.ReadTimeout = -time.Second }, "http-read-timeout: -1s is not positive"},
		{"no write timeout", func(c *httpserve.Config) { c.WriteTimeout = 0 }, "http-write-timeout: 0s is not positive"},
		{"no idle timeout", func(c *httpserve.Config) { c.IdleTimeout = 0 }, "http-idle-timeout: 0s is not positive"},
		{"headers longer than the request", func(c *httpserve.Config) { c.ReadHeaderTimeout = time.Hour }, "http-read-header-timeout: 1h0m0s is longer than http-read-timeout"},
		{"no header bytes", func(c *httpserve.Config) { c.MaxHeaderBytes = 0 }, "http-max-header-bytes: 0 is not positive"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := httpserve.DefaultConfig()
			c.edit(&cfg)
			err := cfg.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want %q", err, c.want)
			}
		})
	}
}
